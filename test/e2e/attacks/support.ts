// What the attack suite needs beyond the shared harness: a hostile attestation store, signing
// variants the harness does not offer, a log running on another clock, and the assertions every
// attack shares (refused, named, nothing ran, nothing written).
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { attest } from 'sigstore';
import {
  IN_TOTO_PAYLOAD_TYPE,
  provenanceStatement,
  publishStatement,
} from '../../../plugin/sources/signing/statement';
import type { BuiltPackage } from '../../harness/packages';
import { repoRoot, requireBuilt, serverBin, tempDir } from '../../harness/paths';
import { type RunResult, startAnnouncing, stopChild } from '../../harness/process';
import type { Scope } from '../../harness/scope';
import { type SigstoreServer, type TestIdentity, workflowClaims } from '../../harness/sigstore';
import type { YarnProject } from '../../harness/yarn-project';

// biome-ignore lint/suspicious/noExplicitAny: bundles are JSON documents the attacks edit field by field
export type Bundle = Record<string, any>;

/**
 * An attestation store run by the attacker: answers GET /-/npm/v1/attestations/<name>@<version>
 * with whatever bundles were put there, unverified (a real store would verify; a hostile one
 * serves anything), and 404 for everything else.
 */
export interface HostileStore {
  url: string;
  serve(name: string, version: string, bundles: Bundle[]): void;
}

export async function startHostileStore(scope: Scope): Promise<HostileStore> {
  const served = new Map<string, Bundle[]>();
  const prefix = '/-/npm/v1/attestations/';
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0] ?? '';
    const key = path.startsWith(prefix) ? decodeURIComponent(path.slice(prefix.length)) : '';
    const bundles = served.get(key);
    if (req.method !== 'GET' || !bundles) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const attestations = bundles.map((bundle) => ({ predicateType: predicateTypeOf(bundle), bundle }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ attestations }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.defer(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    serve: (name, version, bundles) => {
      served.set(`${name}@${version}`, bundles);
    },
  };
}

function predicateTypeOf(bundle: Bundle): string | undefined {
  const payload = bundle?.dsseEnvelope?.payload;
  if (typeof payload !== 'string') return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64').toString('utf8')).predicateType;
  } catch {
    return undefined;
  }
}

/** A registry URL as Yarn prints it in its own messages (npmRegistryServer has no trailing slash). */
export const withoutSlash = (url: string): string => url.replace(/\/$/, '');

export const copyBundle = (bundle: Bundle): Bundle => structuredClone(bundle);

/**
 * Keyless-signs an npm attestation for the exact tarball with the certificate from `ca` and the
 * log entry from `log` (normally the same instance). `kind` picks the statement: a publish
 * attestation (a signature only) or SLSA provenance (workflow identities only).
 */
export async function signWith(
  ca: SigstoreServer,
  pkg: BuiltPackage,
  identity: TestIdentity,
  options: { kind: 'publish' | 'provenance'; registry: string; logUrl?: string },
): Promise<Bundle> {
  const subject = { name: pkg.name, version: pkg.version, integrity: pkg.integrity };
  let statement: Record<string, unknown>;
  if (options.kind === 'provenance') {
    if (identity.kind !== 'workflow') throw new Error('provenance needs a workflow identity');
    statement = provenanceStatement(subject, workflowClaims(identity));
  } else {
    statement = publishStatement(subject, options.registry);
  }
  const bundle = await attest(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE, {
    fulcioURL: ca.url,
    rekorURL: options.logUrl ?? ca.url,
    identityToken: await ca.token(identity),
    tlogUpload: true,
  });
  return JSON.parse(JSON.stringify(bundle));
}

/**
 * A second process of the same Sigstore instance (a copy of its keys, an empty log) whose clock
 * runs `offsetMs` ahead: what a log with a skewed or attacker-set clock integrates is still signed
 * by the instance's real log key, so the SET, checkpoint and inclusion proof all verify.
 */
export async function startSkewedLog(
  scope: Scope,
  instance: SigstoreServer,
  offsetMs: number,
): Promise<{ url: string }> {
  const dataDir = join(tempDir('server-skewed'), 'data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  cpSync(join(instance.dataDir, 'keys'), join(dataDir, 'keys'), { recursive: true });
  const clock = join(repoRoot, 'test/e2e/attacks/clock-offset.cjs');
  const started = await startAnnouncing<{ url: string }>(
    process.execPath,
    ['--require', clock, requireBuilt(serverBin), '--data', dataDir, '--port', '0'],
    {
      cwd: dataDir,
      name: 'tollgate-server (skewed clock)',
      env: { ...process.env, TOLLGATE_TEST_CLOCK_OFFSET_MS: String(offsetMs) },
    },
  );
  scope.defer(() => stopChild(started.child));
  return { url: started.ready.url };
}

/** What an attack must not change: yarn.lock and package.json, byte for byte. */
export interface ProjectSnapshot {
  lockfile: string;
  manifest: string;
  nodeModules: string[];
}

export function snapshot(project: YarnProject): ProjectSnapshot {
  return {
    lockfile: project.exists('yarn.lock') ? project.read('yarn.lock') : '(absent)',
    manifest: project.read('package.json'),
    nodeModules: project.exists('node_modules') ? readdirSync(join(project.dir, 'node_modules')).sort() : [],
  };
}

/**
 * The install (or audit) was refused with exit 1, its output names the attack, and yarn.lock,
 * package.json and node_modules are exactly as before.
 */
export function assertRefused(
  res: RunResult,
  project: YarnProject,
  before: ProjectSnapshot,
  reasons: RegExp[],
): void {
  assert.equal(res.code, 1, `expected a refusal (exit 1), got ${res.code}:\n${res.output}`);
  for (const reason of reasons) {
    assert.match(res.output, reason, `the output does not name the attack (${reason}):\n${res.output}`);
  }
  const after = snapshot(project);
  assert.equal(after.lockfile, before.lockfile, 'yarn.lock is unchanged');
  assert.equal(after.manifest, before.manifest, 'package.json is unchanged');
  assert.deepEqual(after.nodeModules, before.nodeModules, 'nothing new was linked');
}

/** The package's postinstall marker is absent: its code never ran. */
export function assertNeverRan(markerDir: string, marker: string): void {
  assert.equal(existsSync(join(markerDir, marker)), false, `the lifecycle script of ${marker} ran`);
}

/** What a fresh clone of a zero-install repository has: no node_modules, no install state. */
export function freshClone(yarn: YarnProject): void {
  rmSync(join(yarn.dir, 'node_modules'), { recursive: true, force: true });
  rmSync(join(yarn.dir, '.yarn/install-state.gz'), { force: true });
}

export function cacheArchive(yarn: YarnProject, name: string): string {
  const found = readdirSync(join(yarn.dir, '.yarn/cache')).filter((f) => f.startsWith(`${name}-npm-`));
  assert.equal(found.length, 1, `one cache archive of ${name}: ${found.join(', ')}`);
  return found[0]!;
}

export function lockfileChecksum(lockfile: string, resolution: string): string {
  const entry = lockfile.split('\n\n').find((block) => block.includes(`resolution: "${resolution}"`));
  const checksum = entry?.match(/^ {2}checksum: (\S+)$/m)?.[1];
  assert.ok(checksum, `yarn.lock has a checksum for ${resolution}`);
  return checksum;
}
