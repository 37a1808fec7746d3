// hashedrekord 0.0.1: a signature over an artifact digest, with the signer's key or certificate.

import { ServerError } from '../../errors';
import { keyIndexKey, parseVerifier } from '../keys';
import type { SignatureVerifier } from '../verify-pool';
import { base64Field, type CanonicalEntry, canonicalBody, field, invalidEntry } from './shared';

const DIGEST_LENGTHS: Record<string, number> = { sha256: 32, sha384: 48, sha512: 64 };

export async function canonicalizeHashedRekord(
  spec: unknown,
  signatures: SignatureVerifier,
): Promise<CanonicalEntry> {
  const s = field(spec, 'spec');
  const hash = field(field(s['data'], 'spec.data')['hash'], 'spec.data.hash');
  const algorithm = hash['algorithm'];
  const value = hash['value'];
  if (typeof algorithm !== 'string' || !(algorithm in DIGEST_LENGTHS)) {
    throw invalidEntry('"spec.data.hash.algorithm" must be one of sha256, sha384, sha512');
  }
  if (typeof value !== 'string' || !new RegExp(`^[0-9a-f]{${DIGEST_LENGTHS[algorithm]! * 2}}$`).test(value)) {
    throw invalidEntry(`"spec.data.hash.value" must be the lower-case hex ${algorithm} digest`);
  }
  const signature = field(s['signature'], 'spec.signature');
  const sigBytes = base64Field(signature['content'], 'spec.signature.content', 4096);
  const verifier = parseVerifier(
    field(signature['publicKey'], 'spec.signature.publicKey')['content'],
    'spec.signature.publicKey.content',
  );
  const verified =
    verifier.ec !== null &&
    (await signatures.verify({ ec: verifier.ec, digest: Buffer.from(value, 'hex'), signature: sigBytes }));
  if (!verified) {
    throw new ServerError(
      400,
      'INVALID_SIGNATURE',
      '"spec.signature.content" does not verify over "spec.data.hash.value" with the given key',
    );
  }
  const body = canonicalBody({
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm, value } },
      signature: {
        content: sigBytes.toString('base64'),
        publicKey: { content: Buffer.from(verifier.canonicalPem).toString('base64') },
      },
    },
  });
  return {
    body,
    searchKeys: [
      `${algorithm}:${value}`,
      keyIndexKey(verifier),
      ...verifier.subjects,
      ...verifier.identityKeys,
    ],
  };
}
