// `npm run bench install`: `yarn install` cold and warm on the ~1,000-package fixture, plain Yarn (A)
// against Yarn with Tollgate (B), interleaved A B A B. Knobs: BENCH_RUNS (pairs, default 5) and
// BENCH_PACKAGES (largest fixture selection to install, default all).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from '../test/harness/process';
import { startRegistry } from '../test/harness/registry';
import { Scope } from '../test/harness/scope';
import { type SigstoreServer, startSigstoreServer } from '../test/harness/sigstore';
import type { YarnProject, YarnProjectOptions } from '../test/harness/yarn-project';
import { FixtureError } from './fixture/errors';
import { type FixtureSelection, generateFixture, selectFixture } from './fixture/fixture';
import { createFixtureProject, publishFixture } from './fixture/publish';
import { benchSigner, signWithTollgateServer, tollgateEnforceProject } from './fixture/tollgate';
import { runInterleaved, timed } from './lib/interleave';
import { intFromEnv } from './lib/options';
import { type Comparison, compare, formatComparisons } from './lib/report';
import { describeMachine, repoRoot, writeResults } from './lib/results';
import { seconds } from './lib/table';

/** One side of the comparison: how its projects are made, described in words for the report. */
interface Side {
  label: string;
  description: string;
  project: Omit<YarnProjectOptions, 'registry' | 'dependencies'>;
}

const plain: Side = {
  label: 'plain',
  description: 'Yarn from @yarnpkg/cli-dist, node-modules linker, no plugins',
  project: {},
};

/** Yarn with Tollgate enforcing: every fixture package must carry a signature by the bench signer. */
function tollgateSide(server: SigstoreServer): Side {
  return {
    label: 'tollgate',
    description:
      'Yarn from @yarnpkg/cli-dist with the built Tollgate plugin in enforce mode; the policy requires, for ' +
      "every package, a signature by the bench signer verified against tollgate-server's trust root; each " +
      'fixture tarball was signed by tollgate-server (publish attestation in its attestation store)',
    project: tollgateEnforceProject(server),
  };
}

const yarnTimeoutMs = 15 * 60_000;

async function install(project: YarnProject): Promise<RunResult> {
  const result = await project.yarn(['install'], { timeoutMs: yarnTimeoutMs });
  if (result.code !== 0) {
    throw new Error(
      `yarn install failed in ${project.dir} (exit ${result.code}):\n${result.output.slice(-4000)}`,
    );
  }
  return result;
}

/** Proves an install did the work being timed: every root linked at its fixture version. */
function checkInstalled(project: YarnProject, selection: FixtureSelection): number {
  for (const root of selection.roots) {
    const manifestPath = join('node_modules', root.name, 'package.json');
    const version = project.exists(manifestPath) ? JSON.parse(project.read(manifestPath)).version : undefined;
    if (version !== root.version) {
      throw new Error(
        `${project.dir}: ${root.name} is ${version ?? 'missing'} after install, expected ${root.version}`,
      );
    }
  }
  return (project.read('yarn.lock').match(/^ {2}resolution: /gm) ?? []).length;
}

