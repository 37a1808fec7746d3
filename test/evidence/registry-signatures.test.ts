import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  registrySignedMessage,
  verifyRegistrySignature,
} from '../../policy/evidence/npm/registry-signatures';
import { loadTrustRoots } from '../../policy/evidence/trust/context';
import { parseNpmRegistryKeys } from '../../policy/evidence/trust/npm-keys';
import { fixturePath } from './fixtures';

const vector = JSON.parse(readFileSync(fixturePath('npm-registry-signature-vector.json'), 'utf8'));
const pkg = { name: vector.name, version: vector.version, integrity: vector.integrity };
const now = new Date('2026-01-01T00:00:00Z');

test('the real registry signature verifies with the npm key embedded in @sigstore/tuf', () => {
  assert.equal(registrySignedMessage(pkg.name, pkg.version, pkg.integrity), vector.message);
  const { npmKeys } = loadTrustRoots([{ name: 'public-good' }]);
  const outcome = verifyRegistrySignature(vector.signatures[0], pkg, npmKeys, now);
  assert.deepEqual(outcome, { result: { keyId: vector.key.keyid, verified: true } });
});

test('the same key from the registry keys endpoint format verifies too', () => {
  const keys = parseNpmRegistryKeys({ keys: [vector.key] }, 'vector');
  assert.equal(verifyRegistrySignature(vector.signatures[0], pkg, keys, now).result.verified, true);
});

test('a signature over other content, or by an unknown key, does not verify', () => {
  const { npmKeys } = loadTrustRoots([{ name: 'public-good' }]);
  const otherVersion = verifyRegistrySignature(
    vector.signatures[0],
    { ...pkg, version: '2.1.118' },
    npmKeys,
    now,
  );
  assert.equal(otherVersion.result.verified, false);
  assert.equal(otherVersion.error?.code, 'REGISTRY_SIGNATURE_INVALID');
  const unknown = verifyRegistrySignature(
    { ...vector.signatures[0], keyid: 'SHA256:nope' },
    pkg,
    npmKeys,
    now,
  );
  assert.equal(unknown.error?.code, 'REGISTRY_KEY_UNKNOWN');
});

test('key expiry: a key that expired before the given time fails; before expiry it verifies', () => {
  const expiring = parseNpmRegistryKeys(
    { keys: [{ ...vector.key, expires: '2025-06-01T00:00:00.000Z' }] },
    'expiring',
  );
  const before = verifyRegistrySignature(
    vector.signatures[0],
    pkg,
    expiring,
    new Date('2025-05-01T00:00:00Z'),
  );
  assert.equal(before.result.verified, true);
  const after = verifyRegistrySignature(
    vector.signatures[0],
    pkg,
    expiring,
    new Date('2025-07-01T00:00:00Z'),
  );
  assert.equal(after.result.verified, false);
  assert.equal(after.error?.code, 'REGISTRY_KEY_EXPIRED');
  assert.match(after.error!.message, /not at 2025-07-01/);
  const noClock = verifyRegistrySignature(vector.signatures[0], pkg, expiring, undefined);
  assert.equal(noClock.error?.code, 'REGISTRY_KEY_EXPIRED');
});
