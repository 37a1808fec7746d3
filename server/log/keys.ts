// Public keys and certificates named in proposed log entries: parsed, canonicalised to the PEM
// Rekor stores, and able to check signatures over a message or over a bare digest.
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { pem, X509Certificate } from '@sigstore/core';
import { ServerError } from '../errors';
import { verifyPrehashed } from './prehashed-ecdsa';

export interface EntryVerifier {
  /** Rekor's canonical form: PEM certificate or PEM SubjectPublicKeyInfo. */
  canonicalPem: string;
  key: KeyObject;
  /** SAN emails (lower-cased) and URIs of a certificate; none for a bare key. */
  subjects: string[];
}

const invalidKey = (field: string, why: string) =>
  new ServerError(
    400,
    'INVALID_ENTRY',
    `"${field}" ${why}; expected base64 of a PEM certificate or public key`,
  );

export function parseVerifier(b64Pem: unknown, field: string): EntryVerifier {
  if (typeof b64Pem !== 'string' || b64Pem.length === 0 || b64Pem.length > 64 * 1024) {
    throw invalidKey(field, 'is missing or too long');
  }
  const text = Buffer.from(b64Pem, 'base64').toString('utf8');
  if (text.includes('-----BEGIN CERTIFICATE-----')) {
    let cert: X509Certificate;
    try {
      cert = X509Certificate.parse(text);
    } catch {
      throw invalidKey(field, 'holds a certificate that does not parse');
    }
    let key: KeyObject;
    try {
      key = createPublicKey({ key: cert.publicKey, format: 'der', type: 'spki' });
    } catch {
      throw invalidKey(field, 'holds a certificate with an unusable public key');
    }
    const subjects: string[] = [];
    const san = cert.extSubjectAltName;
    if (san?.rfc822Name) subjects.push(san.rfc822Name.toLowerCase());
    if (san?.uri) subjects.push(san.uri);
    return { canonicalPem: pem.fromDER(cert.root.toDER()), key, subjects };
  }
  if (text.split('-----BEGIN ').length > 2) throw invalidKey(field, 'holds more than one PEM block');
  if (text.includes('-----BEGIN PUBLIC KEY-----')) {
    // Parsed from DER and re-encoded as PEM from the same DER: the canonical form without a
    // second trip through OpenSSL, which dominated the cost of an append.
    const der = pem.toDER(text);
    let key: KeyObject;
    try {
      key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    } catch {
      throw invalidKey(field, 'holds a public key that does not parse');
    }
    return { canonicalPem: pem.fromDER(der, 'PUBLIC KEY'), key, subjects: [] };
  }
  throw invalidKey(field, 'is not base64 of a PEM block');
}

export function keyIndexKey(verifier: EntryVerifier): string {
  return `sha256:${createHash('sha256').update(verifier.canonicalPem).digest('hex')}`;
}

function rawPoint(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x!, 'base64url'),
    Buffer.from(jwk.y!, 'base64url'),
  ]);
}

/** ECDSA over a digest the client computed (hashedrekord): see prehashed-ecdsa.ts. */
export function verifyDigestSignature(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  if (key.asymmetricKeyType !== 'ec') return false;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (!curve) return false;
  return verifyPrehashed(curve, rawPoint(key), digest, signature);
}

export function verifyMessageSignature(key: KeyObject, message: Buffer, signature: Buffer): boolean {
  try {
    const algorithm = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
    return verify(algorithm, message, key, signature);
  } catch {
    return false;
  }
}
