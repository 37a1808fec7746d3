// Entry signatures checked on worker threads (running the built executable's bundle) give exactly
// the inline answers, for digest signatures (hashedrekord) and message signatures (dsse), and a
// worker that dies hands its checks back to the calling thread: no answer is ever assumed.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  checkSignature,
  createSignatureVerifier,
  inlineSignatureVerifier,
  type SignatureCheck,
} from '../../server/log/verify-pool';
import { serverExecutable, tempDir } from './helpers';

function checks(n: number): SignatureCheck[] {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = key.publicKey.export({ format: 'jwk' });
  const ec = {
    curve: 'prime256v1',
    jwkCurve: 'P-256',
    point: Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x!, 'base64url'),
      Buffer.from(jwk.y!, 'base64url'),
    ]),
  };
  return Array.from({ length: n }, (_, i): SignatureCheck => {
    const data = Buffer.from(`pool ${i}`);
    const signature = sign('sha256', data, key.privateKey);
    // Every third check is over other bytes, so a third must fail; odd ones are message checks.
    const signed = i % 3 === 0 ? Buffer.from('other') : data;
    return i % 2 === 0
      ? { ec, signature, digest: createHash('sha256').update(signed).digest() }
      : { ec, signature, message: signed };
  });
}

test('worker threads answer exactly as the inline check', async () => {
  const pool = createSignatureVerifier({ entry: serverExecutable, threads: 2 });
  try {
    const all = checks(120);
    const answers = await Promise.all(all.map((c) => pool.verify(c)));
    assert.deepEqual(answers, all.map(checkSignature));
    assert.equal(answers.filter((a) => !a).length, 40);
  } finally {
    await pool.close();
  }
});

test('a worker that dies hands its checks back to the calling thread', async (t) => {
  const dying = join(tempDir(t), 'dying-worker.cjs');
  writeFileSync(dying, "require('node:worker_threads').parentPort.on('message', () => process.exit(3));\n");
  const pool = createSignatureVerifier({ entry: dying, threads: 1 });
  try {
    const all = checks(30);
    const answers = await Promise.all(all.map((c) => pool.verify(c)));
    assert.deepEqual(answers, all.map(checkSignature));
    // Once the worker is gone, checks run inline from the start.
    assert.equal(await pool.verify(all[1]!), true);
    assert.equal(await pool.verify(all[0]!), false);
  } finally {
    await pool.close();
  }
});

test('without a worker entry, or with no threads, checks are inline', () => {
  assert.equal(createSignatureVerifier({ threads: 4 }), inlineSignatureVerifier);
  assert.equal(createSignatureVerifier({ entry: serverExecutable, threads: 0 }), inlineSignatureVerifier);
});
