// Prehashed ECDSA verification (hashedrekord) on worker threads, so that the ~0.2 ms of curve
// arithmetic per entry runs beside the HTTP handling instead of on the same thread. Requests that
// arrive together are sent to a worker as one message. A worker that fails or exits hands its
// unfinished checks back to the calling thread: a result is never assumed, and an entry is never
// acknowledged unless its signature was checked and held.
//
// The workers run the executable's own bundle (cli.ts starts runVerifyWorker when it is loaded as
// one); from source (tsx, tests) there is no bundle to run, and verification stays inline.
import { availableParallelism } from 'node:os';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { verifyPrehashed } from './prehashed-ecdsa';

export const VERIFY_WORKER_ROLE = 'tollgate-server:prehashed-ecdsa';

interface Check {
  curve: string;
  point: Uint8Array;
  digest: Uint8Array;
  signature: Uint8Array;
}

interface Job extends Check {
  id: number;
  resolve: (ok: boolean) => void;
}

type Request = { id: number } & Check;
type Response = { id: number; ok: boolean };

interface Slot {
  worker: Worker;
  alive: boolean;
  running: Map<number, Job>;
  outbox: Request[];
}

const inline = (check: Check) => verifyPrehashed(check.curve, check.point, check.digest, check.signature);

export interface DigestVerifier {
  verify(check: Check): Promise<boolean>;
  close(): Promise<void>;
}

/** Verification on the calling thread. */
export const inlineDigestVerifier: DigestVerifier = {
  verify: async (check) => inline(check),
  close: async () => {},
};

/** The default thread count: the cores beyond the one serving HTTP, at most 4. */
export function defaultVerifyThreads(): number {
  return Math.min(4, Math.max(0, availableParallelism() - 1));
}

export function createDigestVerifier(options: { entry?: string; threads: number }): DigestVerifier {
  if (!options.entry || options.threads <= 0) return inlineDigestVerifier;
  let nextId = 1;
  let flushScheduled = false;
  const slots: Slot[] = [];

  const retire = (slot: Slot) => {
    if (!slot.alive) return;
    slot.alive = false;
    for (const job of slot.running.values()) job.resolve(inline(job));
    slot.running.clear();
    slot.outbox.length = 0;
  };

  for (let i = 0; i < options.threads; i++) {
    const worker = new Worker(options.entry, { workerData: { role: VERIFY_WORKER_ROLE } });
    const slot: Slot = { worker, alive: true, running: new Map(), outbox: [] };
    // An idle worker does not keep the process alive; one with checks in flight does, so that its
    // answers (or its exit, which hands them back) are always delivered.
    worker.unref();
    worker.on('message', (responses: Response[]) => {
      for (const { id, ok } of responses) {
        const job = slot.running.get(id);
        if (!job) continue;
        slot.running.delete(id);
        job.resolve(ok === true);
      }
      if (slot.running.size === 0) worker.unref();
    });
    worker.on('error', () => retire(slot));
    worker.on('exit', () => retire(slot));
    slots.push(slot);
  }

  const flush = () => {
    flushScheduled = false;
    for (const slot of slots) {
      if (slot.alive && slot.outbox.length > 0) slot.worker.postMessage(slot.outbox.splice(0));
    }
  };

  return {
    verify(check) {
      const alive = slots.filter((s) => s.alive);
      if (alive.length === 0) return Promise.resolve(inline(check));
      const slot = alive.reduce((a, b) => (b.running.size < a.running.size ? b : a));
      return new Promise<boolean>((resolve) => {
        const job: Job = { ...check, id: nextId++, resolve };
        if (slot.running.size === 0) slot.worker.ref();
        slot.running.set(job.id, job);
        slot.outbox.push({
          id: job.id,
          curve: check.curve,
          point: check.point,
          digest: check.digest,
          signature: check.signature,
        });
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      });
    },
    async close() {
      await Promise.all(
        slots.map(async (slot) => {
          retire(slot);
          await slot.worker.terminate();
        }),
      );
    },
  };
}

/** Whether this thread was started as a verification worker. */
export function isVerifyWorker(): boolean {
  return parentPort !== null && (workerData as { role?: unknown } | null)?.role === VERIFY_WORKER_ROLE;
}

/** The worker side: checks each batch and answers it in one message. */
export function runVerifyWorker(): void {
  const port = parentPort!;
  port.on('message', (requests: Request[]) => {
    port.postMessage(requests.map((r): Response => ({ id: r.id, ok: inline(r) })));
  });
}
