// How many verifier threads a check run starts (engine/verifier-threads.ts): none for few packages,
// a higher bar on two cores (measured there: below ~2,000 bundles two threads bought a tenth of a
// second for ~0.6 s of CPU and ~58 MiB), none
// on one core, and at most four.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MIN_PACKAGES_FOR_THREADS,
  MIN_PACKAGES_FOR_THREADS_ON_TWO_CORES,
  verifierThreads,
} from '../../plugin/sources/engine/verifier-threads';

test('verifier threads by cold packages and cores', () => {
  assert.equal(verifierThreads(MIN_PACKAGES_FOR_THREADS - 1, 8), 0);
  assert.equal(verifierThreads(MIN_PACKAGES_FOR_THREADS, 8), 4);
  assert.equal(verifierThreads(MIN_PACKAGES_FOR_THREADS, 3), 3);
  assert.equal(verifierThreads(MIN_PACKAGES_FOR_THREADS_ON_TWO_CORES - 1, 2), 0);
  assert.equal(verifierThreads(MIN_PACKAGES_FOR_THREADS_ON_TWO_CORES, 2), 2);
  assert.equal(verifierThreads(100_000, 1), 0);
});
