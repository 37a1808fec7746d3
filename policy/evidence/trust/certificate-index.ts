// What is known about certificates by their bytes and by object, for one TrustContext.
// - The trust roots' own CA certificates, by their exact bytes: bundles repeat them (npm's early v0.1
//   bundles carry the Fulcio intermediate and root after the leaf), and a bundle certificate that is
//   byte-for-byte one of them needs no parsing: what is known about it was derived from those same
//   bytes when the context was prepared (prepared-certificates.ts).
// - Their KeyObjects, by object: every leaf is verified against one of them, and the key is built
//   once instead of per bundle.
// - The DER encoding of a certificate object whose tree is known not to change: the trust roots' own,
//   and bundle leaves parsed from exact bytes (bundle/leaf-certificate.ts), which @sigstore/verify
//   compares with the trust roots' certificates by re-encoding both for every pair. A tree parsed from
//   bytes encodes to exactly those bytes (the parser accepts only minimal DER lengths and short tags,
//   and the encoder writes exactly those), so the bytes stand in for the encoding.
import { createHash, type KeyObject } from 'node:crypto';
import type { X509Certificate } from '@sigstore/core';

/** One of the trust root's own CA certificates, with what bundles need to know about it. */
export interface PreparedCertificate {
  /** The trust root's own object (the one @sigstore/verify builds paths from). */
  cert: X509Certificate;
  der: Buffer;
  selfIssued: boolean;
  /** Its public key as a KeyObject, built once; absent when its key does not load. */
  publicKey?: KeyObject;
}

export class CertificateIndex {
  private readonly byDigest = new Map<string, PreparedCertificate[]>();
  private readonly keys = new WeakMap<X509Certificate, KeyObject>();
  private readonly encodings = new WeakMap<X509Certificate, Buffer>();

  add(prepared: PreparedCertificate): void {
    const digest = createHash('sha256').update(prepared.der).digest('hex');
    const same = this.byDigest.get(digest) ?? [];
    same.push(prepared);
    this.byDigest.set(digest, same);
    if (prepared.publicKey) this.keys.set(prepared.cert, prepared.publicKey);
    this.encodings.set(prepared.cert, prepared.der);
  }

  /** The trust root certificate with exactly these bytes (digest, then every byte compared). */
  lookup(der: Uint8Array): PreparedCertificate | undefined {
    const digest = createHash('sha256').update(der).digest('hex');
    return this.byDigest.get(digest)?.find((p) => p.der.equals(der));
  }

  /** The KeyObject of this trust root certificate object (not of a look-alike from a bundle). */
  issuerKey(cert: X509Certificate): KeyObject | undefined {
    return this.keys.get(cert);
  }

  /** Records that `cert` was parsed from `der` and its tree is never changed. */
  rememberEncoding(cert: X509Certificate, der: Buffer): void {
    this.encodings.set(cert, der);
  }

  /** `cert.root.toDER()`, from the recorded bytes where there are some. */
  encodingOf(cert: X509Certificate): Buffer {
    return this.encodings.get(cert) ?? cert.root.toDER();
  }
}
