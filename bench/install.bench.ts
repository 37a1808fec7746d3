// `npm run bench install`: `yarn install` on the republished fixture, plain Yarn (A) against Yarn with
// Tollgate (B), interleaved A B A B, in the phases of bench/lib/install-phases.ts (cold without a
// lockfile, CI checkout, warm, warm without the install verdict, warm with Tollgate's cache emptied,
// audit online and offline). Knobs: BENCH_RUNS (pairs, default 5); BENCH_PACKAGES (largest fixture
// selection to install, default all); BENCH_FIXTURE=large (the ~5,000-package root set);
// BENCH_SIZES=1000,5000 (linearity: the measures at each selection size, side by side per 1,000
// packages), with BENCH_SIZE_RUNS=3,1 the pairs at each size; BENCH_PHASES (a subset of the phases).

import { startRegistry } from '../test/harness/registry';
import { Scope } from '../test/harness/scope';
import { startSigstoreServer } from '../test/harness/sigstore';
import type { YarnProject } from '../test/harness/yarn-project';
import { FixtureError } from './fixture/errors';
import {
  type FixtureSelection,
  fixtureRootSets,
  fixtureSetFromEnv,
  generateFixture,
  selectFixture,
} from './fixture/fixture';
import { createFixtureProject, publishFixture } from './fixture/publish';
import { benchSigner, signWithTollgateServer, tollgateEnforceProject } from './fixture/tollgate';
import { requireFreeSpace } from './lib/disk';
import {
  allPhases,
  type BenchSide,
  formatLinearity,
  formatMeasureSet,
  type MeasureSetResult,
  perThousand,
  phasesFromEnv,
  runMeasureSet,
} from './lib/install-phases';
import { timed } from './lib/interleave';
import { intFromEnv } from './lib/options';
import { describeMachine, writeResults } from './lib/results';
import { seconds } from './lib/table';
import { load, pluginDigest, yarnVersion } from './lib/yarn-runs';

const plainDescription = 'Yarn from @yarnpkg/cli-dist, node-modules linker, no plugins';
const tollgateDescription =
  'Yarn from @yarnpkg/cli-dist with the built Tollgate plugin in enforce mode; the policy requires, for ' +
  "every package, a signature by the bench signer verified against tollgate-server's trust root, and lets " +
  'the builds of verified packages run (scripts: allow-verified); each fixture tarball was signed by ' +
  'tollgate-server (publish attestation in its attestation store)';

/** Proves an install did the work being timed: every root linked at its fixture version. */
function checkInstalled(project: YarnProject, selection: FixtureSelection): number {
  for (const root of selection.roots) {
    const manifestPath = `node_modules/${root.name}/package.json`;
    const version = project.exists(manifestPath) ? JSON.parse(project.read(manifestPath)).version : undefined;
    if (version !== root.version) {
      throw new Error(
        `${project.dir}: ${root.name} is ${version ?? 'missing'} after install, expected ${root.version}`,
      );
    }
  }
  return (project.read('yarn.lock').match(/^ {2}resolution: /gm) ?? []).length;
}

/**
 * BENCH_SIZE_RUNS=3,1: pairs per size of BENCH_SIZES (a 5,000-package pair takes many minutes on a
 * 2-core box); default BENCH_RUNS for every size.
 */
function runsPerSize(sizes: number, runs: number): number[] {
  const raw = process.env.BENCH_SIZE_RUNS;
  if (!raw) return Array.from({ length: sizes }, () => runs);
  const list = raw.split(',').map((part) => Number(part.trim()));
  if (list.length !== sizes || list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(
      `BENCH_SIZE_RUNS: ${JSON.stringify(raw)} must give ${sizes} positive integers, one per size`,
    );
  }
  return list;
}

/** One selection holding the roots and packages of all of them, each once. */
function unionOf(selections: readonly FixtureSelection[]): FixtureSelection {
  const roots = new Map<string, FixtureSelection['roots'][number]>();
  const packages = new Map<string, FixtureSelection['packages'][number]>();
  for (const selection of selections) {
    for (const root of selection.roots) roots.set(root.request, root);
    for (const pkg of selection.packages) packages.set(`${pkg.name}@${pkg.version}`, pkg);
  }
  return { roots: [...roots.values()], packages: [...packages.values()] };
}

/** BENCH_SIZES=1000,5000: upper bounds on the selection, one measure set each (default: one, BENCH_PACKAGES). */
function sizesFromEnv(): number[] {
  const raw = process.env.BENCH_SIZES;
  if (!raw) return [intFromEnv('BENCH_PACKAGES', Number.MAX_SAFE_INTEGER)];
  return raw.split(',').map((part) => {
    const n = Number(part.trim());
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`BENCH_SIZES: ${JSON.stringify(part)} is not a positive integer`);
    return n;
  });
}

