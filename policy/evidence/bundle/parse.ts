// Bundle JSON -> a validated @sigstore/bundle Bundle, or a BUNDLE_MALFORMED failure naming why.
import { type Bundle, bundleFromJSON } from '@sigstore/bundle';
import { truncate } from '../encoding';
import { EvidenceError } from '../error';
import { bundleDigestOf } from './digest';

export interface ParsedBundle {
  bundle: Bundle;
  /** sha256 hex of the bundle JSON as received */
  digest: string;
}

/** Accepts the JSON text (digested as received) or an already-parsed object (digested re-serialised). */
export function parseBundle(input: string | object): ParsedBundle {
  const digest = bundleDigestOf(input);
  let json: unknown;
  try {
    json = typeof input === 'string' ? JSON.parse(input) : input;
  } catch (err) {
    throw new EvidenceError('BUNDLE_MALFORMED', `bundle is not valid JSON: ${(err as Error).message}`, err);
  }
  try {
    return { bundle: bundleFromJSON(json), digest };
  } catch (err) {
    const mediaType = (json as { mediaType?: unknown })?.mediaType;
    throw new EvidenceError(
      'BUNDLE_MALFORMED',
      `not a Sigstore bundle (mediaType ${truncate(JSON.stringify(mediaType) ?? 'missing', 80)}): ${(err as Error).message}`,
      err,
    );
  }
}

/** DER of every certificate the bundle carries (leaf first), whatever the bundle version. */
export function bundleCertificates(bundle: Bundle): Buffer[] {
  const content = bundle.verificationMaterial.content;
  switch (content.$case) {
    case 'x509CertificateChain':
      return content.x509CertificateChain.certificates.map((c) => Buffer.from(c.rawBytes));
    case 'certificate':
      return [Buffer.from(content.certificate.rawBytes)];
    default:
      return [];
  }
}
