import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { VERIFIER_WORKER_DIGEST, VERIFIER_WORKER_SOURCE } from '../generated/verifier-worker';

/** Below this many packages, starting worker threads costs more than it saves. */
export const MIN_PACKAGES_FOR_THREADS = 48;

export function verifierThreads(packages: number): number {
  if (packages < MIN_PACKAGES_FOR_THREADS) return 0;
  return Math.min(4, availableParallelism());
}

/**
 * The worker's code, written once per build into the cache folder under its digest, and re-read and
 * re-hashed before each use so that an edited file is replaced rather than run.
 */
export function materializeVerifierWorker(cacheFolder: string): string {
  const path = join(cacheFolder, `verifier-worker-${VERIFIER_WORKER_DIGEST.slice(0, 16)}.cjs`);
  try {
    const current = readFileSync(path);
    if (createHash('sha256').update(current).digest('hex') === VERIFIER_WORKER_DIGEST) return path;
  } catch {}
  mkdirSync(cacheFolder, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, VERIFIER_WORKER_SOURCE, { mode: 0o600 });
  renameSync(tmp, path);
  return path;
}
