import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(benchRoot, '..');
export const resultsDir = join(benchRoot, 'results');

/** What a figure means depends on where it was taken: recorded next to every result. */
export interface MachineDescription {
  platform: string;
  release: string;
  arch: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryBytes: number;
  /** 1, 5 and 15 minute load averages when the bench started: a busy shared box skews figures */
  loadAverageAtStart: number[];
  node: string;
  commit: string | null;
  /** true when the working tree had uncommitted changes: the commit alone does not describe the code */
  dirty: boolean | null;
}

export function describeMachine(): MachineDescription {
  const cpuList = cpus();
  return {
    platform: platform(),
    release: release(),
    arch: arch(),
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cpuCount: cpuList.length,
    totalMemoryBytes: totalmem(),
    loadAverageAtStart: loadavg(),
    node: process.version,
    commit: git(['rev-parse', 'HEAD']),
    dirty: (() => {
      const status = git(['status', '--porcelain']);
      return status === null ? null : status.length > 0;
    })(),
  };
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

/**
 * Writes bench/results/<name>-<timestamp>.json with the machine description taken when the bench
 * started, and returns the path relative to the repo root (for the terminal report).
 */
export function writeResults(
  name: string,
  machine: MachineDescription,
  startedAt: Date,
  results: Record<string, unknown>,
): string {
  mkdirSync(resultsDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const path = join(resultsDir, `${name}-${stamp}.json`);
  const document = {
    bench: name,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine,
    ...results,
  };
  writeFileSync(path, `${JSON.stringify(document, null, 2)}\n`);
  return relative(repoRoot, path);
}
