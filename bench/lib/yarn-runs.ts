// Running Yarn in the install benches: timed installs with the peak memory of the Yarn process
// (max-rss.cjs preloaded), Tollgate's summary line, audits, and the plugin bundle's digest.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pluginBundle, tempDir } from '../../test/harness/paths';
import type { RunResult } from '../../test/harness/process';
import type { YarnProject } from '../../test/harness/yarn-project';
import { timed } from './interleave';
import { repoRoot } from './results';

export const yarnTimeoutMs = 30 * 60_000;

/** Where the preloaded max-rss.cjs reports each Yarn process's peak memory. */
const rssDir = tempDir('bench-rss');
const rssPreload = join(repoRoot, 'bench/lib/max-rss.cjs');

/** The peak resident memory of the Yarn process of the last run, in MiB (read and cleared). */
export function lastPeakMiB(): number {
  const files = readdirSync(rssDir);
  const peaks = files.map((f) => JSON.parse(readFileSync(join(rssDir, f), 'utf8')).maxRssKiB as number);
  for (const f of files) rmSync(join(rssDir, f));
  return peaks.length ? Math.max(...peaks) / 1024 : Number.NaN;
}

/** The 1, 5 and 15 minute load averages, as printed beside every sample. */
export const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** `yarn install` with the peak-memory probe; throws with the output's tail when it fails. */
export async function install(project: YarnProject, args: string[] = []): Promise<RunResult> {
  const result = await project.yarn(['install', ...args], {
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

/** Tollgate's summary line of an install (the gate's own proof that it judged every package). */
export function gateSummary(result: RunResult): string {
  return result.output.match(/Tollgate: \d+ allowed[^\n]*/)?.[0] ?? '(no Tollgate summary in the output)';
}

/** The gate says so when it reused the install-level verdict instead of judging again. */
export function reusedVerdict(summary: string): boolean {
  return summary.includes('nothing changed since the install verified at');
}

export interface AuditRun {
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
export async function audit(project: YarnProject, offline: boolean, entries: number): Promise<AuditRun> {
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
 * The plugin bundle's digest: every B run imports the bundle afresh, and the tree is shared, so a
 * rebuild during a run would mix two plugins in one series. The benches compare start and end.
 */
export function pluginDigest(): string | null {
  try {
    return createHash('sha256').update(readFileSync(pluginBundle)).digest('hex');
  } catch {
    return null;
  }
}

export function yarnVersion(): string {
  return JSON.parse(readFileSync(join(repoRoot, 'node_modules/@yarnpkg/cli-dist/package.json'), 'utf8'))
    .version as string;
}

/** Removes a throwaway project and its Yarn global folder (Tollgate's cache folder lives inside). */
export function discard(project: YarnProject): void {
  rmSync(project.dir, { recursive: true, force: true });
  rmSync(project.globalFolder, { recursive: true, force: true });
}
