// Captured tarballs (engine/captures.ts): each locator's bytes become their sha512 integrity, hashed on
// libuv's thread pool while the copies waiting there stay under a bound, and on the calling thread past
// it; the integrity is the same either way, and a capture is taken once.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { LocatorHash } from '@yarnpkg/core';
import { TarballCaptures } from '../../plugin/sources/engine/captures';

const integrityOf = (bytes: Buffer) => `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
const hash = (i: number) => `locator-${i}` as LocatorHash;

describe('tarball captures', () => {
  test('past the bound, tarballs are hashed at once: the bytes waiting never exceed it, the integrity is the same', async () => {
    const captures = new TarballCaptures(3 << 20);
    const tarballs = Array.from({ length: 12 }, () => randomBytes(1 << 20));
    let most = 0;
    tarballs.forEach((bytes, i) => {
      captures.record(hash(i), `acme-${i}@npm:1.0.0`, `http://registry/acme-${i}.tgz`, bytes);
      most = Math.max(most, captures.bytesWaiting);
    });
    assert.ok(most <= 3 << 20, `at most the bound waits (${most})`);
    assert.ok(most > 0, 'some were hashed on the thread pool');
    for (const [i, bytes] of tarballs.entries()) {
      const captured = await captures.take(hash(i));
      assert.deepEqual(captured, {
        locator: `acme-${i}@npm:1.0.0`,
        url: `http://registry/acme-${i}.tgz`,
        integrity: integrityOf(bytes),
      });
    }
    assert.equal(captures.bytesWaiting, 0);
  });

  test('a capture is taken once; a locator never captured gives nothing', async () => {
    const captures = new TarballCaptures();
    captures.record(hash(1), 'acme@npm:1.0.0', 'http://registry/acme.tgz', randomBytes(100));
    assert.ok(await captures.take(hash(1)));
    assert.equal(await captures.take(hash(1)), undefined);
    assert.equal(await captures.take(hash(2)), undefined);
  });
});
