// CA certificates in a prepared trust root are immutable for the life of the TrustContext, yet
// @sigstore/verify re-derives the same facts about them for every bundle: it re-encodes each one to
// compare it with others, re-extracts its public key, re-verifies the intermediate's signature by the
// root and the root's self-signature, decodes the OIDs of their extensions at every lookup and reads
// their names, dates and extensions anew for every path. Those
// are pure functions of the certificates' bytes, so they are computed once here, on the trust root's
// own certificate objects only, and recorded in the context's CertificateIndex. Nothing about a
// bundle's certificates is remembered across bundles: every leaf signature, validity period, SCT and
// path check still runs.
import type { KeyObject } from 'node:crypto';
import { crypto, X509Certificate } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { memoiseOids } from '../perf/oid-memo';
import type { CertificateIndex } from './certificate-index';

type Cert = X509Certificate;

// Getters @sigstore/verify reads on CA certificates while building and checking every path (names,
// validity dates, basic constraints, key usage, key ids): each decodes the certificate again and
// returns a new object, which callers only read. A value that threw is not remembered.
const PURE_GETTERS = [
  'subject',
  'issuer',
  'notBefore',
  'notAfter',
  'extensions',
  'extKeyUsage',
  'extBasicConstraints',
  'extAuthorityKeyID',
  'extSubjectKeyID',
  'isCA',
  'signatureAlgorithm',
] as const;

function memoiseGetters(cert: Cert): void {
  for (const name of PURE_GETTERS) {
    const getter = Object.getOwnPropertyDescriptor(X509Certificate.prototype, name)?.get;
    if (!getter) continue;
    let known = false;
    let value: unknown;
    Object.defineProperty(cert, name, {
      configurable: true,
      get: () => {
        if (!known) {
          value = getter.call(cert);
          known = true;
        }
        return value;
      },
    });
  }
}

function memoiseCertificate(cert: Cert, owned: WeakSet<Cert>, index: CertificateIndex): void {
  const der = cert.root.toDER();
  const publicKey = cert.publicKey;
  const verify = cert.verify.bind(cert);
  const verdicts = new WeakMap<Cert, boolean>();
  let selfVerdict: boolean | undefined;

  Object.defineProperty(cert, 'publicKey', { get: () => publicKey });
  cert.equals = (other: Cert) => other === cert || der.equals(index.encodingOf(other));
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

// What X509Certificate.verify builds from an issuer for every certificate it checks
// (`crypto.createPublicKey(issuer.publicKey)`), built once. A key that does not load is left out, so
// the verification that needs it fails the way it always did.
function loadPublicKey(cert: Cert): KeyObject | undefined {
  try {
    return crypto.createPublicKey(cert.publicKey);
  } catch {
    return undefined;
  }
}

/**
 * Memoises pure per-certificate work on every CA and TSA certificate of the trust material, and
 * records the CA certificates in `index`.
 */
export function prepareCertificates(material: TrustMaterial, index: CertificateIndex): void {
  const owned = new WeakSet<Cert>();
  const all = [...material.certificateAuthorities, ...material.timestampAuthorities].flatMap(
    (ca) => ca.certChain,
  );
  for (const cert of all) owned.add(cert);
  for (const cert of all) {
    memoiseCertificate(cert, owned, index);
    memoiseOids(cert.root);
    memoiseGetters(cert);
  }
  for (const cert of material.certificateAuthorities.flatMap((ca) => ca.certChain)) {
    index.add({
      cert,
      der: cert.root.toDER(),
      selfIssued: cert.subject.equals(cert.issuer),
      publicKey: loadPublicKey(cert),
    });
  }
}

/** DER of every self-signed certificate the trust root anchors on (to spot them inside bundles). */
export function rootCertificateDers(material: TrustMaterial): Buffer[] {
  return material.certificateAuthorities
    .flatMap((ca) => ca.certChain)
    .filter((cert) => cert.subject.equals(cert.issuer))
    .map((cert) => cert.root.toDER());
}
