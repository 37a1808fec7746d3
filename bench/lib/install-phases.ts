// The install measures shared by `install` (the republished fixture, at one or more sizes) and
// `install-realworld` (the recorded mirror): plain Yarn (A) against Yarn with Tollgate (B), interleaved
// A B A B, in phases:
//   cold             no lockfile, every cache empty (a new project each run)
//   checkout         a CI checkout: the committed lockfile (and Tollgate's committed files), every cache
//                    empty: no node_modules, project cache, Yarn global folder or Tollgate cache folder
//   warm             `yarn install` again in the last checkout project, nothing changed (B reuses its
//                    install verdict)
//   warm-no-verdict  the same after deleting only Tollgate's install verdicts (untimed)
//   warm-no-cache    the same after deleting Tollgate's whole cache folder (untimed)
//   audit            `yarn tollgate audit` online and offline, interleaved, in the last B project
// Every sample records its time, the Yarn process's peak memory, the 1-minute load average when it
// ended, Tollgate's summary line, and (when given) what the registry served and the CPU the local
// servers spent on it.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { tempDir } from '../../test/harness/paths';
import type { RunResult } from '../../test/harness/process';
import type { YarnProject } from '../../test/harness/yarn-project';
import { installVerdictFolder, tollgateCacheFolder } from '../fixture/tollgate';
import { statsSince } from '../realworld/mirror';
import type { MirrorStats } from '../realworld/mirror-server';
import { cpuSince, descendantCpu, exitedChildrenCpu } from './child-cpu';
import { runInterleaved, timed } from './interleave';
import {
  type Comparison,
  compare,
  formatComparisons,
  formatLoad,
  formatSeries,
  type Series,
  series,
} from './report';
import { pairDifferences } from './stats';
import { seconds } from './table';
import { audit, discard, gateSummary, install, lastPeakMiB, load, reusedVerdict } from './yarn-runs';

export const allPhases = ['cold', 'checkout', 'warm', 'warm-no-verdict', 'warm-no-cache', 'audit'] as const;
export type Phase = (typeof allPhases)[number];
type InstallPhase = Exclude<Phase, 'audit'>;
type Key = 'a' | 'b';

/** BENCH_PHASES=checkout,warm,... (default: `defaults`), in the order above whatever order is given. */
export function phasesFromEnv(defaults: readonly Phase[]): Phase[] {
  const raw = process.env.BENCH_PHASES;
  if (!raw) return [...defaults];
  const wanted = raw.split(',').map((p) => p.trim());
  for (const phase of wanted) {
    if (!(allPhases as readonly string[]).includes(phase)) {
      throw new Error(`BENCH_PHASES: unknown phase "${phase}"; phases: ${allPhases.join(', ')}`);
    }
  }
  return allPhases.filter((p) => wanted.includes(p));
}

export interface BenchSide {
  label: string;
  description: string;
  /** a new project for this side, with its package.json but no lockfile */
  newProject(): Promise<YarnProject>;
}

/** Files a CI checkout has besides package.json: the lockfile and what Tollgate has the project commit. */
export const committedFiles = [
  'yarn.lock',
  '.tollgate.evidence.json',
  '.tollgate.pins.json',
  '.tollgate.bundles',
];

/** Copies what `fromDir`'s project commits (committedFiles, those present) into `toDir`. */
export function copyCommittedFiles(fromDir: string, toDir: string): void {
  for (const file of committedFiles) {
    const from = join(fromDir, file);
    if (existsSync(from)) cpSync(from, join(toDir, file), { recursive: true });
  }
}

export interface MeasureSetOptions {
  /** e.g. "realworld" or "fixture (1,052 packages)" */
  name: string;
  runs: number;
  phases: readonly Phase[];
  a: BenchSide;
  b: BenchSide;
  /** name@version from the registry the installs fetch (per-1,000 figures are per these) */
  packages: number;
  /**
   * Writes the lockfile a checkout starts from into a new project (the recorded one); without it the
   * lockfile is the one the last cold run (or an untimed first install) wrote.
   */
  seedLockfile?: (project: YarnProject) => void;
  /** throws unless the install did the work being timed; returns the lockfile's entry count */
  checkInstalled: (project: YarnProject) => number;
  /** what the registry served, read before and after each sample */
  registryStats?: () => Promise<MirrorStats>;
  log?: (line: string) => void;
}

