// Rekor v1 proposals signed with a bare P-256 key, as tests and benches append them to
// tollgate-server's log (the log verifies them; nothing else needs a certificate for them).
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

export interface ProposalKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** the public key's PEM, base64-encoded, as Rekor's proposals carry it */
  publicKeyB64: string;
}

export function proposalKey(): ProposalKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  return { privateKey, publicKey, publicKeyB64: Buffer.from(pem).toString('base64') };
}

/** A hashedrekord proposal over `data`'s sha256. */
export function hashedrekordProposal(data: Buffer, key: ProposalKey) {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(data).digest('hex') } },
      signature: {
        content: sign('sha256', data, key.privateKey).toString('base64'),
        publicKey: { content: key.publicKeyB64 },
      },
    },
  };
}

const IN_TOTO = 'application/vnd.in-toto+json';

/** A dsse proposal: an in-toto statement naming `subject` (digest: sha512 of `digestOf`), signed. */
export function dsseProposal(subject: string, digestOf: string, key: ProposalKey): string {
  const payload = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: subject, digest: { sha512: createHash('sha512').update(digestOf).digest('hex') } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {},
    }),
  );
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${IN_TOTO.length} ${IN_TOTO} ${payload.length} `), payload]);
  const envelope = JSON.stringify({
    payload: payload.toString('base64'),
    payloadType: IN_TOTO,
    signatures: [{ sig: sign('sha256', pae, key.privateKey).toString('base64'), keyid: '' }],
  });
  return JSON.stringify({
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: { proposedContent: { envelope, verifiers: [key.publicKeyB64] } },
  });
}
