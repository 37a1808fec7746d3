// `npm run bench install`: `yarn install` cold and warm on the ~1,000-package fixture, plain Yarn (A)
// against Yarn with Tollgate (B), interleaved A B A B; then `yarn tollgate audit` online and offline
// in the last Tollgate project. Knobs: BENCH_RUNS (pairs, default 5) and BENCH_PACKAGES (largest
// fixture selection to install, default all).
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pluginBundle, tempDir } from '../test/harness/paths';
import type { RunResult } from '../test/harness/process';
import { startRegistry } from '../test/harness/registry';
import { Scope } from '../test/harness/scope';
import { type SigstoreServer, startSigstoreServer } from '../test/harness/sigstore';
import type { YarnProject, YarnProjectOptions } from '../test/harness/yarn-project';
import { FixtureError } from './fixture/errors';
import { type FixtureSelection, generateFixture, selectFixture } from './fixture/fixture';
import { createFixtureProject, publishFixture } from './fixture/publish';
import {
  benchSigner,
  installVerdictFolder,
  signWithTollgateServer,
  tollgateCacheFolder,
  tollgateEnforceProject,
} from './fixture/tollgate';
import { runInterleaved, timed } from './lib/interleave';
import { intFromEnv } from './lib/options';
import { type Comparison, compare, formatComparisons, formatSeries, type Series, series } from './lib/report';
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

/** Where the preloaded max-rss.cjs reports each Yarn process's peak memory. */
const rssDir = tempDir('bench-rss');
const rssPreload = join(repoRoot, 'bench/lib/max-rss.cjs');

