// Public keys and certificates named in proposed log entries: parsed, canonicalised to the PEM
// Rekor stores, and able to check signatures over a message or over a bare digest.
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { ASN1Obj, pem, X509Certificate } from '@sigstore/core';
import { isStrictBase64 } from '../encoding';
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
    `"${field}" ${why}; expected standard base64 of one PEM certificate or public key`,
  );

// One PEM block and nothing else (RFC 7468 strict form, any line length): base64 that Buffer.from
// would decode leniently, or text around the block, is refused rather than guessed at.
const PEM_BLOCK =
  /^-----BEGIN (CERTIFICATE|PUBLIC KEY)-----\r?\n((?:[A-Za-z0-9+/=]+\r?\n)+)-----END \1-----\r?\n?$/;

function pemBlock(b64Pem: unknown, field: string): { label: string; der: Buffer<ArrayBuffer> } {
  if (!isStrictBase64(b64Pem, 64 * 1024))
    throw invalidKey(field, 'is missing, too long or not standard base64');
  const match = PEM_BLOCK.exec(Buffer.from(b64Pem, 'base64').toString('latin1'));
  const body = match?.[2]?.replace(/\r?\n/g, '');
  if (!match || !isStrictBase64(body, 64 * 1024)) throw invalidKey(field, 'is not exactly one PEM block');
  return { label: match[1]!, der: Buffer.from(body, 'base64') as Buffer<ArrayBuffer> };
}

/** The SAN emails and URIs of a certificate; throws when its extensions do not parse. */
function certificateSubjects(cert: X509Certificate): string[] {
  // Every extension must have an OID, or lookups by OID (here and in verifiers) fail on it.
  for (const ext of cert.extensions) ext.subs[0]!.toOID();
  const san = cert.extSubjectAltName;
  const subjects: string[] = [];
  if (san?.rfc822Name) subjects.push(san.rfc822Name.toLowerCase());
  if (san?.uri) subjects.push(san.uri);
  return subjects;
}

export function parseVerifier(b64Pem: unknown, field: string): EntryVerifier {
  const { label, der } = pemBlock(b64Pem, field);
  if (label === 'CERTIFICATE') {
    let cert: X509Certificate;
    try {
      cert = X509Certificate.parse(der);
    } catch {
      throw invalidKey(field, 'holds a certificate that does not parse');
    }
    if (!cert.root.toDER().equals(der))
      throw invalidKey(field, 'holds a certificate that is not DER-encoded');
    let subjects: string[];
    try {
      subjects = certificateSubjects(cert);
    } catch {
      throw invalidKey(
        field,
        'holds a certificate whose extensions (subjectAltName or another) do not parse',
      );
    }
    let key: KeyObject;
    try {
      key = createPublicKey({ key: cert.publicKey, format: 'der', type: 'spki' });
    } catch {
      throw invalidKey(field, 'holds a certificate with an unusable public key');
    }
    return { canonicalPem: pem.fromDER(der), key, subjects };
  }
  // The SPKI is checked to be exactly one DER structure (OpenSSL ignores bytes after it), then
  // re-encoded as PEM from the same DER: the canonical form without a second trip through OpenSSL.
  let exact = false;
  try {
    exact = ASN1Obj.parseBuffer(der).toDER().equals(der);
  } catch {}
  if (!exact) throw invalidKey(field, 'holds a public key that is not one DER SubjectPublicKeyInfo');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    throw invalidKey(field, 'holds a public key that does not parse');
  }
  return { canonicalPem: pem.fromDER(der, 'PUBLIC KEY'), key, subjects: [] };
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
