// CA certificates in a prepared trust root are immutable for the life of the TrustContext, yet
// @sigstore/verify re-derives the same facts about them for every bundle: it re-encodes each one to
// compare it with others, re-extracts its public key, and re-verifies the intermediate's signature
// by the root and the root's self-signature. Those are pure functions of the certificates' bytes, so
// they are computed once here, on the trust root's own certificate objects only. The leaf (from the
// bundle) is never memoised: every leaf signature, validity period, SCT and path check still runs.
import type { X509Certificate } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';

type Cert = X509Certificate;

function memoiseCertificate(cert: Cert, owned: WeakSet<Cert>): void {
  const der = cert.root.toDER();
  const publicKey = cert.publicKey;
  const verify = cert.verify.bind(cert);
  const verdicts = new WeakMap<Cert, boolean>();
  let selfVerdict: boolean | undefined;

  Object.defineProperty(cert, 'publicKey', { get: () => publicKey });
  cert.equals = (other: Cert) => other === cert || der.equals(other.root.toDER());
  cert.verify = (issuer?: Cert) => {
    if (!issuer) {
      selfVerdict ??= verify();
      return selfVerdict;
    }
    if (!owned.has(issuer)) return verify(issuer);
    let verdict = verdicts.get(issuer);
    if (verdict === undefined) {
      verdict = verify(issuer);
      verdicts.set(issuer, verdict);
    }
    return verdict;
  };
}

/** Memoises pure per-certificate work on every CA and TSA certificate of the trust material. */
export function prepareCertificates(material: TrustMaterial): void {
  const owned = new WeakSet<Cert>();
  const all = [...material.certificateAuthorities, ...material.timestampAuthorities].flatMap(
    (ca) => ca.certChain,
  );
  for (const cert of all) owned.add(cert);
  for (const cert of all) memoiseCertificate(cert, owned);
}

/** DER of every self-signed certificate the trust root anchors on (to spot them inside bundles). */
export function rootCertificateDers(material: TrustMaterial): Buffer[] {
  return material.certificateAuthorities
    .flatMap((ca) => ca.certChain)
    .filter((cert) => cert.subject.equals(cert.issuer))
    .map((cert) => cert.root.toDER());
}