/** The peak resident memory of the Yarn process of the last run, in MiB (read and cleared). */
function lastPeakMiB(): number {
  const files = readdirSync(rssDir);
  const peaks = files.map((f) => JSON.parse(readFileSync(join(rssDir, f), 'utf8')).maxRssKiB as number);
  for (const f of files) rmSync(join(rssDir, f));
  return peaks.length ? Math.max(...peaks) / 1024 : Number.NaN;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function install(project: YarnProject): Promise<RunResult> {
  const result = await project.yarn(['install'], {
    timeoutMs: yarnTimeoutMs,
    env: { NODE_OPTIONS: `--require ${rssPreload}`, TOLLGATE_BENCH_RSS_DIR: rssDir },
  });
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

/** Tollgate's summary line of an install (the gate's own proof that it judged every package). */
function gateSummary(result: RunResult): string {
  return result.output.match(/Tollgate: \d+ allowed[^\n]*/)?.[0] ?? '(no Tollgate summary in the output)';
}

/** The gate says so when it reused the install-level verdict instead of judging again. */
function reusedVerdict(summary: string): boolean {
  return summary.includes('nothing changed since the install verified at');
}

interface AuditRun {
  ms: number;
  /** the audit's summary line */
  line: string;
  /** the first denials (package line and reasons), empty when the audit passed */
  denials: string[];
}

/**
 * `yarn tollgate audit [--offline]` in a project Tollgate installed. Fails unless it audited every
 * lockfile entry; denials are returned (not thrown) so that the figures of the whole bench survive
 * and the denials are reported next to them.
 */
async function audit(project: YarnProject, offline: boolean, entries: number): Promise<AuditRun> {
  let result: RunResult | undefined;
  const ms = await timed(async () => {
    result = await project.yarn(['tollgate', 'audit', ...(offline ? ['--offline'] : [])], {
      timeoutMs: yarnTimeoutMs,
    });
  });
  const output = result!.output;
  const command = `yarn tollgate audit${offline ? ' --offline' : ''}`;
  const audited = Number(output.match(/Tollgate: auditing (\d+) packages/)?.[1] ?? Number.NaN);
  const line = output.match(/Tollgate audit: [^\n]*/)?.[0];
  if ((result!.code !== 0 && result!.code !== 1) || audited !== entries || !line) {
    throw new Error(
      `${command} in ${project.dir} did not audit all ${entries} lockfile entries ` +
        `(exit ${result!.code}, audited ${audited}):\n${output.slice(-4000)}`,
    );
  }
  const lines = output.split('\n');
  const denials = lines
    .map((text, i) => (/ denied by rule /.test(text) ? [text, lines[i + 1] ?? ''].join('\n') : null))
    .filter((d): d is string => d !== null)
    .slice(0, 20);
  return { ms, line, denials };
}

/**
 * The plugin bundle's digest: every cold B run imports the bundle afresh, and the tree is shared, so a
 * rebuild during a run would mix two plugins in one series. The bench compares start and end.
 */
function pluginDigest(): string | null {
  try {
    return createHash('sha256').update(readFileSync(pluginBundle)).digest('hex');
  } catch {
    return null;
  }
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
  const pluginAtStart = pluginDigest();
  console.log(
    `install: load average at start ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`,
  );
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

    // Cold: a new project each run (no lockfile, empty project cache, empty global folder, hence an
    // empty Tollgate cache folder); the last project of each side stays for the warm runs.
    const lastProject: Record<'a' | 'b', YarnProject | undefined> = { a: undefined, b: undefined };
    scope.defer(() => {
      for (const project of Object.values(lastProject)) if (project) discard(project);
    });
    const lockfileEntries: Record<'a' | 'b', number[]> = { a: [], b: [] };
    // Peak resident memory of each timed Yarn process, per phase and side (MiB)
    const peaks: Record<string, Record<'a' | 'b', number[]>> = {};
    const notePeak = (phase: string, key: 'a' | 'b') => {
      peaks[phase] ??= { a: [], b: [] };
      peaks[phase][key].push(lastPeakMiB());
    };
    // Tollgate's own summary line of each B run, kept so a reader can see the gate did its work
    const gateSummaries: Record<string, string[]> = {};
    const noteGate = (phase: string, key: 'a' | 'b', result: RunResult) => {
      if (key !== 'b') return;
      gateSummaries[phase] ??= [];
      gateSummaries[phase].push(gateSummary(result));
    };
    const coldRun = (key: 'a' | 'b', side: Side) => async () => {
      if (lastProject[key]) discard(lastProject[key]);
      const project = await createFixtureProject(registry, selection, side.project);
      lastProject[key] = project;
      if (existsSync(tollgateCacheFolder(project))) {
        throw new Error(
          `${tollgateCacheFolder(project)} exists before a cold install: the run would not be cold`,
        );
      }
      let result: RunResult | undefined;
      const ms = await timed(async () => {
        result = await install(project);
      });
      notePeak('cold', key);
      lockfileEntries[key].push(checkInstalled(project, selection));
      // Proves the folder the warm variants clear is the one Tollgate used.
      if (key === 'b' && !existsSync(installVerdictFolder(project))) {
        throw new Error(`Tollgate wrote no install verdict under ${tollgateCacheFolder(project)}`);
      }
      noteGate('cold', key, result!);
      return ms;
    };
    const report = (phase: string) => (side: 'a' | 'b', run: number, ms: number) =>
      console.log(
        `  ${phase} ${side === 'a' ? plain.label : tollgate.label} #${run + 1}: ${seconds(ms)}, peak ${peaks[phase]?.[side].at(-1)?.toFixed(0) ?? '?'} MiB, load ${load()}`,
      );

    const cold = await runInterleaved({
      runs,
      a: coldRun('a', plain),
      b: coldRun('b', tollgate),
      onSample: report('cold'),
    });

    // A CI checkout: the repository's yarn.lock (and, for Tollgate, the evidence file, its bundles and
    // the pins it committed) in a new project; no node_modules, every cache empty (project cache, Yarn's
    // global folder and so Tollgate's cache folder). What most installs in CI are.
    const committed: Record<'a' | 'b', string> = {
      a: tempDir('bench-committed-a'),
      b: tempDir('bench-committed-b'),
    };
    for (const key of ['a', 'b'] as const) {
      for (const file of [
        'yarn.lock',
        '.tollgate.evidence.json',
        '.tollgate.pins.json',
        '.tollgate.bundles',
      ]) {
        const from = join(lastProject[key]!.dir, file);
        if (existsSync(from)) cpSync(from, join(committed[key], file), { recursive: true });
      }
    }
    const checkoutRun = (key: 'a' | 'b', side: Side) => async () => {
      const project = await createFixtureProject(registry, selection, side.project);
      try {
        cpSync(committed[key], project.dir, { recursive: true });
        mkdirSync(join(project.dir, '.yarn'), { recursive: true });
        let result: RunResult | undefined;
        const ms = await timed(async () => {
          result = await install(project);
        });
        notePeak('checkout', key);
        checkInstalled(project, selection);
        noteGate('checkout', key, result!);
        return ms;
      } finally {
        discard(project);
      }
    };
    const checkout = await runInterleaved({
      runs,
      a: checkoutRun('a', plain),
      b: checkoutRun('b', tollgate),
      onSample: report('checkout'),
    });

    // Warm: `yarn install` again in the last cold project of each side, the Yarn cache and
    // node_modules in place. Before a B run, `clear` (untimed) removes part of Tollgate's state.
    const warmRun = (phase: string, key: 'a' | 'b', clear?: (project: YarnProject) => void) => async () => {
      const project = lastProject[key]!;
      if (key === 'b') clear?.(project);
      let result: RunResult | undefined;
      const ms = await timed(async () => {
        result = await install(project);
      });
      notePeak(phase, key);
      checkInstalled(project, selection);
      noteGate(phase, key, result!);
      return ms;
    };
    const warmPhase = (phase: string, clear?: (project: YarnProject) => void) =>
      runInterleaved({
        runs,
        a: warmRun(phase, 'a'),
        b: warmRun(phase, 'b', clear),
        onSample: report(phase),
      });
    const warm = await warmPhase('warm');
    const warmNoVerdict = await warmPhase('warm-no-verdict', (project) =>
      rmSync(installVerdictFolder(project), { recursive: true, force: true }),
    );
    const warmNoCache = await warmPhase('warm-no-tollgate-cache', (project) =>
      rmSync(tollgateCacheFolder(project), { recursive: true, force: true }),
    );
    const reused = (phase: string) => (gateSummaries[phase] ?? []).filter(reusedVerdict).length;

    // Audit: in the last Tollgate project, online and offline interleaved. Audit never reads the
    // install verdict; it judges every lockfile entry each time.
    const auditProject = lastProject.b!;
    // The audit checks every lockfile entry except the workspace itself.
    const entries = (auditProject.read('yarn.lock').match(/^ {2}resolution: "(?![^"]*@workspace:)/gm) ?? [])
      .length;
    const auditLines: Record<'online' | 'offline', string[]> = { online: [], offline: [] };
    const auditDenials: Record<'online' | 'offline', string[]> = { online: [], offline: [] };
    const auditRun = (mode: 'online' | 'offline') => async () => {
      const { ms, line, denials } = await audit(auditProject, mode === 'offline', entries);
      auditLines[mode].push(line);
      if (auditDenials[mode].length === 0) auditDenials[mode] = denials;
      return ms;
    };
    const audits = await runInterleaved({
      runs,
      a: auditRun('online'),
      b: auditRun('offline'),
      onSample: (side, run, ms) =>
        console.log(`  yarn tollgate audit${side === 'b' ? ' --offline' : ''} #${run + 1}: ${seconds(ms)}`),
    });

    const comparisons: Comparison[] = [
      compare(
        'yarn install, CI checkout (lockfile and evidence committed, caches empty)',
        checkout.a,
        checkout.b,
      ),
      compare('yarn install, cold (no lockfile)', cold.a, cold.b),
      compare('yarn install, warm (install verdict reused)', warm.a, warm.b),
      compare('yarn install, warm, install verdict removed', warmNoVerdict.a, warmNoVerdict.b),
      compare('yarn install, warm, Tollgate cache folder emptied', warmNoCache.a, warmNoCache.b),
    ];
    const auditSeries: Series[] = [
      series(`yarn tollgate audit (${entries} entries)`, audits.a),
      series(`yarn tollgate audit --offline (${entries} entries)`, audits.b),
    ];
    console.log(
      `\nyarn ${yarnVersion}, ${selection.packages.length} fixture packages; ` +
        `lockfile entries per cold install: A ${[...new Set(lockfileEntries.a)].join('/')}, ` +
        `B ${[...new Set(lockfileEntries.b)].join('/')}\n`,
    );
    for (const phase of Object.keys(gateSummaries)) {
      console.log(
        `B ${phase}: ${gateSummaries[phase]![0]} (install verdict reused in ${reused(phase)}/${gateSummaries[phase]!.length} runs)`,
      );
    }
    console.log(`audit: ${auditLines.online[0]}; offline: ${auditLines.offline[0]}\n`);
    for (const mode of ['online', 'offline'] as const) {
      if (auditDenials[mode].length === 0) continue;
      console.log(`AUDIT ${mode.toUpperCase()} DENIED PACKAGES THE INSTALL ALLOWED; first denials:`);
      console.log(`${auditDenials[mode].join('\n')}\n`);
    }
    console.log(formatComparisons(comparisons, { a: plain.label, b: tollgate.label }));
    console.log('');
    console.log(formatSeries(auditSeries));
    const perThousand = (ms: number, n: number) => seconds((ms * 1000) / n);
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
    console.log('\npeak resident memory of the Yarn process, median MiB (B/A):');
    for (const [phase, p] of Object.entries(peaks)) {
      console.log(
        `  ${phase}: A ${median(p.a).toFixed(0)}, B ${median(p.b).toFixed(0)} (${(median(p.b) / median(p.a)).toFixed(2)}x)`,
      );
    }
    const checkoutAdded = comparisons[0]!.addedMs.median;
    const checkoutPeak = peaks.checkout ? median(peaks.checkout.b) / median(peaks.checkout.a) : Number.NaN;
    console.log(
      `\ngoals: CI checkout adds ${perThousand(checkoutAdded, selection.packages.length)} per 1,000 packages, median of pairs (<= 2 s), ` +
        `peak memory ${((checkoutPeak - 1) * 100).toFixed(0)}% over plain Yarn (<= 10%); ` +
        `warm ratio median ${comparisons[2]!.ratio.median.toFixed(3)}x (<= 1.05); ` +
        `warm without the verdict ${comparisons[3]!.ratio.median.toFixed(3)}x (<= 1.3); ` +
        `offline audit ${perThousand(auditSeries[1]!.summary.median, entries)} per 1,000 entries, median (<= 1 s); ` +
        `load at the end ${load()}`,
    );
    const pluginAtEnd = pluginDigest();
    const path = writeResults('install', machine, startedAt, {
      yarn: yarnVersion,
      pluginBundle: { sha256AtStart: pluginAtStart, sha256AtEnd: pluginAtEnd },
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
      installVerdictReused: Object.fromEntries(Object.keys(gateSummaries).map((p) => [p, reused(p)])),
      auditLines,
      auditDenials,
      comparisons,
      peakMemoryMiB: peaks,
      audit: auditSeries,
      loadAverageAtEnd: loadavg(),
    });
    console.log(`\nresults: ${path}`);
    if (pluginAtEnd !== pluginAtStart) {
      console.log('THE PLUGIN BUNDLE WAS REBUILT DURING THE RUN: the B series mix two plugins; run again');
      process.exitCode = 1;
    }
    if (auditDenials.online.length > 0 || auditDenials.offline.length > 0) process.exitCode = 1;
  } finally {
    await scope.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof FixtureError) console.error(`install: ${error.code}: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
