import { availableParallelism } from 'node:os';
import { VERIFIER_WORKER_SOURCE } from '../generated/verifier-worker';

/** Below this many packages, starting worker threads costs more than it saves. */
export const MIN_PACKAGES_FOR_THREADS = 48;

/**
 * The same on two cores, where the threads share the machine with Yarn's own thread and zip workers.
 * Measured on a 2-core VM (policy's pool, the signed fixture's bundles, the verification cache folder
 * as the plugin opens it): two threads against the calling thread alone took 1,101-1,149 against
 * 1,071-1,400 ms for 1,048 bundles, 1,719-2,141 against 2,090-2,378 ms for 2,096, 2,850-2,997 against
 * 3,352-3,574 ms for 3,144; the two threads always cost ~0.6 s more CPU (each one's start, its own cold
 * JIT, the messages) and ~58 MiB more memory, which below ~2,000 packages buy a tenth of a second.
 */
export const MIN_PACKAGES_FOR_THREADS_ON_TWO_CORES = 2048;
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
