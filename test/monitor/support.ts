// What the monitor tests share: the built executable, a real webhook receiver on loopback, real git
// repositories with tags, a second process of a tollgate-server instance (its keys copied: the
// attacker's forked log), and a switchable proxy that lets the test choose which log a monitor sees
// (and play a log that lacks an endpoint).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { attest } from 'sigstore';
import { IN_TOTO_PAYLOAD_TYPE, publishStatement } from '../../plugin/sources/signing/statement';
import type { BuiltPackage } from '../harness/packages';
import { repoRoot, requireBuilt, serverBin, tempDir } from '../harness/paths';
import { type RunResult, run, startAnnouncing, stopChild } from '../harness/process';
import type { Scope } from '../harness/scope';
import type { SigstoreServer } from '../harness/sigstore';

export const monitorBin = join(repoRoot, 'dist/tollgate-monitor.cjs');

/**
 * Removes a folder this test created under the system temp folder, and nothing else: anything that is
 * not a `tollgate-*` folder directly inside it is refused (a wrong dirname must never reach /tmp itself).
 */
export function removeTemporary(dir: string): void {
  const resolved = resolve(dir);
  if (dirname(resolved) !== resolve(tmpdir()) || !basename(resolved).startsWith('tollgate-')) {
    throw new Error(`refusing to remove ${resolved}: not a tollgate-* folder directly in ${tmpdir()}`);
  }
  rmSync(resolved, { recursive: true, force: true });
}

/** A temporary folder removed by `cleanup` (a scope closed after the servers using it have stopped). */
export function temporary(cleanup: Scope, prefix: string): string {
  const dir = tempDir(prefix);
  cleanup.defer(() => removeTemporary(dir));
  return dir;
}

/** Removes the temporary folder holding a harness server's data folder once the server has stopped. */
export function removeLater(cleanup: Scope, server: { dataDir: string }): void {
  cleanup.defer(() => removeTemporary(dirname(server.dataDir)));
}

export function runMonitor(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunResult> {
  return run(process.execPath, [requireBuilt(monitorBin), ...args], { cwd, env, timeoutMs: 120_000 });
}

/** NDJSON lines of a `--json` run. */
// biome-ignore lint/suspicious/noExplicitAny: NDJSON records read field by field
export function ndjson(stdout: string): Record<string, any>[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}

export interface WebhookReceiver {
  url: string;
  /** every request received, in order, with the status it was answered */
  // biome-ignore lint/suspicious/noExplicitAny: webhook payloads are JSON documents
  requests: { body: any; headers: IncomingHttpHeaders; status: number }[];
  /** the status the next requests are answered with (200 by default) */
  respondWith(statuses: number[]): void;
  /** the payloads acknowledged with a 2xx */
  // biome-ignore lint/suspicious/noExplicitAny: webhook payloads are JSON documents
  delivered(): any[];
}

export async function startWebhookReceiver(scope: Scope): Promise<WebhookReceiver> {
  const requests: WebhookReceiver['requests'] = [];
  let queue: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = queue.shift() ?? 200;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      requests.push({ body, headers: req.headers, status });
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.defer(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tollgate`,
    requests,
    respondWith: (statuses) => {
      queue = [...statuses];
    },
    delivered: () => requests.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.body),
  };
}

/** A real git repository with one commit and the given tags; returns its path and the commit. */
export function gitRepository(
  cleanup: Scope,
  tags: string[],
): { path: string; commit: string; tag(name: string): void } {
  const path = temporary(cleanup, 'git');
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: path,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Acme',
        GIT_AUTHOR_EMAIL: 'dev@acme.example',
        GIT_COMMITTER_NAME: 'Acme',
        GIT_COMMITTER_EMAIL: 'dev@acme.example',
      },
    }).trim();
  git('init', '-q');
  writeFileSync(join(path, 'README'), 'acme\n');
  git('add', 'README');
  git('commit', '-q', '-m', 'release');
  const commit = git('rev-parse', 'HEAD');
  const tag = (name: string) => git('tag', '-a', name, '-m', name);
  for (const name of tags) tag(name);
  return { path, commit, tag };
}

/**
 * A second process of the same Sigstore instance: its keys copied, its own (empty) log. It signs
 * with the same CA and log key, so everything it serves verifies: the attacker who holds the log's
 * key and shows some clients another history.
 */
export interface LogCopy {
  url: string;
  /** keyless-signs a publish attestation for the package with an email identity, logged here */
  signAs(email: string, pkg: BuiltPackage): Promise<Record<string, unknown>>;
  treeSize(): Promise<number>;
  stop(): Promise<void>;
}

export async function startLogCopy(scope: Scope, cleanup: Scope, instance: SigstoreServer): Promise<LogCopy> {
  const dataDir = join(temporary(cleanup, 'server-fork'), 'data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  cpSync(join(instance.dataDir, 'keys'), join(dataDir, 'keys'), { recursive: true });
  const started = await startAnnouncing<{ url: string }>(
    process.execPath,
    [requireBuilt(serverBin), '--data', dataDir, '--port', '0'],
    {
      cwd: dataDir,
      name: 'tollgate-server (forked log)',
    },
  );
  scope.defer(() => stopChild(started.child));
  const url = started.ready.url;
  return {
    url,
    async signAs(email, pkg) {
      const res = await fetch(`${url}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub: email, email }),
      });
      const { id_token } = (await res.json()) as { id_token: string };
      const statement = publishStatement(
        { name: pkg.name, version: pkg.version, integrity: pkg.integrity },
        'https://registry.invalid/',
      );
      const bundle = await attest(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE, {
        fulcioURL: url,
        rekorURL: url,
        identityToken: id_token,
        tlogUpload: true,
      });
      return JSON.parse(JSON.stringify(bundle));
    },
    async treeSize() {
      return ((await (await fetch(`${url}/api/v1/log`)).json()) as { treeSize: number }).treeSize;
    },
    stop: () => stopChild(started.child),
  };
}

