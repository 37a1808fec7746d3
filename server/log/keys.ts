// Public keys and certificates named in proposed log entries: parsed, canonicalised to the PEM
// Rekor stores, and able to check signatures over a message or over a bare digest.
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { ASN1Obj, pem, X509Certificate } from '@sigstore/core';
import { isStrictBase64 } from '../encoding';
import { ServerError } from '../errors';
import { certificateIdentityKeys } from './index-keys';

export interface EntryVerifier {
  /** Rekor's canonical form: PEM certificate or PEM SubjectPublicKeyInfo. */
  canonicalPem: string;
  /** SAN emails (lower-cased) and URIs of a certificate; none for a bare key. */
  subjects: string[];
  /** Issuer-qualified identity search keys of a certificate (index-keys.ts); none for a bare key. */
  identityKeys: string[];
  /** The public key as an EC point on a supported curve, when it is one. */
  ec: EcPublicKey | null;
  /**
   * The key as Node's crypto takes it, or null if OpenSSL cannot use it. Created on first use:
   * importing costs about 0.1 ms, which a hashedrekord append never needs to spend.
   */
  key(): KeyObject | null;
}

export interface EcPublicKey {
  /** Node's curve name (prime256v1, secp384r1). */
  curve: string;
  jwkCurve: string;
  /** Uncompressed point: 0x04 || x || y. */
  point: Uint8Array;
}

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const EC_CURVES: Record<string, { curve: string; jwkCurve: string; size: number }> = {
  '1.2.840.10045.3.1.7': { curve: 'prime256v1', jwkCurve: 'P-256', size: 32 },
  '1.3.132.0.34': { curve: 'secp384r1', jwkCurve: 'P-384', size: 48 },
};

/** The EC point of a SubjectPublicKeyInfo on a supported curve, read with the ASN.1 parser. */
function ecPublicKey(spki: ASN1Obj): EcPublicKey | null {
  try {
    const [algorithm, bits] = spki.subs;
    if (algorithm?.subs[0]?.toOID() !== OID_EC_PUBLIC_KEY) return null;
    const named = EC_CURVES[algorithm.subs[1]?.toOID() ?? ''];
    const value = bits?.value;
    // BIT STRING: unused-bits byte 0, then the uncompressed point.
    if (!named || !value || value.length !== 2 + 2 * named.size || value[0] !== 0 || value[1] !== 4)
      return null;
    return { curve: named.curve, jwkCurve: named.jwkCurve, point: new Uint8Array(value.subarray(1)) };
  } catch {
    return null;
  }
}

/**
 * The KeyObject of an EC point, built from its coordinates: OpenSSL's SPKI decoder is the slow
 * path (~0.1 ms). Throws if the point is not on the curve.
 */
export function ecKeyObject(ec: EcPublicKey): KeyObject {
  const half = (ec.point.length - 1) / 2;
  const point = Buffer.from(ec.point);
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: ec.jwkCurve,
      x: point.subarray(1, 1 + half).toString('base64url'),
      y: point.subarray(1 + half).toString('base64url'),
    },
    format: 'jwk',
  });
}

function lazyKey(spki: Buffer, ec: EcPublicKey | null): () => KeyObject | null {
  let key: KeyObject | null | undefined;
  return () => {
    if (key !== undefined) return key;
    try {
      key = ec ? ecKeyObject(ec) : createPublicKey({ key: spki, format: 'der', type: 'spki' });
    } catch {
      key = null;
    }
    return key;
  };
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
    const spki = cert.publicKey;
    let ec: EcPublicKey | null = null;
    try {
      ec = ecPublicKey(ASN1Obj.parseBuffer(spki as Buffer<ArrayBuffer>));
    } catch {
      throw invalidKey(field, 'holds a certificate with an unusable public key');
    }
    return {
      canonicalPem: pem.fromDER(der),
      subjects,
      identityKeys: certificateIdentityKeys(cert),
      ec,
      key: lazyKey(spki, ec),
    };
  }
  // The SPKI is checked to be exactly one DER structure (OpenSSL ignores bytes after it), then
  // re-encoded as PEM from the same DER: the canonical form without a second trip through OpenSSL.
  let parsed: ASN1Obj | null = null;
  try {
    parsed = ASN1Obj.parseBuffer(der);
  } catch {}
  if (!parsed?.toDER().equals(der) || parsed.subs.length !== 2) {
    throw invalidKey(field, 'holds a public key that is not one DER SubjectPublicKeyInfo');
  }
  const ec = ecPublicKey(parsed);
  const key = lazyKey(der, ec);
  // Keys of other types are checked up front, as before; EC points when a signature is checked.
  if (!ec && !key()) throw invalidKey(field, 'holds a public key that does not parse');
  return { canonicalPem: pem.fromDER(der, 'PUBLIC KEY'), subjects: [], identityKeys: [], ec, key };
}

export function keyIndexKey(verifier: EntryVerifier): string {
  return `sha256:${createHash('sha256').update(verifier.canonicalPem).digest('hex')}`;
}

export function verifyMessageSignature(verifier: EntryVerifier, message: Buffer, signature: Buffer): boolean {
  const key = verifier.key();
  if (!key) return false;
  try {
    const algorithm = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
    return verify(algorithm, message, key, signature);
  } catch {
    return false;
  }
}
