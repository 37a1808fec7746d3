import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { type SignedEntity, toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { type RunningServer, type StartServerOptions, startServer } from '../../server/index';

export const repoRoot = new URL('../../', import.meta.url).pathname;

export function tempDir(t: TestContext, prefix = 'tollgate-server-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function startTestServer(
  t: TestContext,
  options: Partial<StartServerOptions> = {},
): Promise<RunningServer> {
  const server = await startServer({ dataDir: tempDir(t), log: () => {}, ...options });
  t.after(() => server.close());
  return server;
}

export async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

export async function devToken(
  server: { url: string },
  request: { sub: string; email?: string; claims?: Record<string, unknown> },
): Promise<string> {
  const { status, json } = await postJson(`${server.url}/oidc/token`, request);
  if (status !== 200) throw new Error(`token request failed: ${status} ${JSON.stringify(json)}`);
  return json.id_token;
}

export async function verifierFor(server: { trustedRootUrl: string }): Promise<Verifier> {
  const root = await (await fetch(server.trustedRootUrl)).json();
  // Default thresholds: one SCT, one tlog entry, one timestamp; nothing is relaxed for this server.
  return new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root)));
}

export function entity(bundle: unknown, artifact?: Buffer): SignedEntity {
  return toSignedEntity(bundleFromJSON(bundle), artifact);
}

export interface CliServer {
  child: ChildProcess;
  ready: { url: string; trustedRoot: string; dataDir: string };
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** Runs server/cli.ts as the executable would run (through tsx, so no build is needed). */
export async function spawnCli(t: TestContext, args: string[]): Promise<CliServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'server/cli.ts'), ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exit.then(({ code }) => {
      throw new Error(`tollgate-server exited with ${code} before it was ready: ${stderr}`);
    }),
  ]);
  return { child, ready: JSON.parse(first), exit, stderr: () => stderr };
}

// biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field in tests
export async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
}
