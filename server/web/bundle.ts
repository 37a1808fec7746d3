// A Sigstore bundle (v0.3) for a log entry, assembled from what the log holds: the certificate
// and signature in the body, the entry's SET and inclusion proof, and for DSSE the envelope this
// server kept (Rekor's body holds only its hashes, so without it there is no bundle). The bundle is
// what a signer's client received, in the standard JSON form, so that anyone can verify it offline
// with their own tools; nothing in it is trusted by this server or the page.
import type { RekorEntry } from '../log/transparency-log';
import type { ParsedBody } from './summary';

const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const DIGEST_ALGORITHMS: Record<string, string> = {
  sha256: 'SHA2_256',
  sha384: 'SHA2_384',
  sha512: 'SHA2_512',
};

function hexToB64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

export function bundleFor(
  entry: RekorEntry,
  parsed: ParsedBody,
  envelope: { text: string } | null,
): Record<string, unknown> | null {
  if (!parsed.certificate) return null;
  const proof = entry.verification.inclusionProof;
  const verificationMaterial = {
    certificate: { rawBytes: parsed.certificate.toString('base64') },
    tlogEntries: [
      {
        logIndex: String(entry.logIndex),
        logId: { keyId: hexToB64(entry.logID) },
        kindVersion: { kind: parsed.kind, version: parsed.apiVersion },
        integratedTime: String(entry.integratedTime),
        inclusionPromise: { signedEntryTimestamp: entry.verification.signedEntryTimestamp },
        inclusionProof: {
          logIndex: String(proof.logIndex),
          rootHash: hexToB64(proof.rootHash),
          treeSize: String(proof.treeSize),
          hashes: proof.hashes.map(hexToB64),
          checkpoint: { envelope: proof.checkpoint },
        },
        canonicalizedBody: entry.body,
      },
    ],
  };
  if (parsed.kind === 'hashedrekord') {
    const hash = (parsed.spec['data'] as { hash?: { algorithm?: string; value?: string } } | undefined)?.hash;
    const signature = (parsed.spec['signature'] as { content?: string } | undefined)?.content;
    const algorithm = DIGEST_ALGORITHMS[hash?.algorithm ?? ''];
    if (!algorithm || !hash?.value || !signature) return null;
    return {
      mediaType: BUNDLE_V03,
      verificationMaterial,
      messageSignature: { messageDigest: { algorithm, digest: hexToB64(hash.value) }, signature },
    };
  }
  if (parsed.kind === 'dsse' && envelope) {
    const e = JSON.parse(envelope.text) as {
      payload: string;
      payloadType: string;
      signatures: { sig: string; keyid?: string }[];
    };
    return {
      mediaType: BUNDLE_V03,
      verificationMaterial,
      dsseEnvelope: {
        payload: e.payload,
        payloadType: e.payloadType,
        signatures: e.signatures.map((s) => ({ sig: s.sig, keyid: s.keyid ?? '' })),
      },
    };
  }
  return null;
}
