// Records the real-world mirror once (`npm run bench realworld`): a plain `yarn install` of the project
// (project.ts) without a lockfile, against a recording proxy on 127.0.0.1 that fetches every request
// from the registry npm is configured with and keeps the bytes; then, for every npm package of the
// lockfile Yarn wrote, what Tollgate or a later install may ask for and Yarn did not (the packument in
// its full and abbreviated forms, the per-version document, and the tarballs of optional packages for
// other platforms, which Yarn skips). Finally the recording is replayed: a second plain install from the
// lockfile against the mirror serving the recording only, which must ask for nothing it lacks.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Scope } from '../../test/harness/scope';
import { createYarnProject, type YarnProject } from '../../test/harness/yarn-project';
import { npmConfiguredOptions } from '../fixture/npm-registry';
import { requireFreeSpace } from '../lib/disk';
import { mapBounded } from '../lib/pool';
import { yarnVersion } from '../lib/yarn-runs';
import { auditedEntries, lockfileEntries, npmPackages, packumentPath } from './lockfile';
import { startMirror, statsSince } from './mirror';
import { createMirror } from './mirror-server';
import { realworldProject } from './project';
import {
  bodyPath,
  defaultRealworldDir,
  type Recording,
  readRecording,
  recordingFormat,
  registryDigest,
  writeAtomically,
} from './recording';
import { HOST_PLACEHOLDER, registryHost, withTrailingSlash } from './rewrite';
import { createUpstream } from './upstream';

const partialIndex = 'exchanges.partial.json';
const yarnTimeoutMs = 30 * 60_000;

export interface RecordOptions {
  dir?: string;
  /** record again even when a recording of the same format exists */
  refresh?: boolean;
  log?: (line: string) => void;
}

/** The recording, made now if there is none (needs the registry once). */
export async function recordRealworld(options: RecordOptions = {}): Promise<Recording> {
  const dir = options.dir ?? defaultRealworldDir;
  const log = options.log ?? (() => {});
  const existing = readRecording(dir);
  if (
    !options.refresh &&
    existing?.format === recordingFormat &&
    existsSync(join(dir, 'project/yarn.lock'))
  ) {
    log(`realworld: reusing the recording in ${dir} (${existing.packages} packages, ${existing.recordedAt})`);
    return existing;
  }
  // the recording itself (~0.6 GB with other platforms' binaries), two Yarn caches and node_modules
  requireFreeSpace(dir, 4 * 2 ** 30, 'recording the real-world mirror');
  const npm = await npmConfiguredOptions();
  const registry = npm.registry!;
  const host = registryHost(registry);
  const redact = (text: string) => text.split(host).join('<registry>');
  try {
    return await record(dir, npm, log, redact);
  } catch (error) {
    // the registry is never named in what the bench prints
    throw new Error(redact(error instanceof Error ? error.message : String(error)), { cause: error });
  }
}

