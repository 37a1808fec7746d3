import { availableParallelism } from 'node:os';
import { VERIFIER_WORKER_SOURCE } from '../generated/verifier-worker';

/** Below this many packages, starting worker threads costs more than it saves. */
export const MIN_PACKAGES_FOR_THREADS = 48;

/**
 * The same on two cores, where the threads share the machine with Yarn's own thread and zip workers.
 * Measured on a 2-core VM (policy's pool, the signed fixture's bundles, warm calling thread): two
 * threads took longer than the calling thread alone up to ~400 bundles (400: 464 against 426 ms) and
 * were ahead at 1,000 (865 against 1,013 ms); each thread's start (compiling the worker, building its
 * trust context, a cold JIT) cost ~140 ms, and every threaded run ~450 ms more CPU.
 */
export const MIN_PACKAGES_FOR_THREADS_ON_TWO_CORES = 512;

export function verifierThreads(packages: number, cores = availableParallelism()): number {
  const least = cores <= 2 ? MIN_PACKAGES_FOR_THREADS_ON_TWO_CORES : MIN_PACKAGES_FOR_THREADS;
  if (packages < least || cores < 2) return 0;
  return Math.min(4, cores);
}

/**
 * The worker's code, embedded in the plugin at build time and run from memory: a worker file in the
 * cache folder would be code that whoever can write that folder could replace.
 */
export function verifierWorkerSource(): string {
  return VERIFIER_WORKER_SOURCE;
}
