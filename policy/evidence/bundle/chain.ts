// A bundle may carry intermediates after its leaf, but no root of its own: trust must come from the
// trusted root alone, and a chain that embeds a foreign anchor invites verifiers to trust it
// (conformance case bundle-with-root-cert_fail). sigstore-js ignores everything after the leaf, so this
// is checked here. A byte-for-byte copy of one of the trust roots' own anchors is tolerated: it adds
// no trust (the path is still built from the trusted root), and early npm provenance bundles (v0.1,
// 2023) carry the full chain including the public-good Fulcio root.
//
// With the prepared trust certificates (`trusted`), a certificate after the leaf that is byte-for-byte
// one of the trust root's own is not parsed again: whether it is self-issued was derived from the
// same bytes when the context was prepared. The leaf is always parsed, and returned for reuse.
import type { Bundle } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { EvidenceError } from '../error';
import type { CertificateIndex } from '../trust/certificate-index';
import { parseCertificate } from './leaf-certificate';
import { bundleCertificates } from './parse';

/** Throws BUNDLE_CHAIN_INCLUDES_ROOT / CERTIFICATE_INVALID; returns the parsed leaf and its bytes. */
export function assertNoForeignRootInChain(
  bundle: Bundle,
  trustedAnchors: Buffer[],
  trusted?: CertificateIndex,
): { cert: X509Certificate; der: Buffer } | undefined {
  let leaf: { cert: X509Certificate; der: Buffer } | undefined;
  bundleCertificates(bundle).forEach((der, i) => {
    let selfIssued = false;
    const known = i > 0 ? trusted?.lookup(der) : undefined;
    if (known) selfIssued = known.selfIssued;
    else {
      try {
        const cert = trusted ? parseCertificate(der) : X509Certificate.parse(Buffer.from(der));
        selfIssued = cert.subject.equals(cert.issuer);
        if (i === 0) leaf = { cert, der };
      } catch (err) {
        throw new EvidenceError(
          'CERTIFICATE_INVALID',
          `bundle certificate ${i} is not a DER X.509 certificate`,
          err,
        );
      }
    }
    if (!selfIssued) return;
    if (i === 0) {
      throw new EvidenceError(
        'BUNDLE_CHAIN_INCLUDES_ROOT',
        "the bundle's signing certificate is self-issued (a root)",
      );
    }
    if (!trustedAnchors.some((anchor) => anchor.equals(der))) {
      throw new EvidenceError(
        'BUNDLE_CHAIN_INCLUDES_ROOT',
        `bundle certificate ${i} is a root (self-issued) certificate that is not one of the trusted roots; a bundle may carry only its leaf and intermediates`,
      );
    }
  });
  return leaf;
}
