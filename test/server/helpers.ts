import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { type SignedEntity, toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { attest } from 'sigstore';
import { type RunningServer, type StartServerOptions, startServer } from '../../server/index';

/** JSON read back in tests, checked and tampered with field by field. */
// biome-ignore lint/suspicious/noExplicitAny: the shape is what the tests assert
export type Json = any;

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
): Promise<{ status: number; json: Json; headers: Headers }> {
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

export const serverExecutable = join(repoRoot, 'dist/tollgate-server.cjs');

export interface CliServer {
  child: ChildProcess;
  ready: { url: string; trustedRoot: string; dataDir: string };
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
  /** SIGKILL to the server's whole process group (the server itself, not a wrapper). */
  kill(): void;
}

/** Runs the built executable (`npm run build` first), in its own process group. */
function spawnExecutable(args: string[]): ChildProcess {
  if (!existsSync(serverExecutable)) {
    throw new Error(`${serverExecutable} is missing: run \`npm run build\` before the server tests`);
  }
  return spawn(process.execPath, [serverExecutable, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export async function spawnCli(t: TestContext, args: string[]): Promise<CliServer> {
  const child = spawnExecutable(args);
  t.after(() => killGroup(child));
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
  return { child, ready: JSON.parse(first), exit, stderr: () => stderr, kill: () => killGroup(child) };
}

/** Runs the built executable to completion (bounded), for commands and refusals to start. */
export async function runCli(
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawnExecutable(args);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => killGroup(child), timeoutMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

/** Sends raw bytes to the server and returns the status code and headers of its answer. */
export async function rawRequest(
  url: string,
  request: string | Buffer,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  socket.setTimeout(30_000, () => socket.destroy(new Error('no answer within 30 s')));
  await once(socket, 'connect');
  socket.write(request);
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    data += d;
    // One answer is enough; the connection may stay open.
    const end = data.indexOf('\r\n\r\n');
    const length = /\r\ncontent-length: (\d+)/i.exec(data);
    if (end >= 0 && length && data.length >= end + 4 + Number(length[1])) socket.end();
  });
  await once(socket, 'close');
  const [head = '', ...rest] = data.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const at = line.indexOf(':');
    headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

// biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field in tests
export async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/** An in-toto statement naming `pkg:npm/<name>@<version>` with the sha512 of `tarball`. */
export function npmStatement(name: string, version: string, tarball: Buffer): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [
        {
          name: `pkg:npm/${name.replace(/^@/, '%40')}@${version}`,
          digest: { sha512: createHash('sha512').update(tarball).digest('hex') },
        },
      ],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { buildDefinition: { buildType: 'https://tollgate.invalid/local' } },
    }),
  );
}

/** A keyless DSSE attestation bundle for name@version, signed and logged by `server` (plain JSON). */
export async function attestPackage(
  server: { url: string },
  name: string,
  version: string,
  options: { email?: string; tarball?: Buffer } = {},
): Promise<Json> {
  const email = options.email ?? 'alice@example.com';
  const token = await devToken(server, { sub: email, email });
  const bundle = await attest(
    npmStatement(name, version, options.tarball ?? Buffer.from(`${name}@${version} tarball`)),
    'application/vnd.in-toto+json',
    { fulcioURL: server.url, rekorURL: server.url, identityToken: token, tlogUpload: true },
  );
  return JSON.parse(JSON.stringify(bundle));
}

/** PUT a bundle into the attestation store, as JSON. */
export async function putAttestation(server: { url: string }, spec: string, body: unknown) {
  const res = await fetch(`${server.url}/-/npm/v1/attestations/${spec}`, {
    method: 'PUT',
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
  return { status: res.status, json: json as Json };
}

/** Waits for a condition that an asynchronous event makes true (bounded; not a timing assertion). */
export async function waitFor(condition: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`gave up waiting for ${what} after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
