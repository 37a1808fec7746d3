import { get } from 'node:http';
import { join } from 'node:path';
import { repoRoot } from '../../test/harness/paths';
import { startAnnouncing, stopChild } from '../../test/harness/process';
import type { Scope } from '../../test/harness/scope';
import { type MirrorStats, STATS_PATH } from './mirror-server';

export interface RunningMirror {
  /** http://127.0.0.1:<port> (no trailing slash, as npmRegistryServer) */
  url: string;
  pid: number;
  stats(): Promise<MirrorStats>;
  stop(): Promise<void>;
}

/** Serves the recording in `dir` from a child process on 127.0.0.1; stopped when `scope` closes. */
export async function startMirror(scope: Scope, dir: string): Promise<RunningMirror> {
  const started = await startAnnouncing<{ port: number; exchanges: number }>(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'bench/realworld/mirror-main.ts'), dir],
    { cwd: repoRoot, name: 'recorded mirror', timeoutMs: 180_000 },
  );
  const { child } = started;
  scope.defer(() => stopChild(child));
  const url = `http://127.0.0.1:${started.ready.port}`;
  return {
    url,
    pid: child.pid!,
    stats: () => readStats(`${url}${STATS_PATH}`),
    stop: () => stopChild(child),
  };
}

/** What the mirror served between two readings. */
export function statsSince(before: MirrorStats, after: MirrorStats): MirrorStats {
  const kinds = ['tarball', 'abbreviated', 'full'] as const;
  return {
    requests: Object.fromEntries(
      kinds.map((k) => [k, after.requests[k] - before.requests[k]]),
    ) as MirrorStats['requests'],
    bytes: Object.fromEntries(
      kinds.map((k) => [k, after.bytes[k] - before.bytes[k]]),
    ) as MirrorStats['bytes'],
    misses: after.misses - before.misses,
    missed: after.missed.slice(before.missed.length),
  };
}

/**
 * The mirror's counters, on a connection of its own: a pooled keep-alive socket left idle through a
 * minute-long install may be closed under the next request ("other side closed"), failing the bench.
 */
function readStats(url: string): Promise<MirrorStats> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new Error(`the recorded mirror answered ${res.statusCode} to ${url}`));
          return;
        }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as MirrorStats);
        } catch (error) {
          reject(error);
        }
      });
      res.on('error', reject);
    }).on('error', (error) => reject(new Error(`reading the recorded mirror's counters: ${error.message}`)));
  });
}
