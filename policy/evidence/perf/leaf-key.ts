// The signing key of a bundle's leaf certificate, imported the cheaper way. sigstore-js builds it with
// `crypto.createPublicKey(cert.publicKey)` from the SPKI DER, which OpenSSL's decoder chain turns into
// a key in ~170 µs; the same P-256 point given as a JWK takes ~90 µs (Node checks the point is on
// the curve either way). Fulcio leaves are P-256, one per bundle, so this is 3% of a cold package.
//
// Only the exact bytes a prepared leaf hands out (leaf-certificate.ts) take this path, and only when
// they are the one DER encoding of an uncompressed P-256 SPKI (a fixed 27-byte prefix, then x and
// y); anything else, or a point the JWK import refuses, goes to sigstore-js's own import unchanged.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { crypto } from '@sigstore/core';

// SEQUENCE { SEQUENCE { OID ecPublicKey, OID prime256v1 }, BIT STRING (0 unused bits) 04 || x || y }
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex');
const P256_SPKI_LENGTH = P256_SPKI_PREFIX.length + 64;

const leafKeys = new WeakSet<Buffer>();
const INSTALLED = Symbol.for('tollgate.leaf-key-import');

function p256FromSpki(der: Buffer): KeyObject | null {
  if (der.length !== P256_SPKI_LENGTH || !der.subarray(0, P256_SPKI_PREFIX.length).equals(P256_SPKI_PREFIX))
    return null;
  const x = der.subarray(P256_SPKI_PREFIX.length, P256_SPKI_PREFIX.length + 32);
  const y = der.subarray(P256_SPKI_PREFIX.length + 32);
  try {
    return createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: x.toString('base64url'), y: y.toString('base64url') },
      format: 'jwk',
    });
  } catch {
    return null;
  }
}

function install(): void {
  const holder = crypto as unknown as Record<symbol, boolean>;
  if (holder[INSTALLED]) return;
  holder[INSTALLED] = true;
  const original = crypto.createPublicKey;
  crypto.createPublicKey = ((key: Parameters<typeof original>[0], type?: Parameters<typeof original>[1]) => {
    if (Buffer.isBuffer(key) && (type === undefined || type === 'spki') && leafKeys.has(key)) {
      const imported = p256FromSpki(key);
      if (imported) return imported;
    }
    return original(key, type);
  }) as typeof original;
}

/** The leaf's SPKI bytes, marked so that sigstore-js's import of them takes the JWK path. */
export function markLeafKey(spki: Buffer): Buffer {
  install();
  leafKeys.add(spki);
  return spki;
}
