// A verifier pool worker: builds its own TrustContext from the same specs (parsed and prepared once
// per thread) and verifies packages one message at a time. It reads the shared cache's pack but never
// writes it: the verdicts it sets go back with each answer, and the pool packs them.
import { parentPort, workerData } from 'node:worker_threads';
import { verifyPackageEvidenceCached } from '../cache/cached-verify';
import { openVerificationCache, type VerificationCache } from '../cache/verification-cache';
import { loadTrustRoots, type TrustContext } from '../trust/context';
import { verifyPackageEvidence } from '../verify-package';
import type { WorkerInit, WorkerRequest, WorkerResponse } from './protocol';

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (message: WorkerResponse) => port.postMessage(message);

let ctx: TrustContext;
let cache: VerificationCache | undefined;
try {
  ctx = loadTrustRoots(init.trust.roots, init.trust.options);
  cache = init.cacheDir
    ? openVerificationCache(init.cacheDir, init.cacheSecret ? { secret: Buffer.from(init.cacheSecret) } : {})
    : undefined;
  post({ ready: true });
} catch (err) {
  post({ initError: err instanceof Error ? err.message : String(err) });
}

port.on('message', async (request: WorkerRequest) => {
  try {
    const evidence = cache
      ? await verifyPackageEvidenceCached(ctx, cache, request.input)
      : await verifyPackageEvidence(ctx, request.input);
    const verdicts = cache?.drain() ?? [];
    post(verdicts.length > 0 ? { id: request.id, evidence, verdicts } : { id: request.id, evidence });
  } catch (err) {
    post({ id: request.id, error: err instanceof Error ? err.message : String(err) });
  }
});
