// Verifies many packages concurrently on worker threads (one per core by default), each with its own
// prepared TrustContext and, when a directory is given, a reader of the verification cache there (the
// verdicts the workers set come back with their answers; the pool's own cache packs them). The
// verdicts are exactly those of verifyPackageEvidence: workers run the same code on the same inputs.
// If a worker dies, its unfinished packages are verified on the calling thread instead; a verdict is
// never dropped or assumed.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { hasContentToVerify, verifyPackageEvidenceCached } from '../cache/cached-verify';
import { openVerificationCache } from '../cache/verification-cache';
import type { TrustContext } from '../trust/context';
import type { VerifiedEvidence } from '../types';
import { type PackageEvidenceInput, verifyPackageEvidence } from '../verify-package';
import type { WorkerInit, WorkerRequest, WorkerResponse } from './protocol';

export interface VerifierPoolOptions {
  /** Worker threads; 0 verifies on the calling thread. Default: available cores, at most 4. */
  threads?: number;
  /** Directory of the verification cache shared by all threads (see cache/verification-cache.ts). */
  cacheDir?: string;
  /**
   * The key authenticating the cache. Callers whose cache folder others can fill (a repository, a
   * restored CI cache) keep it elsewhere and pass it; without it the folder's own key file is used.
   */
  cacheSecret?: Buffer;
  /**
   * The worker entry (pool/worker.ts, or its bundled .js/.cjs). Defaults to the sibling of this module,
   * which works from source (tsx) and unbundled builds; bundlers must pass the emitted file.
   */
  workerUrl?: URL | string;
  /**
   * The worker's code itself, run with `eval` (bundled callers that embed it): no file is written or
   * read, so nothing in a folder others can write is ever executed.
   */
  workerSource?: string;
}

export interface VerifierPool {
  verify(input: PackageEvidenceInput): Promise<VerifiedEvidence>;
  verifyAll(inputs: PackageEvidenceInput[]): Promise<VerifiedEvidence[]>;
  /** Worker threads verifying: none before the first package with something to verify, or if none could start. */
  readonly threads: number;
  close(): Promise<void>;
}

const JOBS_PER_WORKER = 2;

interface Job {
  id: number;
  input: PackageEvidenceInput;
  resolve: (evidence: VerifiedEvidence) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  running: Map<number, Job>;
  alive: boolean;
}

// In a CommonJS bundle (the Yarn plugin) import.meta.url does not exist: then there is no sibling
// worker file to find and the pool verifies on the calling thread unless workerUrl is given.
function defaultWorkerUrl(): URL | undefined {
  const here: unknown = import.meta.url;
  if (typeof here !== 'string') return undefined;
  return new URL(here.endsWith('.ts') ? './worker.ts' : './worker.js', here);
}

export async function createVerifierPool(
  ctx: TrustContext,
  options: VerifierPoolOptions = {},
): Promise<VerifierPool> {
  const url = options.workerSource === undefined ? (options.workerUrl ?? defaultWorkerUrl()) : undefined;
  const threads =
    url || options.workerSource !== undefined ? (options.threads ?? Math.min(4, availableParallelism())) : 0;
  const cache = options.cacheDir
    ? openVerificationCache(options.cacheDir, options.cacheSecret ? { secret: options.cacheSecret } : {})
    : undefined;
  const local = (input: PackageEvidenceInput) =>
    cache ? verifyPackageEvidenceCached(ctx, cache, input) : verifyPackageEvidence(ctx, input);

  if (threads <= 0) {
    return {
      verify: local,
      verifyAll: (inputs) => Promise.all(inputs.map(local)),
      threads: 0,
      close: async () => cache?.flush(),
    };
  }

  const queue: Job[] = [];
  let nextId = 1;
  const init: WorkerInit = { trust: ctx.specs, cacheDir: options.cacheDir };
  if (options.cacheSecret) init.cacheSecret = new Uint8Array(options.cacheSecret);
  const slots: Slot[] = [];

  const settle = (job: Job, promise: Promise<VerifiedEvidence>) => promise.then(job.resolve, job.reject);

  const pump = () => {
    for (const slot of slots) {
      while (slot.alive && slot.running.size < JOBS_PER_WORKER && queue.length > 0) {
        const job = queue.shift()!;
        slot.running.set(job.id, job);
        slot.worker.postMessage({ id: job.id, input: job.input } satisfies WorkerRequest);
      }
    }
    if (!slots.some((s) => s.alive)) {
      for (const job of queue.splice(0)) settle(job, local(job.input));
    }
  };

  const retire = (slot: Slot) => {
    if (!slot.alive) return;
    slot.alive = false;
    for (const job of slot.running.values()) settle(job, local(job.input));
    slot.running.clear();
    pump();
  };

  // Started on the first package with a bundle or a tarball to verify: an install whose packages carry
  // no evidence (most of a public project's) never pays for threads that would verify nothing. Requests
  // posted before a worker has built its TrustContext wait in its port.
  let started = false;
  const start = () => {
    started = true;
    for (let i = 0; i < threads; i++) {
      let worker: Worker;
      try {
        worker =
          options.workerSource !== undefined
            ? new Worker(options.workerSource, { eval: true, workerData: init })
            : new Worker(url!, { workerData: init });
      } catch {
        continue; // this thread verifies nothing; pump() falls back to the calling thread
      }
      const slot: Slot = { worker, running: new Map(), alive: true };
      slots.push(slot);
      worker.on('message', (message: WorkerResponse) => {
        if ('ready' in message) return;
        if ('initError' in message) {
          retire(slot);
          void worker.terminate();
          return;
        }
        const job = slot.running.get(message.id);
        if (!job) return;
        slot.running.delete(message.id);
        if ('evidence' in message) {
          if (message.verdicts) cache?.absorb(message.verdicts);
          job.resolve(message.evidence);
        } else settle(job, local(job.input));
        pump();
      });
      worker.on('error', () => retire(slot));
      worker.on('exit', () => retire(slot));
    }
  };

  // A package with no bundle and no tarball needs only a name/version comparison (and its registry
  // signatures, a P-256 verify each): posting it to a worker costs more than doing it here.
  const verify = (input: PackageEvidenceInput) => (hasContentToVerify(input) ? queued(input) : local(input));
  const queued = (input: PackageEvidenceInput) =>
    new Promise<VerifiedEvidence>((resolve, reject) => {
      if (!started) start();
      queue.push({ id: nextId++, input, resolve, reject });
      pump();
    });

  return {
    verify,
    verifyAll: (inputs) => Promise.all(inputs.map(verify)),
    get threads() {
      return slots.filter((slot) => slot.alive).length;
    },
    async close() {
      await Promise.all(
        slots.map(async (slot) => {
          slot.alive = false;
          await slot.worker.terminate();
        }),
      );
      cache?.flush();
    },
  };
}
