// The last check before a certificate leaves the CA: parsed back with the parser verifiers use
// (@sigstore/core), it must name exactly the identity the token proved. One subjectAltName of the
// expected type whose bytes are the token's value, and exactly the expected Fulcio extensions, each
// decoding to the token's value. Whatever encoder quirk or unforeseen input would make the two
// differ, the certificate is refused instead of issued for someone else.
import { ASN1Obj, X509Certificate } from '@sigstore/core';
import * as asn1js from 'asn1js';
import { ServerError } from '../errors';
import type { TokenIdentity } from '../oidc/claims';
import { expectedExtensionValues, FULCIO_ARC, OID } from './extensions';

const GENERAL_NAME_TAG = { email: 1, uri: 6 } as const;

const mismatch = (what: string) =>
  new ServerError(
    400,
    'IDENTITY_NOT_REPRESENTABLE',
    `the certificate would not carry the token's identity exactly (${what}); nothing was issued`,
  );

function decodeUtf8String(value: Buffer): string | undefined {
  const parsed = asn1js.fromBER(new Uint8Array(value));
  if (parsed.offset !== value.length || !(parsed.result instanceof asn1js.Utf8String)) return undefined;
  return parsed.result.valueBlock.value;
}

const OID_SUBJECT_ALT_NAME = '2.5.29.17';

export function assertCertificateCarries(der: Buffer, identity: TokenIdentity): void {
  const cert = X509Certificate.parse(der as Buffer<ArrayBuffer>);
  const san = cert.extSubjectAltName;
  const sanExtension = cert.extensions.find((ext) => ext.subs[0]!.toOID() === OID_SUBJECT_ALT_NAME);
  const sanValue = sanExtension?.subs[sanExtension.subs.length - 1]?.value;
  const names = sanValue ? ASN1Obj.parseBuffer(sanValue as Buffer<ArrayBuffer>).subs : [];
  const expectedTag = GENERAL_NAME_TAG[identity.san.type];
  const name = names[0];
  if (names.length !== 1 || !name?.tag.isContextSpecific(expectedTag)) {
    throw mismatch(`expected one ${identity.san.type} subjectAltName, found ${names.length} names`);
  }
  const read = identity.san.type === 'email' ? san?.rfc822Name : san?.uri;
  if (!name.value.equals(Buffer.from(identity.san.value, 'utf8')) || read !== identity.san.value) {
    throw mismatch(`subjectAltName ${JSON.stringify(read)} instead of ${JSON.stringify(identity.san.value)}`);
  }
  const expected = expectedExtensionValues(identity);
  const present = new Map<string, Buffer>();
  for (const ext of cert.extensions) {
    const oid = ext.subs[0]!.toOID();
    if (oid.startsWith(`${FULCIO_ARC}.`)) present.set(oid, ext.subs[ext.subs.length - 1]!.value);
  }
  for (const oid of present.keys()) {
    if (!expected.has(oid)) throw mismatch(`unexpected extension ${oid}`);
  }
  for (const [oid, value] of expected) {
    const raw = present.get(oid);
    if (!raw) throw mismatch(`extension ${oid} is missing`);
    const carried = oid === OID.issuerV1 ? raw.toString('utf8') : decodeUtf8String(raw);
    if (carried !== value || (oid === OID.issuerV1 && !raw.equals(Buffer.from(value, 'utf8')))) {
      throw mismatch(
        `extension ${oid} carries ${JSON.stringify(carried)} instead of ${JSON.stringify(value)}`,
      );
    }
  }
}