async function main(): Promise<void> {
  const runs = intFromEnv('BENCH_RUNS', 5);
  const phases = phasesFromEnv(allPhases);
  const setName = fixtureSetFromEnv();
  const startedAt = new Date();
  const machine = describeMachine();
  const pluginAtStart = pluginDigest();
  console.log(`install: load average at start ${load()}`);

  const fixture = await generateFixture({ ...fixtureRootSets[setName], log: console.log });
  const selections = sizesFromEnv().map((size) => selectFixture(fixture, size));
  const sizeRuns = runsPerSize(selections.length, runs);
  const largest = selections.reduce((a, b) => (b.packages.length > a.packages.length ? b : a));
  // Verdaccio's copy of the tarballs, two Yarn caches and node_modules per side
  const tarballBytes = largest.packages.reduce((sum, pkg) => sum + pkg.tarballBytes, 0);
  requireFreeSpace(
    '/tmp',
    6 * tarballBytes + 2 * 2 ** 30,
    `the install bench on ${largest.packages.length} packages`,
  );
  console.log(
    `install: fixture "${setName}", selections of ${selections.map((s) => `${s.packages.length} packages (${s.roots.length} roots)`).join(', ')}; ` +
      `${sizeRuns.join('/')} interleaved pairs; phases ${phases.join(', ')}`,
  );

  const scope = new Scope();
  try {
    const [registry, server] = await Promise.all([
      startRegistry(scope, 'bench-install'),
      startSigstoreServer(scope, 'bench-install'),
    ]);
    console.log(`  A = plain: ${plainDescription}`);
    console.log(`  B = tollgate: ${tollgateDescription}`);
    // every selection's packages: a smaller bound may take a small root that a larger bound skipped
    // (selectFixture passes over roots that do not fit), so the largest selection alone is not enough
    const published = unionOf(selections);
    const publishMs = await timed(() =>
      publishFixture(registry, fixture, published, {
        signTarball: signWithTollgateServer(server, registry.url),
        log: console.log,
      }),
    );
    console.log(`install: fixture signed and published to Verdaccio in ${seconds(publishMs)}`);

    const results: MeasureSetResult[] = [];
    for (const [i, selection] of selections.entries()) {
      const name = `fixture (${selection.packages.length} packages)`;
      const a: BenchSide = {
        label: 'plain',
        description: plainDescription,
        newProject: () => createFixtureProject(registry, selection),
      };
      const b: BenchSide = {
        label: 'tollgate',
        description: tollgateDescription,
        newProject: () => createFixtureProject(registry, selection, tollgateEnforceProject(server)),
      };
      const result = await runMeasureSet({
        name,
        runs: sizeRuns[i]!,
        phases,
        a,
        b,
        packages: selection.packages.length,
        checkInstalled: (project) => checkInstalled(project, selection),
      });
      results.push(result);
      console.log(`\nyarn ${yarnVersion()}, ${name}\n`);
      console.log(formatMeasureSet(result, { a: 'plain', b: 'tollgate' }));
    }
    if (results.length > 1) {
      console.log('\nlinearity: Tollgate per 1,000 packages at each size\n');
      console.log(formatLinearity(results.map(perThousand)));
    }

    const pluginAtEnd = pluginDigest();
    const path = writeResults('install', machine, startedAt, {
      set: `fixture-${setName}`,
      yarn: yarnVersion(),
      pluginBundle: { sha256AtStart: pluginAtStart, sha256AtEnd: pluginAtEnd },
      sides: {
        a: { label: 'plain', description: plainDescription },
        b: { label: 'tollgate', description: tollgateDescription },
      },
      fixture: {
        set: setName,
        selections: selections.map((selection) => ({
          roots: selection.roots.map((root) => `${root.name}@${root.version}`),
          packages: selection.packages.length,
          tarballBytes: selection.packages.reduce((sum, pkg) => sum + pkg.tarballBytes, 0),
        })),
        signedBy: benchSigner,
      },
      publishMs,
      perThousand: results.map(perThousand),
      results,
      loadAverageAtEnd: load(),
    });
    console.log(`\nresults: ${path}`);
    if (pluginAtEnd !== pluginAtStart) {
      console.log('THE PLUGIN BUNDLE WAS REBUILT DURING THE RUN: the B series mix two plugins; run again');
      process.exitCode = 1;
    }
    if (results.some((r) => r.audit?.denials.length)) process.exitCode = 1;
  } finally {
    await scope.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof FixtureError) console.error(`install: ${error.code}: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
