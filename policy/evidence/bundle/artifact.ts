// What a message-signature bundle is checked against: the artifact's bytes, or only its digest (the
// conformance suite's digest mode, and callers that hold a sha256 but not the bytes). With bytes,
// sigstore-js verifies the signature itself. With a digest, the bundle's messageDigest must equal it
// and the signature is verified over that digest as a prehashed ECDSA signature (@noble/curves):
// node:crypto cannot verify a signature given only the hash.

import type { KeyObject } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import type { Bundle } from '@sigstore/bundle';
import { crypto, type X509Certificate } from '@sigstore/core';
import { toSignedEntity } from '@sigstore/verify';
import { EvidenceError } from '../error';

export type Artifact =
  | { type: 'bytes'; data: Uint8Array }
  | { type: 'digest'; algorithm: 'sha256' | 'sha384' | 'sha512'; digest: Buffer };

type SignedEntity = ReturnType<typeof toSignedEntity>;
type SignatureContent = SignedEntity['signature'];

const CURVES = { 'P-256': p256, 'P-384': p384, 'P-521': p521 } as const;

const HASH_ALGORITHMS: Record<number, string> = { 0: 'sha256', 1: 'sha256', 2: 'sha384', 3: 'sha512' };

function verifyPrehashed(digest: Buffer, signature: Buffer, key: KeyObject): boolean {
  const jwk = key.export({ format: 'jwk' });
  const curve = jwk.kty === 'EC' ? CURVES[jwk.crv as keyof typeof CURVES] : undefined;
  if (!curve || !jwk.x || !jwk.y) {
    throw new EvidenceError(
      'BUNDLE_UNSUPPORTED',
      `verifying by digest needs an ECDSA P-256/P-384/P-521 key; the signer's key is ${jwk.kty} ${jwk.crv ?? ''}`,
    );
  }
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x, 'base64url'),
    Buffer.from(jwk.y, 'base64url'),
  ]);
  try {
    return curve.verify(signature, digest, point, { prehash: false, format: 'der', lowS: false });
  } catch {
    return false;
  }
}

class DigestOnlySignatureContent implements SignatureContent {
  readonly signature: Buffer;
  private readonly messageDigest: Buffer;

  constructor(
    bundleSignature: Buffer,
    bundleDigest: Buffer,
    private readonly artifactDigest: Buffer,
  ) {
    this.signature = bundleSignature;
    this.messageDigest = bundleDigest;
  }
  compareSignature(signature: Buffer): boolean {
    return crypto.bufferEqual(signature, this.signature);
  }
  compareDigest(digest: Buffer): boolean {
    return crypto.bufferEqual(digest, this.messageDigest);
  }
  compareSignedDigest(digest: Buffer): boolean {
    return this.compareDigest(digest);
  }
  verifySignature(key: KeyObject): boolean {
    return verifyPrehashed(this.artifactDigest, this.signature, key);
  }
}

// toSignedEntity parses the bundle's leaf certificate itself. Given the leaf already parsed from the
// same bytes (bundle/chain.ts), it is asked for the rest of the entity with a key-signed view of the
// bundle, which parses nothing, and the parsed leaf is put in: the signature content, tlog entries
// and timestamps come from the same fields either way.
function entityOf(bundle: Bundle, leaf: X509Certificate | undefined, artifact?: Buffer): SignedEntity {
  if (!leaf) return toSignedEntity(bundle, artifact);
  const keySigned: Bundle = {
    ...bundle,
    verificationMaterial: {
      ...bundle.verificationMaterial,
      content: { $case: 'publicKey', publicKey: { hint: '' } },
    },
  };
  return { ...toSignedEntity(keySigned, artifact), key: { $case: 'certificate', certificate: leaf } };
}

/**
 * Builds sigstore-js's SignedEntity for the bundle, bound to the artifact where it is a message
 * signature; `leaf`, when given, is the bundle's own leaf certificate already parsed.
 */
export function signedEntityFor(
  bundle: Bundle,
  artifact: Artifact | undefined,
  leaf?: X509Certificate,
): SignedEntity {
  const content = bundle.content;
  if (content.$case === 'dsseEnvelope') return entityOf(bundle, leaf);
  if (!artifact) {
    throw new EvidenceError(
      'TARBALL_REQUIRED',
      'a message-signature bundle can only be verified against the artifact',
    );
  }
  const { messageDigest, signature } = content.messageSignature;
  const algorithm = HASH_ALGORITHMS[messageDigest?.algorithm ?? 0];
  if (artifact.type === 'bytes') {
    // sigstore-js verifies the signature over the bytes; the digest the bundle (and so the log) names
    // must be theirs too.
    const actual = algorithm ? crypto.digest(algorithm, artifact.data) : undefined;
    if (!messageDigest || !actual || !crypto.bufferEqual(messageDigest.digest, actual)) {
      throw new EvidenceError(
        'ARTIFACT_DIGEST_MISMATCH',
        `bundle names digest ${algorithm ?? '?'}:${messageDigest?.digest.toString('hex') ?? '?'}, the artifact's is ${actual?.toString('hex') ?? '?'}`,
      );
    }
    return entityOf(bundle, leaf, Buffer.from(artifact.data));
  }
  if (
    !messageDigest ||
    algorithm !== artifact.algorithm ||
    !crypto.bufferEqual(messageDigest.digest, artifact.digest)
  ) {
    throw new EvidenceError(
      'ARTIFACT_DIGEST_MISMATCH',
      `bundle signs ${algorithm ?? 'an unknown digest'}:${messageDigest?.digest.toString('hex') ?? '?'}, expected ${artifact.algorithm}:${artifact.digest.toString('hex')}`,
    );
  }
  const entity = entityOf(bundle, leaf);
  return {
    ...entity,
    signature: new DigestOnlySignatureContent(signature, messageDigest.digest, artifact.digest),
  };
}
