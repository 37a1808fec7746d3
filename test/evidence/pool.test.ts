import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openVerificationCache } from '../../policy/evidence/cache/verification-cache';
import { createVerifierPool } from '../../policy/evidence/pool/verifier-pool';
import { loadTrustRoots } from '../../policy/evidence/trust/context';
import { verifyPackageEvidence } from '../../policy/evidence/verify-package';
import { loadNpmFixture, NPM_PACKAGES, packageInput } from './fixtures';
import { bundledWorkerSource } from './worker-source';

const ctx = loadTrustRoots([{ name: 'public-good' }]);
const fixtures = NPM_PACKAGES.map(([file]) => loadNpmFixture(file));
const inputs = [
  ...fixtures.map((f) => packageInput(f)),
  packageInput(fixtures[1]!, { bundles: packageInput(fixtures[0]!).bundles }),
];

test('worker threads give exactly the in-process verdicts, with and without the shared cache', async (t) => {
  const expected = await Promise.all(inputs.map((i) => verifyPackageEvidence(ctx, i)));
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pool-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const cacheDir of [undefined, dir, dir]) {
    const pool = await createVerifierPool(ctx, { threads: 2, cacheDir, workerSource: bundledWorkerSource() });
    try {
      assert.deepEqual(await pool.verifyAll(inputs), expected);
      assert.equal(pool.threads, 2, 'verified on the worker threads, not the calling thread');
    } finally {
      await pool.close();
    }
  }
});

test("the workers' verdicts reach the pool's pack: the next run finds every package in it", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pool-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pool = await createVerifierPool(ctx, {
    threads: 2,
    cacheDir: dir,
    workerSource: bundledWorkerSource(),
  });
  try {
    await pool.verifyAll(inputs);
    assert.equal(pool.threads, 2);
  } finally {
    await pool.close();
  }
  const next = openVerificationCache(dir);
  for (const input of inputs) assert.ok(next.get(next.keyFor(ctx, input)), `${input.name} is packed`);
  assert.deepEqual({ hits: next.stats.hits, misses: next.stats.misses }, { hits: inputs.length, misses: 0 });
});

test('a pool whose workers cannot start verifies on the calling thread instead', async () => {
  const pool = await createVerifierPool(ctx, {
    threads: 1,
    workerUrl: new URL('data:text/javascript,throw new Error("no worker")'),
  });
  try {
    assert.deepEqual(await pool.verify(inputs[0]!), await verifyPackageEvidence(ctx, inputs[0]!));
    assert.equal(pool.threads, 0);
  } finally {
    await pool.close();
  }
});

test('no thread starts until a package has a bundle or a tarball to verify', async () => {
  const pool = await createVerifierPool(ctx, { threads: 2, workerSource: bundledWorkerSource() });
  try {
    const bare = packageInput(fixtures[0]!, {
      bundles: [],
      unpackedManifest: { name: fixtures[0]!.name, version: fixtures[0]!.version },
    });
    delete bare.tarball;
    assert.deepEqual(await pool.verify(bare), await verifyPackageEvidence(ctx, bare));
    assert.equal(pool.threads, 0, 'nothing to verify: no worker thread');
    assert.deepEqual(
      await pool.verifyAll(inputs),
      await Promise.all(inputs.map((i) => verifyPackageEvidence(ctx, i))),
    );
    assert.equal(pool.threads, 2);
  } finally {
    await pool.close();
  }
  assert.equal(pool.threads, 0);
});