export interface PhaseSamples {
  ms: Record<Key, number[]>;
  peakMiB: Record<Key, number[]>;
  load: number[];
  served: Record<Key, MirrorStats[]>;
  serverCpuS: Record<Key, number[]>;
  /**
   * CPU seconds of the Yarn process itself (its threads and the scripts it ran), user and system. On a
   * shared VM whose system time for one and the same install varies several-fold between rounds, user
   * CPU is the steadier measure of what a build adds.
   */
  yarnUserS: Record<Key, number[]>;
  yarnSystemS: Record<Key, number[]>;
  gateSummaries: string[];
}

export interface MeasureSetResult {
  name: string;
  packages: number;
  /** lockfile entries the audit judges (all but the workspace) */
  auditEntries: number;
  phases: Partial<Record<InstallPhase, PhaseSamples>>;
  comparisons: Partial<Record<InstallPhase, Comparison>>;
  audit?: {
    online: Series;
    offline: Series;
    lines: Record<'online' | 'offline', string[]>;
    denials: string[];
  };
  lockfileEntries: Record<Key, number[]>;
  loadAverageAtEnd: number[];
}

const measureNames: Record<InstallPhase, string> = {
  checkout: 'yarn install, CI checkout (lockfile committed, every cache empty)',
  cold: 'yarn install, cold (no lockfile, every cache empty)',
  warm: 'yarn install, warm (install verdict reused)',
  'warm-no-verdict': 'yarn install, warm, install verdict removed',
  'warm-no-cache': 'yarn install, warm, Tollgate cache folder emptied',
};

