// The bundle's signing certificate, parsed once per bundle and shared by every check that reads it
// (the chain check, sigstore-js's verifier, the identity). Nothing in verification changes its tree:
// sigstore-js clones it before removing the SCT extension, and everything else only reads. sigstore-js
// then spends per bundle on it what only depends on bytes already known; those costs are removed
// here without changing any result:
// - the OIDs of its extensions, which sigstore-js decodes again at every extension lookup, are
//   decoded once (perf/oid-memo.ts);
// - its encoding, which @sigstore/verify re-derives to compare it with each trust root certificate,
//   is the bytes it was parsed from (recorded in the context's CertificateIndex);
// - `verify(issuer)` builds a KeyObject from the issuer's public key every time; when the issuer is
//   one of the trust root's own CA certificates its KeyObject was built once from the same bytes, and
//   the signature over the TBSCertificate is checked with it exactly as X509Certificate.verify does;
// - `clone()` (for SCT verification) encodes the certificate and parses the encoding again. Parsing
//   the bytes a tree was parsed from yields the same tree again, so the copy is made from the tree
//   itself: new nodes and arrays (the copy's extension list is what sigstore-js edits), the same tag
//   objects and value bytes, which nothing writes to;
// - its public key, which sigstore-js imports from the SPKI DER, is imported as the same point in JWK
//   form where it is an uncompressed P-256 key (perf/leaf-key.ts).
import { ASN1Obj, crypto, X509Certificate } from '@sigstore/core';
import { parseDER } from '../perf/der-parsing';
import { markLeafKey } from '../perf/leaf-key';
import { memoiseOids } from '../perf/oid-memo';
import type { CertificateIndex } from '../trust/certificate-index';

/** `X509Certificate.parse(der)` through the non-throwing parser (the same tree, the same errors). */
export function parseCertificate(der: Buffer): X509Certificate {
  return new X509Certificate(parseDER(der));
}

function copyTree(obj: ASN1Obj): ASN1Obj {
  const copy = new ASN1Obj(obj.tag, obj.value, obj.subs.map(copyTree));
  // an OID node's remembered value (perf/oid-memo.ts) holds for the copy: same tag, same bytes
  if (Object.hasOwn(obj, 'toOID')) copy.toOID = obj.toOID;
  return copy;
}

/** Gives a bundle leaf parsed from exactly `der` the cheaper encoding, `verify(issuer)` and `clone()`. */
export function prepareLeaf(leaf: X509Certificate, der: Buffer, trusted: CertificateIndex): X509Certificate {
  trusted.rememberEncoding(leaf, der);
  memoiseOids(leaf.root);
  const verify = leaf.verify.bind(leaf);
  leaf.verify = (issuer?: X509Certificate) => {
    const key = issuer ? trusted.issuerKey(issuer) : undefined;
    if (!key) return verify(issuer);
    return crypto.verify(leaf.tbsCertificate.toDER(), key, leaf.signatureValue, leaf.signatureAlgorithm);
  };
  leaf.clone = () => new X509Certificate(copyTree(leaf.root));
  // the getter encodes the key again at every read; these bytes are the same each time
  Object.defineProperty(leaf, 'publicKey', { value: markLeafKey(leaf.publicKey) });
  return leaf;
}
