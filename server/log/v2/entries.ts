// Rekor v2 write requests (rekor-tiles api/proto/rekor/v2, protojson): hashedRekordRequestV002 and,
// for sigstore-js 4.x which still sends them, dsseRequestV002. Both become a hashedrekord 0.0.2 entry,
// as rekor-tiles logs DSSE today: for an envelope, a hashedrekord over SHA-256 of its PAE. The
// signature is verified before anything is logged; the canonical body is RFC 8785 JSON of the Entry.
import { createHash } from 'node:crypto';
import { pem } from '@sigstore/core';
import { ServerError } from '../../errors';
import { keyIndexKey, parseVerifier } from '../keys';
import { base64Field, type CanonicalEntry, canonicalBody, field, invalidEntry } from '../kinds/shared';
import type { SignatureVerifier } from '../verify-pool';

/** Key types this log accepts (rekor-tiles also refuses pure Ed25519 and RSA-PSS). */
const KEY_DETAILS: Record<string, { curve: string }> = {
  PKIX_ECDSA_P256_SHA_256: { curve: 'prime256v1' },
};

interface V2Verifier {
  rawBytes: Buffer;
  kind: 'x509Certificate' | 'publicKey';
  keyDetails: string;
}

function readVerifier(value: unknown, path: string): V2Verifier {
  const v = field(value, path);
  const keyDetails = v['keyDetails'];
  if (typeof keyDetails !== 'string' || !KEY_DETAILS[keyDetails]) {
    throw invalidEntry(`"${path}.keyDetails" must be one of ${Object.keys(KEY_DETAILS).join(', ')}`);
  }
  const hasCert = v['x509Certificate'] !== undefined;
  const hasKey = v['publicKey'] !== undefined;
  if (hasCert === hasKey) throw invalidEntry(`"${path}" must have exactly one of x509Certificate, publicKey`);
  const kind = hasCert ? 'x509Certificate' : 'publicKey';
  const rawBytes = base64Field(
    field(v[kind], `${path}.${kind}`)['rawBytes'],
    `${path}.${kind}.rawBytes`,
    16 * 1024,
  );
  return { rawBytes, kind, keyDetails };
}

function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${payload.length} `, 'ascii'),
    payload,
  ]);
}

async function entryFor(
  verifier: V2Verifier,
  digest: Buffer,
  signature: Buffer,
  signatures: SignatureVerifier,
  path: string,
): Promise<CanonicalEntry> {
  const pemText = pem.fromDER(
    verifier.rawBytes,
    verifier.kind === 'x509Certificate' ? 'CERTIFICATE' : 'PUBLIC KEY',
  );
  const parsed = parseVerifier(Buffer.from(pemText).toString('base64'), `${path}.${verifier.kind}.rawBytes`);
  const curve = KEY_DETAILS[verifier.keyDetails]!.curve;
  const ok =
    parsed.ec !== null &&
    parsed.ec.curve === curve &&
    (await signatures.verify({ ec: parsed.ec, digest, signature }));
  if (!ok) {
    throw new ServerError(
      400,
      'INVALID_SIGNATURE',
      `the signature in "${path}" does not verify with the given ${verifier.kind}`,
    );
  }
  const body = canonicalBody({
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: {
      hashedRekordV002: {
        data: { algorithm: 'SHA2_256', digest: digest.toString('base64') },
        signature: {
          content: signature.toString('base64'),
          verifier: {
            keyDetails: verifier.keyDetails,
            [verifier.kind]: { rawBytes: verifier.rawBytes.toString('base64') },
          },
        },
      },
    },
  });
  return {
    body,
    searchKeys: [
      `sha256:${digest.toString('hex')}`,
      keyIndexKey(parsed),
      ...parsed.subjects,
      ...parsed.identityKeys,
    ],
  };
}

/** A v2 create-entry request → the canonical hashedrekord 0.0.2 entry. Throws 400 for anything else. */
export async function canonicalizeV2Request(
  request: unknown,
  signatures: SignatureVerifier,
): Promise<CanonicalEntry> {
  const r = field(request, 'request');
  const keys = Object.keys(r);
  if (keys.length !== 1)
    throw invalidEntry('the request must have exactly one of hashedRekordRequestV002, dsseRequestV002');
  if (r['hashedRekordRequestV002'] !== undefined) {
    const h = field(r['hashedRekordRequestV002'], 'hashedRekordRequestV002');
    const digest = base64Field(h['digest'], 'hashedRekordRequestV002.digest', 64);
    if (digest.length !== 32)
      throw invalidEntry('"hashedRekordRequestV002.digest" must be a 32-byte SHA-256 digest');
    const signature = field(h['signature'], 'hashedRekordRequestV002.signature');
    const content = base64Field(signature['content'], 'hashedRekordRequestV002.signature.content', 4096);
    const verifier = readVerifier(signature['verifier'], 'hashedRekordRequestV002.signature.verifier');
    return entryFor(verifier, digest, content, signatures, 'hashedRekordRequestV002.signature');
  }
  if (r['dsseRequestV002'] !== undefined) {
    const d = field(r['dsseRequestV002'], 'dsseRequestV002');
    const envelope = field(d['envelope'], 'dsseRequestV002.envelope');
    const payload = base64Field(envelope['payload'], 'dsseRequestV002.envelope.payload', 4 * 1024 * 1024);
    const payloadType = envelope['payloadType'];
    if (typeof payloadType !== 'string' || payloadType === '' || payloadType.length > 256)
      throw invalidEntry('"dsseRequestV002.envelope.payloadType" must be a non-empty string');
    const sigs = envelope['signatures'];
    const verifiers = d['verifiers'];
    if (!Array.isArray(sigs) || sigs.length !== 1 || !Array.isArray(verifiers) || verifiers.length !== 1)
      throw invalidEntry('"dsseRequestV002" must have exactly one envelope signature and one verifier');
    const signature = base64Field(
      field(sigs[0], 'dsseRequestV002.envelope.signatures[0]')['sig'],
      'dsseRequestV002.envelope.signatures[0].sig',
      4096,
    );
    const verifier = readVerifier(verifiers[0], 'dsseRequestV002.verifiers[0]');
    const digest = createHash('sha256').update(pae(payloadType, payload)).digest();
    return entryFor(verifier, digest, signature, signatures, 'dsseRequestV002.envelope.signatures[0]');
  }
  throw invalidEntry(
    `unknown request type "${keys[0]}"; this log accepts hashedRekordRequestV002 and dsseRequestV002`,
  );
}