const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length === 0
    ? Number.NaN
    : sorted.length % 2
      ? sorted[mid]!
      : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export async function runMeasureSet(options: MeasureSetOptions): Promise<MeasureSetResult> {
  const log = options.log ?? console.log;
  const sides: Record<Key, BenchSide> = { a: options.a, b: options.b };
  const phases: MeasureSetResult['phases'] = {};
  const lockfileEntries: Record<Key, number[]> = { a: [], b: [] };
  const kept: Record<Key, YarnProject | undefined> = { a: undefined, b: undefined };
  const keep = (key: Key, project: YarnProject) => {
    if (kept[key] && kept[key] !== project) discard(kept[key]);
    kept[key] = project;
  };

  const samplesOf = (phase: InstallPhase): PhaseSamples => {
    phases[phase] ??= {
      ms: { a: [], b: [] },
      peakMiB: { a: [], b: [] },
      load: [],
      served: { a: [], b: [] },
      serverCpuS: { a: [], b: [] },
      yarnUserS: { a: [], b: [] },
      yarnSystemS: { a: [], b: [] },
      gateSummaries: [],
    };
    return phases[phase];
  };

  /** One timed `yarn install`, with everything a sample records. */
  const sample = async (
    phase: InstallPhase,
    key: Key,
    project: YarnProject,
    run: number,
  ): Promise<number> => {
    const samples = samplesOf(phase);
    const servedBefore = await options.registryStats?.();
    const cpuBefore = descendantCpu();
    const yarnBefore = exitedChildrenCpu();
    let result: RunResult | undefined;
    const ms = await timed(async () => {
      result = await install(project);
    });
    // processes alive before and after the install: the local servers (registry, mirror, tollgate-server)
    const serverCpu = cpuSince(cpuBefore, descendantCpu()).reduce((sum, c) => sum + c.seconds, 0);
    const yarnAfter = exitedChildrenCpu();
    samples.yarnUserS[key].push(yarnAfter.user - yarnBefore.user);
    samples.yarnSystemS[key].push(yarnAfter.system - yarnBefore.system);
    const servedAfter = await options.registryStats?.();
    const served = servedBefore && servedAfter ? statsSince(servedBefore, servedAfter) : undefined;
    samples.ms[key].push(ms);
    samples.peakMiB[key].push(lastPeakMiB());
    samples.load.push(loadavg()[0]!);
    samples.serverCpuS[key].push(serverCpu);
    if (served) samples.served[key].push(served);
    const entries = options.checkInstalled(project);
    if (phase === 'cold' || phase === 'checkout') lockfileEntries[key].push(entries);
    if (key === 'b') samples.gateSummaries.push(gateSummary(result!));
    if (served?.misses) {
      throw new Error(
        `${options.name}: ${served.misses} requests were not in the recording (answered 404), e.g. ` +
          `${served.missed.slice(0, 5).join(', ')}: record again with BENCH_REALWORLD_REFRESH=1`,
      );
    }
    log(
      `  ${phase} ${sides[key].label} #${run + 1}: ${seconds(ms)}, peak ${samples.peakMiB[key].at(-1)!.toFixed(0)} MiB` +
        `, Yarn CPU user ${samples.yarnUserS[key].at(-1)!.toFixed(1)} s system ${samples.yarnSystemS[key].at(-1)!.toFixed(1)} s` +
        `${served ? `, served ${describeServed(served)}` : ''}, servers ${serverCpu.toFixed(1)} s CPU, load ${load()}`,
    );
    return ms;
  };

  const checkCold = (project: YarnProject) => {
    if (existsSync(tollgateCacheFolder(project))) {
      throw new Error(
        `${tollgateCacheFolder(project)} exists before a cold install: the run would not be cold`,
      );
    }
    if (project.exists('node_modules')) throw new Error(`${project.dir}: node_modules before a cold install`);
  };
  const checkVerdict = (key: Key, project: YarnProject) => {
    // proves the folder the warm variants clear is the one Tollgate used
    if (key === 'b' && !existsSync(installVerdictFolder(project))) {
      throw new Error(`Tollgate wrote no install verdict under ${tollgateCacheFolder(project)}`);
    }
  };

  try {
    const run = (one: (key: Key) => (run: number) => Promise<number>) =>
      runInterleaved({ runs: options.runs, a: one('a'), b: one('b') });

    // cold: a new project each run; the last one of each side is where the lockfile comes from
    if (options.phases.includes('cold')) {
      log(`${options.name}: cold (no lockfile)`);
      await run((key) => async (i) => {
        const project = await sides[key].newProject();
        keep(key, project);
        checkCold(project);
        const ms = await sample('cold', key, project, i);
        checkVerdict(key, project);
        return ms;
      });
    }

    const needsCheckoutSource = options.phases.some((p) => p !== 'cold');
    if (needsCheckoutSource) {
      // what the repository commits: from the last cold project, or from one untimed first install
      // (from the recorded lockfile when there is one), as a developer's machine would produce it
      const committed: Record<Key, string> = {
        a: tempDir('bench-committed-a'),
        b: tempDir('bench-committed-b'),
      };
      for (const key of ['a', 'b'] as const) {
        let source = kept[key];
        if (!source) {
          source = await sides[key].newProject();
          options.seedLockfile?.(source);
          const ms = await timed(() => install(source!));
          lastPeakMiB();
          log(
            `  ${options.name}: first install (untimed in the figures) ${sides[key].label}: ${seconds(ms)}`,
          );
          options.checkInstalled(source);
          keep(key, source);
        }
        copyCommittedFiles(source.dir, committed[key]);
      }
      const checkoutProject = async (key: Key) => {
        const project = await sides[key].newProject();
        cpSync(committed[key], project.dir, { recursive: true });
        mkdirSync(join(project.dir, '.yarn'), { recursive: true });
        return project;
      };

      if (options.phases.includes('checkout')) {
        log(`${options.name}: CI checkout (lockfile committed, every cache empty)`);
        await run((key) => async (i) => {
          const project = await checkoutProject(key);
          keep(key, project);
          checkCold(project);
          const ms = await sample('checkout', key, project, i);
          checkVerdict(key, project);
          return ms;
        });
      }

      const warm = (phase: InstallPhase, clear?: (project: YarnProject) => void) =>
        run((key) => async (i) => {
          const project = kept[key]!;
          if (key === 'b') clear?.(project);
          return sample(phase, key, project, i);
        });
      if (options.phases.includes('warm')) {
        log(`${options.name}: warm`);
        await warm('warm');
      }
      if (options.phases.includes('warm-no-verdict')) {
        log(`${options.name}: warm, install verdict removed`);
        await warm('warm-no-verdict', (project) =>
          rmSync(installVerdictFolder(project), { recursive: true, force: true }),
        );
      }
      if (options.phases.includes('warm-no-cache')) {
        log(`${options.name}: warm, Tollgate cache folder emptied`);
        await warm('warm-no-cache', (project) =>
          rmSync(tollgateCacheFolder(project), { recursive: true, force: true }),
        );
      }
    }

    let auditResult: MeasureSetResult['audit'];
    const auditProject = kept.b;
    const auditEntries = auditProject
      ? (auditProject.read('yarn.lock').match(/^ {2}resolution: "(?![^"]*@workspace:)/gm) ?? []).length
      : 0;
    if (options.phases.includes('audit') && auditProject) {
      log(`${options.name}: yarn tollgate audit, online and offline (${auditEntries} entries)`);
      const lines: Record<'online' | 'offline', string[]> = { online: [], offline: [] };
      let denials: string[] = [];
      const loads: number[] = [];
      const one = (mode: 'online' | 'offline') => async (i: number) => {
        const result = await audit(auditProject, mode === 'offline', auditEntries);
        loads.push(loadavg()[0]!);
        lines[mode].push(result.line);
        if (denials.length === 0) denials = result.denials;
        log(
          `  yarn tollgate audit${mode === 'offline' ? ' --offline' : ''} #${i + 1}: ${seconds(result.ms)}, load ${load()}`,
        );
        return result.ms;
      };
      const audits = await runInterleaved({ runs: options.runs, a: one('online'), b: one('offline') });
      // loads alternate online, offline
      const loadOf = (parity: number) => loads.filter((_, i) => i % 2 === parity);
      auditResult = {
        online: series(`yarn tollgate audit (${auditEntries} entries)`, audits.a, loadOf(0)),
        offline: series(`yarn tollgate audit --offline (${auditEntries} entries)`, audits.b, loadOf(1)),
        lines,
        denials,
      };
    }

    const comparisons: MeasureSetResult['comparisons'] = {};
    for (const [phase, samples] of Object.entries(phases) as [InstallPhase, PhaseSamples][]) {
      comparisons[phase] = compare(measureNames[phase], samples.ms.a, samples.ms.b, samples.load);
    }
    return {
      name: options.name,
      packages: options.packages,
      auditEntries,
      phases,
      comparisons,
      ...(auditResult ? { audit: auditResult } : {}),
      lockfileEntries,
      loadAverageAtEnd: loadavg(),
    };
  } finally {
    for (const project of Object.values(kept)) if (project) discard(project);
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

function describeServed(s: MirrorStats): string {
  const docs = s.requests.abbreviated + s.requests.full;
  return `${s.requests.tarball} tarballs ${mib(s.bytes.tarball)}, ${docs} documents ${mib(s.bytes.abbreviated + s.bytes.full)}`;
}

/** The terminal report of one measure set: the table, audits, memory, what was served, the goals. */
export function formatMeasureSet(result: MeasureSetResult, labels: { a: string; b: string }): string {
  const out: string[] = [];
  const comparisons = Object.values(result.comparisons);
  out.push(formatComparisons(comparisons, labels));
  if (result.audit) out.push('', formatSeries([result.audit.online, result.audit.offline]));
  out.push('', 'Tollgate summary of the first B run of each phase (install verdict reused in k of n runs):');
  for (const [phase, samples] of Object.entries(result.phases)) {
    const reused = samples.gateSummaries.filter(reusedVerdict).length;
    out.push(`  ${phase}: ${samples.gateSummaries[0]} (${reused}/${samples.gateSummaries.length})`);
  }
  if (result.audit) {
    out.push(`  audit: ${result.audit.lines.online[0]}; offline: ${result.audit.lines.offline[0]}`);
    if (result.audit.denials.length) {
      out.push('AUDIT DENIED PACKAGES THE INSTALL ALLOWED; first denials:', ...result.audit.denials);
    }
  }
  out.push('', 'peak resident memory of the Yarn process, median MiB; local servers CPU, median s:');
  for (const [phase, s] of Object.entries(result.phases)) {
    const served = (key: Key) => {
      const list = s.served[key];
      if (list.length === 0) return '';
      const pick = (f: (m: MirrorStats) => number) => median(list.map(f));
      return (
        `; ${labels[key]} fetched ${pick((m) => m.requests.tarball).toFixed(0)} tarballs ` +
        `(${mib(pick((m) => m.bytes.tarball))}), ${pick((m) => m.requests.abbreviated + m.requests.full).toFixed(0)} documents ` +
        `(${mib(pick((m) => m.bytes.abbreviated + m.bytes.full))})`
      );
    };
    out.push(
      `  ${phase}: memory A ${median(s.peakMiB.a).toFixed(0)}, B ${median(s.peakMiB.b).toFixed(0)} ` +
        `(${(median(s.peakMiB.b) / median(s.peakMiB.a)).toFixed(2)}x); servers A ${median(s.serverCpuS.a).toFixed(1)}, ` +
        `B ${median(s.serverCpuS.b).toFixed(1)}${served('a')}${served('b')}`,
    );
  }
  out.push('', "Yarn process CPU (its threads and scripts), median s; B's added user CPU, median of pairs:");
  for (const [phase, s] of Object.entries(result.phases)) {
    const added = pairDifferences(s.yarnUserS.a, s.yarnUserS.b);
    out.push(
      `  ${phase}: user A ${median(s.yarnUserS.a).toFixed(2)}, B ${median(s.yarnUserS.b).toFixed(2)}, ` +
        `added ${median(added).toFixed(2)} (${((median(added) * 1000) / result.packages).toFixed(2)} per 1,000 packages); ` +
        `system A ${median(s.yarnSystemS.a).toFixed(2)}, B ${median(s.yarnSystemS.b).toFixed(2)}`,
    );
  }
  out.push('', `goals (${result.name}): ${formatGoals(perThousand(result))}`);
  return out.join('\n');
}

/** The figures the issue's goals are judged on, scaled per 1,000 packages (or audit entries). */
export interface PerThousand {
  name: string;
  packages: number;
  auditEntries: number;
  /** B-A median of pairs, seconds per 1,000 packages, with the B/A ratio and the load beside it */
  added: Partial<Record<InstallPhase, { perThousandS: number; ratio: number; load: string; runs: number }>>;
  /** peak memory B/A in a CI checkout */
  checkoutPeakRatio?: number;
  auditPerThousandS?: { online: number; offline: number; load: string };
}

export function perThousand(result: MeasureSetResult): PerThousand {
  const added: PerThousand['added'] = {};
  for (const [phase, c] of Object.entries(result.comparisons) as [InstallPhase, Comparison][]) {
    added[phase] = {
      perThousandS: (c.addedMs.median / 1000) * (1000 / result.packages),
      ratio: c.ratio.median,
      load: formatLoad(c.load),
      runs: c.a.runs,
    };
  }
  const checkout = result.phases.checkout;
  return {
    name: result.name,
    packages: result.packages,
    auditEntries: result.auditEntries,
    added,
    ...(checkout ? { checkoutPeakRatio: median(checkout.peakMiB.b) / median(checkout.peakMiB.a) } : {}),
    ...(result.audit
      ? {
          auditPerThousandS: {
            online: (result.audit.online.summary.median / 1000) * (1000 / result.auditEntries),
            offline: (result.audit.offline.summary.median / 1000) * (1000 / result.auditEntries),
            load: formatLoad(result.audit.offline.load),
          },
        }
      : {}),
  };
}

function formatGoals(p: PerThousand): string {
  const parts: string[] = [];
  const a = p.added;
  if (a.checkout) {
    parts.push(
      `CI checkout +${a.checkout.perThousandS.toFixed(2)} s per 1,000 packages (<= 2 s), ` +
        `peak memory ${(((p.checkoutPeakRatio ?? Number.NaN) - 1) * 100).toFixed(0)}% over plain Yarn (<= 10%)`,
    );
  }
  if (a.warm) parts.push(`warm ${a.warm.ratio.toFixed(3)}x (<= 1.05)`);
  if (a['warm-no-verdict'])
    parts.push(`warm without the verdict ${a['warm-no-verdict'].ratio.toFixed(3)}x (<= 1.3)`);
  if (p.auditPerThousandS) {
    parts.push(`offline audit ${p.auditPerThousandS.offline.toFixed(2)} s per 1,000 entries (<= 1 s)`);
  }
  return `${parts.join('; ')}; load at the end ${load()}`;
}

/** Per-1,000 figures of several measure sets side by side: the linearity table. */
export function formatLinearity(sets: readonly PerThousand[]): string {
  const header = ['per 1,000 packages (median of pairs; load 1m median (max))', ...sets.map((s) => s.name)];
  const row = (label: string, cell: (s: PerThousand) => string) => [label, ...sets.map(cell)];
  const added = (phase: InstallPhase, label: string) =>
    row(label, (s) => {
      const f = s.added[phase];
      return f ? `+${f.perThousandS.toFixed(2)} s, ${f.ratio.toFixed(2)}x, load ${f.load}` : '—';
    });
  const rows = [
    row('packages / audited entries', (s) => `${s.packages} / ${s.auditEntries}`),
    added('checkout', 'CI checkout, B-A'),
    added('cold', 'cold without lockfile, B-A'),
    added('warm', 'warm, verdict reused, B-A'),
    added('warm-no-verdict', 'warm, verdict removed, B-A'),
    added('warm-no-cache', 'warm, Tollgate cache emptied, B-A'),
    row('CI checkout peak memory B/A', (s) =>
      s.checkoutPeakRatio ? `${s.checkoutPeakRatio.toFixed(2)}x` : '—',
    ),
    row('audit online, per 1,000 entries', (s) =>
      s.auditPerThousandS ? `${s.auditPerThousandS.online.toFixed(2)} s` : '—',
    ),
    row('audit --offline, per 1,000 entries', (s) =>
      s.auditPerThousandS
        ? `${s.auditPerThousandS.offline.toFixed(2)} s, load ${s.auditPerThousandS.load}`
        : '—',
    ),
  ];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