async function record(
  dir: string,
  npm: Awaited<ReturnType<typeof npmConfiguredOptions>>,
  log: (line: string) => void,
  redact: (text: string) => string,
): Promise<Recording> {
  const registry = npm.registry!;
  const host = registryHost(registry);
  mkdirSync(dir, { recursive: true });

  const resumed = (() => {
    try {
      return JSON.parse(readFileSync(join(dir, partialIndex), 'utf8')) as Recording['exchanges'];
    } catch {
      return {};
    }
  })();
  const recording: Recording = {
    format: recordingFormat,
    recordedAt: new Date().toISOString(),
    registryDigest: registryDigest(registry),
    yarn: yarnVersion(),
    project: {
      dependencies: { ...realworldProject.dependencies },
      devDependencies: { ...realworldProject.devDependencies },
    },
    packages: 0,
    lockfileEntries: 0,
    // bodies of an interrupted recording are kept and found again by their digest
    exchanges: Object.fromEntries(
      Object.entries(resumed).filter(([, exchange]) => existsSync(bodyPath(dir, exchange.sha256))),
    ),
  };
  const savePartial = () => writeAtomically(join(dir, partialIndex), JSON.stringify(recording.exchanges));

  const scope = new Scope();
  const upstream = createUpstream({ ca: npm.ca ?? null, strictSSL: npm.strictSSL ?? true, concurrency: 16 });
  scope.defer(() => upstream.close());
  let recorded = 0;
  try {
    const mirror = createMirror({
      dir,
      recording,
      registry,
      upstream: async (url, headers) => {
        const response = await upstream.get(url, headers);
        if (++recorded % 200 === 0) {
          log(`realworld: recorded ${recorded} responses`);
          savePartial();
        }
        return response;
      },
      userAgent: `yarn/${yarnVersion()} npm/? node/${process.version}`,
      log: (line) => log(redact(line)),
    });
    const server = createServer(mirror.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    scope.defer(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    mirror.setOrigin(origin);

    // 1. Yarn resolves the project through the recorder, exactly as a first `yarn install` does
    log(`realworld: yarn install of the project (no lockfile) through the recorder`);
    const project = await createYarnProject({ registry: origin });
    project.write(
      'package.json',
      `${JSON.stringify({ name: 'app', private: true, ...realworldProject }, null, 2)}\n`,
    );
    scope.defer(() => discardProject(project));
    const first = await project.yarn(['install', '--mode=skip-build'], { timeoutMs: yarnTimeoutMs });
    if (first.code !== 0) {
      throw new Error(
        `realworld: yarn install through the recorder failed:\n${redact(first.output.slice(-4000))}`,
      );
    }
    const lockfile = project.read('yarn.lock');
    const entries = lockfileEntries(lockfile);
    const packages = npmPackages(entries);
    log(`realworld: the lockfile holds ${packages.length} npm packages; recording what Tollgate may ask for`);

    // 2. per package: both forms of the packument, the per-version document, the tarball
    const hiddenRegistry = withTrailingSlash(new URL(registry).href).split(host).join(HOST_PLACEHOLDER);
    await mapBounded(packages, 16, async ({ name, version }) => {
      const path = packumentPath(name);
      await mirror.ensure('abbreviated', path);
      const full = await mirror.ensure('full', path);
      await mirror.ensure('full', `${path}/${encodeURIComponent(version)}`);
      const document = JSON.parse(readFileSync(bodyPath(dir, full.sha256), 'utf8')) as {
        versions?: Record<string, { dist?: { tarball?: string } }>;
      };
      const tarball = document.versions?.[version]?.dist?.tarball;
      if (!tarball?.startsWith(hiddenRegistry)) {
        throw new Error(
          `realworld: ${name}@${version} has no tarball URL under the registry in its packument`,
        );
      }
      await mirror.ensure('tarball', `/${tarball.slice(hiddenRegistry.length)}`);
    });

    // 3. the project and its lockfile, then the index
    mkdirSync(join(dir, 'project'), { recursive: true });
    copyFileSync(join(project.dir, 'package.json'), join(dir, 'project/package.json'));
    writeFileSync(join(dir, 'project/yarn.lock'), lockfile);
    recording.packages = packages.length;
    recording.lockfileEntries = auditedEntries(entries).length;
    writeAtomically(join(dir, 'recording.json'), `${JSON.stringify(recording, null, 1)}\n`);
    rmSync(join(dir, partialIndex), { force: true });
    const bytes = Object.values(recording.exchanges).reduce((sum, e) => sum + e.bytes, 0);
    log(
      `realworld: recorded ${Object.keys(recording.exchanges).length} exchanges ` +
        `(${(bytes / 2 ** 20).toFixed(0)} MiB as served, ${recorded} fetched now) into ${dir}`,
    );
  } catch (error) {
    savePartial();
    throw error;
  } finally {
    await scope.close();
  }

  // 4. replay: a CI checkout's install from the recording alone
  await replayCheck(dir, log);
  return recording;
}

/** A plain install of the recorded lockfile against the mirror serving the recording only. */
async function replayCheck(dir: string, log: (line: string) => void): Promise<void> {
  const scope = new Scope();
  try {
    const mirror = await startMirror(scope, dir);
    const project = await checkoutProject(dir, mirror.url);
    scope.defer(() => discardProject(project));
    const before = await mirror.stats();
    const result = await project.yarn(['install', '--immutable'], { timeoutMs: yarnTimeoutMs });
    const served = statsSince(before, await mirror.stats());
    if (result.code !== 0 || served.misses > 0) {
      throw new Error(
        `realworld: the replay of the recording failed (exit ${result.code}, ${served.misses} requests ` +
          `not in the recording: ${served.missed.slice(0, 10).join(', ')}):\n${result.output.slice(-3000)}`,
      );
    }
    log(
      `realworld: replay from the recording alone: ${served.requests.tarball} tarballs, ` +
        `${served.requests.abbreviated + served.requests.full} documents, nothing missing`,
    );
  } finally {
    await scope.close();
  }
}

/** A new project with the recorded package.json and yarn.lock (what a CI checkout has). */
export async function checkoutProject(
  dir: string,
  registry: string,
  options: Omit<Parameters<typeof createYarnProject>[0], 'registry' | 'dependencies'> = {},
): Promise<YarnProject> {
  const project = await createYarnProject({ ...options, registry });
  project.write('package.json', readFileSync(join(dir, 'project/package.json'), 'utf8'));
  project.write('yarn.lock', readFileSync(join(dir, 'project/yarn.lock'), 'utf8'));
  return project;
}

export function discardProject(project: YarnProject): void {
  rmSync(project.dir, { recursive: true, force: true });
  rmSync(project.globalFolder, { recursive: true, force: true });
}
