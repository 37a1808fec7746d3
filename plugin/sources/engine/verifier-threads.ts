import { availableParallelism } from 'node:os';
import { VERIFIER_WORKER_SOURCE } from '../generated/verifier-worker';

/** Below this many packages, starting worker threads costs more than it saves. */
export const MIN_PACKAGES_FOR_THREADS = 48;

export function verifierThreads(packages: number): number {
  if (packages < MIN_PACKAGES_FOR_THREADS) return 0;
  return Math.min(4, availableParallelism());
}

/**
 * The worker's code, embedded in the plugin at build time and run from memory: a worker file in the
 * cache folder would be code that whoever can write that folder could replace.
 */
export function verifierWorkerSource(): string {
  return VERIFIER_WORKER_SOURCE;
}
