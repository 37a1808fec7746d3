// A bundle may carry intermediates after its leaf, but never a root: trust must come from the trusted
// root alone, and a chain that embeds its own anchor invites verifiers to trust it (conformance case
// bundle-with-root-cert_fail). sigstore-js ignores everything after the leaf, so this is checked here.
import type { Bundle } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { EvidenceError } from '../error';
import { bundleCertificates } from './parse';

export function assertNoRootInChain(bundle: Bundle, trustedRoots: Buffer[]): void {
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
    if (selfIssued || trustedRoots.some((root) => root.equals(der))) {
      throw new EvidenceError(
        'BUNDLE_CHAIN_INCLUDES_ROOT',
        `bundle certificate ${i} is a root (self-issued) certificate; expected only the leaf and intermediates`,
      );
    }
  });
}