function discard(project: YarnProject): void {
  rmSync(project.dir, { recursive: true, force: true });
  rmSync(project.globalFolder, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const runs = intFromEnv('BENCH_RUNS', 5);
  const maxPackages = intFromEnv('BENCH_PACKAGES', Number.MAX_SAFE_INTEGER);
  const startedAt = new Date();
  const machine = describeMachine();
  const yarnVersion = JSON.parse(
    readFileSync(join(repoRoot, 'node_modules/@yarnpkg/cli-dist/package.json'), 'utf8'),
  ).version as string;

  const fixture = await generateFixture({ log: console.log });
  const selection = selectFixture(fixture, maxPackages);
  console.log(
    `install: ${selection.packages.length} packages from ${selection.roots.length} roots; ${runs} interleaved pairs`,
  );

  const scope = new Scope();
  try {
    const [registry, server] = await Promise.all([
      startRegistry(scope, 'bench-install'),
      startSigstoreServer(scope, 'bench-install'),
    ]);
    const tollgate = tollgateSide(server);
    console.log(`  A = ${plain.label}: ${plain.description}`);
    console.log(`  B = ${tollgate.label}: ${tollgate.description}`);
    const publishMs = await timed(() =>
      publishFixture(registry, fixture, selection, {
        signTarball: signWithTollgateServer(server, registry.url),
        log: console.log,
      }),
    );
    console.log(`install: fixture signed and published to Verdaccio in ${seconds(publishMs)}`);

    // Cold: a new project each run (no lockfile, empty project cache, empty global folder); the
    // last project of each side stays for the warm runs.
    const lastProject: Record<'a' | 'b', YarnProject | undefined> = { a: undefined, b: undefined };
    scope.defer(() => {
      for (const project of Object.values(lastProject)) if (project) discard(project);
    });
    const lockfileEntries: Record<'a' | 'b', number[]> = { a: [], b: [] };
    // Tollgate's own summary line of each B run, kept so a reader can see the gate did its work
    const gateSummaries: Record<'cold' | 'warm', string[]> = { cold: [], warm: [] };
    const noteGate = (phase: 'cold' | 'warm', key: 'a' | 'b', result: RunResult) => {
      if (key !== 'b') return;
      const line =
        result.output.match(/Tollgate: \d+ allowed[^\n]*/)?.[0] ?? '(no Tollgate summary in the output)';
      gateSummaries[phase].push(line);
    };
    const coldRun = (key: 'a' | 'b', side: Side) => async () => {
      if (lastProject[key]) discard(lastProject[key]);
      const project = await createFixtureProject(registry, selection, side.project);
      lastProject[key] = project;
      let result: RunResult | undefined;
      const ms = await timed(async () => {
        result = await install(project);
      });
      lockfileEntries[key].push(checkInstalled(project, selection));
      noteGate('cold', key, result!);
      return ms;
    };
    const report = (phase: string) => (side: 'a' | 'b', run: number, ms: number) =>
      console.log(`  ${phase} ${side === 'a' ? plain.label : tollgate.label} #${run + 1}: ${seconds(ms)}`);

    const cold = await runInterleaved({
      runs,
      a: coldRun('a', plain),
      b: coldRun('b', tollgate),
      onSample: report('cold'),
    });
    const warmRun = (key: 'a' | 'b') => async () => {
      const project = lastProject[key]!;
      let result: RunResult | undefined;
      const ms = await timed(async () => {
        result = await install(project);
      });
      checkInstalled(project, selection);
      noteGate('warm', key, result!);
      return ms;
    };
    const warm = await runInterleaved({ runs, a: warmRun('a'), b: warmRun('b'), onSample: report('warm') });

    const comparisons: Comparison[] = [
      compare('yarn install, cold', cold.a, cold.b),
      compare('yarn install, warm', warm.a, warm.b),
    ];
    console.log(
      `\nyarn ${yarnVersion}, ${selection.packages.length} fixture packages; ` +
        `lockfile entries per cold install: A ${[...new Set(lockfileEntries.a)].join('/')}, ` +
        `B ${[...new Set(lockfileEntries.b)].join('/')}\n`,
    );
    console.log(`B, first cold run: ${gateSummaries.cold[0]}`);
    console.log(`B, first warm run: ${gateSummaries.warm[0]}\n`);
    console.log(formatComparisons(comparisons, { a: plain.label, b: tollgate.label }));
    const path = writeResults('install', machine, startedAt, {
      yarn: yarnVersion,
      sides: {
        a: { label: plain.label, description: plain.description },
        b: { label: tollgate.label, description: tollgate.description },
      },
      fixture: {
        roots: selection.roots.map((root) => `${root.name}@${root.version}`),
        packages: selection.packages.length,
        tarballBytes: selection.packages.reduce((sum, pkg) => sum + pkg.tarballBytes, 0),
        lockfileEntries,
        signedBy: benchSigner,
      },
      publishMs,
      gateSummaries,
      comparisons,
    });
    console.log(`\nresults: ${path}`);
  } finally {
    await scope.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof FixtureError) console.error(`install: ${error.code}: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
