// Signature checks of proposed entries on worker threads, so that the curve arithmetic (~0.2 ms
// for a hashedrekord digest signature, ~0.15 ms for a DSSE signature including its key import)
// runs beside the HTTP handling instead of on the same thread. Checks that arrive together are
// sent to a worker as one message. A worker that fails or exits hands its unfinished checks back to
// the calling thread: an answer is never assumed, and an entry is never acknowledged unless its
// signature was checked and held.
//
// The workers run the executable's own bundle (cli.ts starts runVerifyWorker when it is loaded as
// one); from source (tsx, tests) there is no bundle to run, and checks stay inline.
import { verify } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { type EcPublicKey, ecKeyObject } from './keys';
import { verifyPrehashed } from './prehashed-ecdsa';

export const VERIFY_WORKER_ROLE = 'tollgate-server:signature-checks';

/** An ECDSA signature by `ec`, over a digest the client computed or over a message (SHA-256). */
export type SignatureCheck = { ec: EcPublicKey; signature: Uint8Array } & (
  | { digest: Uint8Array; message?: undefined }
  | { message: Uint8Array; digest?: undefined }
);

interface Job {
  check: SignatureCheck;
  resolve: (ok: boolean) => void;
}

type Request = { id: number; check: SignatureCheck };
type Response = { id: number; ok: boolean };

interface Slot {
  worker: Worker;
  alive: boolean;
  running: Map<number, Job>;
  outbox: Request[];
}

/** The check itself, on the calling thread. */
export function checkSignature(check: SignatureCheck): boolean {
  if (check.digest) return verifyPrehashed(check.ec.curve, check.ec.point, check.digest, check.signature);
  try {
    return verify('sha256', check.message, ecKeyObject(check.ec), check.signature);
  } catch {
    return false;
  }
}

export interface SignatureVerifier {
  verify(check: SignatureCheck): Promise<boolean>;
  close(): Promise<void>;
}

/** Checks on the calling thread. */
export const inlineSignatureVerifier: SignatureVerifier = {
  verify: async (check) => checkSignature(check),
  close: async () => {},
};

/** The default thread count: the cores beyond the one serving HTTP, at most 4. */
export function defaultVerifyThreads(): number {
  return Math.min(4, Math.max(0, availableParallelism() - 1));
}

export function createSignatureVerifier(options: { entry?: string; threads: number }): SignatureVerifier {
  if (!options.entry || options.threads <= 0) return inlineSignatureVerifier;
  let nextId = 1;
  let flushScheduled = false;
  const slots: Slot[] = [];

  const retire = (slot: Slot) => {
    if (!slot.alive) return;
    slot.alive = false;
    for (const job of slot.running.values()) job.resolve(checkSignature(job.check));
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
      if (alive.length === 0) return Promise.resolve(checkSignature(check));
      const slot = alive.reduce((a, b) => (b.running.size < a.running.size ? b : a));
      return new Promise<boolean>((resolve) => {
        const id = nextId++;
        if (slot.running.size === 0) slot.worker.ref();
        slot.running.set(id, { check, resolve });
        slot.outbox.push({ id, check });
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
    port.postMessage(requests.map((r): Response => ({ id: r.id, ok: checkSignature(r.check) })));
  });
}
