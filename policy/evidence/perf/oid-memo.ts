// @sigstore/core decodes an OBJECT IDENTIFIER from its bytes each time it is asked (`toOID`, with
// BigInt arithmetic per byte), and sigstore-js looks extensions up by decoding the OID of every
// extension of a certificate at each lookup: basic constraints and key ids while building the path,
// the issuer claims and the OID list of the signer, the SCT extension; Tollgate's identity decoding
// then reads every OID again. For a tree that does not change (a trust root's certificates, a bundle
// leaf: see bundle/leaf-certificate.ts) the answer is a pure function of the node's bytes, so each
// OID node remembers what @sigstore/core's own `toOID` returned the first time. A call that throws is
// not remembered.
import type { ASN1Obj } from '@sigstore/core';

// universal, primitive, tag number 6: what `tag.isOID()` accepts (in its primitive form)
const OID_TAG = 0x06;

/** Makes every primitive OID node under `root` remember its decoded value. */
export function memoiseOids(root: ASN1Obj): void {
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.subs.length > 0) {
      for (const sub of node.subs) stack.push(sub);
    } else if (node.tag.toDER() === OID_TAG) {
      const decode = node.toOID;
      let oid: string | undefined;
      node.toOID = () => {
        if (oid === undefined) oid = decode.call(node);
        return oid;
      };
    }
  }
}
