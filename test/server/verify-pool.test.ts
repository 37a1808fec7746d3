// hashedrekord signatures checked on worker threads (running the built executable's bundle) give
// exactly the inline answers, and a worker that dies hands its checks back to the calling thread:
// no answer is ever assumed.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { verifyPrehashed } from '../../server/log/prehashed-ecdsa';
import { createDigestVerifier, inlineDigestVerifier } from '../../server/log/verify-pool';
import { serverExecutable, tempDir } from './helpers';

function checks(n: number) {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = key.publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x!, 'base64url'),
    Buffer.from(jwk.y!, 'base64url'),
  ]);
  return Array.from({ length: n }, (_, i) => {
    const data = Buffer.from(`pool ${i}`);
    const signature = sign('sha256', data, key.privateKey);
    // Every third check is over another digest, so about a third must fail.
    const digest = createHash('sha256')
      .update(i % 3 === 0 ? 'other' : data)
      .digest();
    return { curve: 'prime256v1', point, digest, signature };
  });
}

test('worker threads answer exactly as the inline check', async () => {
  const pool = createDigestVerifier({ entry: serverExecutable, threads: 2 });
  try {
    const all = checks(120);
    const answers = await Promise.all(all.map((c) => pool.verify(c)));
    const expected = all.map((c) => verifyPrehashed(c.curve, c.point, c.digest, c.signature));
    assert.deepEqual(answers, expected);
    assert.equal(answers.filter((a) => !a).length, 40);
  } finally {
    await pool.close();
  }
});

test('a worker that dies hands its checks back to the calling thread', async (t) => {
  const dying = join(tempDir(t), 'dying-worker.cjs');
  writeFileSync(dying, "require('node:worker_threads').parentPort.on('message', () => process.exit(3));\n");
  const pool = createDigestVerifier({ entry: dying, threads: 1 });
  try {
    const all = checks(30);
    const answers = await Promise.all(all.map((c) => pool.verify(c)));
    assert.deepEqual(answers, await Promise.all(all.map((c) => inlineDigestVerifier.verify(c))));
    // Once the worker is gone, checks run inline from the start.
    assert.equal(await pool.verify(all[1]!), true);
    assert.equal(await pool.verify(all[0]!), false);
  } finally {
    await pool.close();
  }
});

test('without a worker entry, or with no threads, verification is inline', async () => {
  assert.equal(createDigestVerifier({ threads: 4 }), inlineDigestVerifier);
  assert.equal(createDigestVerifier({ entry: serverExecutable, threads: 0 }), inlineDigestVerifier);
});