export interface SwitchableProxy {
  url: string;
  point(target: string): void;
  /** rewrites answers (path with query, body) before they reach the client; undefined = as served */
  rewrite(edit: ((path: string, body: Buffer) => Buffer) | undefined): void;
  /**
   * Sees each request first: may send it to another path, or answer it itself (a log that lacks an
   * endpoint); undefined = forwarded as asked.
   */
  route(decide: ((request: ProxiedRequest) => ProxyRoute | undefined) | undefined): void;
}

export interface ProxiedRequest {
  method: string;
  /** path with query */
  path: string;
  body: Buffer;
}

export type ProxyRoute = { path: string } | { status: number; body: string };

/** Answer headers a proxy must not copy: it sends the (possibly rewritten) body whole. */
const HOP_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/** A reverse proxy the test points at one log or another: which history a monitor is shown. */
export async function startSwitchableProxy(scope: Scope, target: string): Promise<SwitchableProxy> {
  let current = target;
  let edit: ((path: string, body: Buffer) => Buffer) | undefined;
  let decide: ((request: ProxiedRequest) => ProxyRoute | undefined) | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const method = req.method ?? 'GET';
        let path = req.url ?? '/';
        const requestBody = Buffer.concat(chunks);
        const routed = decide?.({ method, path, body: requestBody });
        if (routed && 'status' in routed) {
          res.writeHead(routed.status, { 'content-type': 'application/json' }).end(routed.body);
          return;
        }
        if (routed) path = routed.path;
        const headers: Record<string, string> = {};
        if (req.headers['content-type']) headers['content-type'] = req.headers['content-type'];
        const upstream = await fetch(`${current}${path}`, {
          method,
          headers,
          ...(method === 'GET' || method === 'HEAD' ? {} : { body: requestBody }),
        });
        const served = Buffer.from(await upstream.arrayBuffer());
        const body = edit ? edit(path, served) : served;
        const answerHeaders: Record<string, string> = {};
        upstream.headers.forEach((value, name) => {
          if (!HOP_HEADERS.has(name) && name !== 'content-encoding') answerHeaders[name] = value;
        });
        res.writeHead(upstream.status, answerHeaders).end(body);
      } catch (err) {
        res.writeHead(502).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.defer(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    point: (t) => {
      current = t;
    },
    rewrite: (e) => {
      edit = e;
    },
    route: (d) => {
      decide = d;
    },
  };
}
