// A bundle may carry intermediates after its leaf, but no root of its own: trust must come from the
// trusted root alone, and a chain that embeds a foreign anchor invites verifiers to trust it
// (conformance case bundle-with-root-cert_fail). sigstore-js ignores everything after the leaf, so this
// is checked here. A byte-for-byte copy of one of the trust roots' own anchors is tolerated: it adds
// no trust (the path is still built from the trusted root), and early npm provenance bundles (v0.1,
// 2023) carry the full chain including the public-good Fulcio root.
import type { Bundle } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { EvidenceError } from '../error';
import { bundleCertificates } from './parse';

export function assertNoForeignRootInChain(bundle: Bundle, trustedAnchors: Buffer[]): void {
  bundleCertificates(bundle).forEach((der, i) => {
    let selfIssued = false;
    try {
      const cert = X509Certificate.parse(Buffer.from(der));
      selfIssued = cert.subject.equals(cert.issuer);
    } catch (err) {
      throw new EvidenceError(
        'CERTIFICATE_INVALID',
        `bundle certificate ${i} is not a DER X.509 certificate`,
        err,
      );
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
}
