// The leaf key import (perf/leaf-key.ts): a marked uncompressed P-256 SPKI is imported as the same
// key through its JWK form; everything else goes to sigstore-js's own import, errors included.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import { crypto } from '@sigstore/core';
import { markLeafKey } from '../../policy/evidence/perf/leaf-key';

const spkiOf = (key: KeyObject) => key.export({ format: 'der', type: 'spki' });

describe('leaf key import', () => {
  test('a marked P-256 key imports as the same key', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const der = markLeafKey(spkiOf(publicKey));
    const imported = crypto.createPublicKey(der);
    assert.equal(imported.asymmetricKeyType, 'ec');
    assert.deepEqual(imported.asymmetricKeyDetails, { namedCurve: 'prime256v1' });
    assert.deepEqual(spkiOf(imported), der);
  });

  test('P-384 and Ed25519 keys, marked or not, import through sigstore-js as before', () => {
    for (const key of [
      generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey,
      generateKeyPairSync('ed25519').publicKey,
    ]) {
      const der = markLeafKey(spkiOf(key));
      assert.deepEqual(spkiOf(crypto.createPublicKey(der)), der);
    }
  });

  test('a marked P-256 SPKI whose point is off the curve is refused, as the DER import refuses it', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const offCurve = Buffer.from(spkiOf(publicKey));
    offCurve[offCurve.length - 1]! ^= 1;
    const unmarked = Buffer.from(offCurve);
    assert.throws(() => crypto.createPublicKey(unmarked));
    assert.throws(() => crypto.createPublicKey(markLeafKey(offCurve)));
  });

  test('an unmarked buffer of the same bytes takes the DER path (only prepared leaves are diverted)', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const der = spkiOf(publicKey);
    assert.deepEqual(spkiOf(crypto.createPublicKey(Buffer.from(der))), der);
  });
});
