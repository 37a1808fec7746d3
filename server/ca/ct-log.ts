// The CA's certificate transparency log. Before a certificate is issued its pre-certificate
// entry (RFC 6962 section 3.4: timestamp, issuer key hash, TBSCertificate without the SCT
// extension) is appended durably to a Merkle log of its own, and the log's signature over that
// entry, the SCT, is embedded in the certificate. Verifiers check the SCT against the CT key
// in the trusted root, exactly as they do for the public Sigstore instance.
import { sign } from 'node:crypto';
import * as asn1js from 'asn1js';
import type { SigningKey } from '../instance';
import type { LogStore } from '../log/store';

export const OID_SCT_LIST = '1.3.6.1.4.1.11129.2.4.2';

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

/** Body shared by the MerkleTreeLeaf and the SCT's signed data: timestamp through extensions. */
function timestampedPrecertEntry(timestampMs: number, issuerKeyHash: Buffer, tbs: Buffer): Buffer {
  return Buffer.concat([
    u64(timestampMs),
    u16(1), // LogEntryType precert_entry
    issuerKeyHash,
    u24(tbs.length),
    tbs,
    u16(0), // no CtExtensions
  ]);
}

export class CertificateTransparencyLog {
  constructor(
    private readonly store: LogStore,
    private readonly key: SigningKey,
  ) {}

  get size(): number {
    return this.store.size;
  }

  /** Logs the pre-certificate durably and returns the DER value of the SCT list extension. */
  async submitPrecertificate(issuerKeyHash: Buffer, tbs: Buffer): Promise<ArrayBuffer> {
    const timestamp = Date.now();
    const entry = timestampedPrecertEntry(timestamp, issuerKeyHash, tbs);
    // MerkleTreeLeaf: version v1, leaf_type timestamped_entry, then the entry.
    await this.store.append({ body: Buffer.concat([Buffer.from([0, 0]), entry]), searchKeys: [] });
    // digitally-signed struct: version v1, signature_type certificate_timestamp, then the entry.
    const signature = sign('sha256', Buffer.concat([Buffer.from([0, 0]), entry]), this.key.privateKey);
    const sct = Buffer.concat([
      Buffer.from([0]), // version v1
      this.key.keyId,
      u64(timestamp),
      u16(0), // no extensions
      Buffer.from([4, 3]), // sha256, ecdsa
      u16(signature.length),
      signature,
    ]);
    const list = Buffer.concat([u16(sct.length + 2), u16(sct.length), sct]);
    return new asn1js.OctetString({ valueHex: list }).toBER(false);
  }
}
