// An RFC 3161 timestamp authority, as sigstore/timestamp-authority answers sigstore-js: POST
// /api/v1/timestamp with {artifactHash (base64), hashAlgorithm, nonce?, certificates?} returns a DER
// TimeStampResp (status granted) whose token is CMS SignedData over a TSTInfo: whole-second genTime,
// accuracy 1 s, a random serial, the request's nonce, signed attributes contentType, signingTime,
// messageDigest and signingCertificateV2 (RFC 5816), ECDSA P-256 with SHA-256, signer named by issuer
// and serial number. Built with @peculiar/asn1-tsp / asn1-cms / asn1-schema; nothing is hand-encoded
// except the one structure those packages lack (ESSCertIDv2, with asn1js).
import { createHash, randomBytes, sign } from 'node:crypto';
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  ContentInfo,
  DigestAlgorithmIdentifiers,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  id_signedData,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
} from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  Accuracy,
  id_ct_tstInfo,
  MessageImprint,
  PKIStatus,
  PKIStatusInfo,
  TimeStampResp,
  TSTInfo,
} from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { ServerError } from '../errors';
import type { TsaKeys } from './keys';

const OID = {
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
};

/** This TSA's policy: a UUID-derived OID (2.25.x), anyone may mint one. */
export const TSA_POLICY_OID = '2.25.182031190264734950112431651108346573185';

const HASHES: Record<string, { oid: string; length: number }> = {
  sha256: { oid: OID.sha256, length: 32 },
  sha384: { oid: OID.sha384, length: 48 },
  sha512: { oid: OID.sha512, length: 64 },
};

export interface TimestampRequest {
  hash: Buffer;
  algorithm: keyof typeof HASHES;
  nonce?: bigint;
  certificates: boolean;
}

const badRequest = (message: string) => new ServerError(400, 'BAD_REQUEST', message);

/** Reads the JSON request sigstore-js sends; every field is checked. */
export function parseTimestampRequest(body: unknown): TimestampRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('expected a JSON object');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!['artifactHash', 'hashAlgorithm', 'nonce', 'certificates', 'tsaPolicyOID'].includes(key))
      throw badRequest(`unknown field "${key}"`);
  }
  const algorithm = typeof b.hashAlgorithm === 'string' ? b.hashAlgorithm.toLowerCase() : 'sha256';
  const spec = HASHES[algorithm];
  if (!spec) throw badRequest('"hashAlgorithm" must be sha256, sha384 or sha512');
  if (typeof b.artifactHash !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(b.artifactHash))
    throw badRequest('"artifactHash" must be the base64 digest of the artifact');
  const hash = Buffer.from(b.artifactHash, 'base64');
  if (hash.length !== spec.length)
    throw badRequest(`"artifactHash" must be ${spec.length} bytes for ${algorithm}, got ${hash.length}`);
  let nonce: bigint | undefined;
  if (b.nonce !== undefined) {
    if ((typeof b.nonce !== 'number' && typeof b.nonce !== 'string') || !/^\d{1,38}$/.test(String(b.nonce)))
      throw badRequest('"nonce" must be a non-negative integer');
    nonce = BigInt(String(b.nonce));
  }
  if (b.certificates !== undefined && typeof b.certificates !== 'boolean')
    throw badRequest('"certificates" must be true or false');
  if (b.tsaPolicyOID !== undefined && b.tsaPolicyOID !== TSA_POLICY_OID)
    throw badRequest(`this TSA only issues under policy ${TSA_POLICY_OID}`);
  return {
    hash,
    algorithm: algorithm as TimestampRequest['algorithm'],
    ...(nonce !== undefined ? { nonce } : {}),
    certificates: b.certificates === true,
  };
}

function unsignedInteger(value: bigint | Buffer): ArrayBuffer {
  let bytes =
    typeof value === 'bigint'
      ? Buffer.from(
          value
            .toString(16)
            .padStart(2, '0')
            .replace(/^(.(..)*)$/, '0$1'),
          'hex',
        )
      : value;
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return new Uint8Array(bytes).buffer;
}

const der = (value: unknown) => Buffer.from(AsnConvert.serialize(value));

function attribute(type: string, valueDer: Buffer): Attribute {
  return new Attribute({ attrType: type, attrValues: [new Uint8Array(valueDer).buffer] });
}

export class TimestampAuthority {
  constructor(private readonly keys: TsaKeys) {}

  /** The certificate chain, leaf first, as PEM (GET /api/v1/timestamp/certchain). */
  chainPem(): string {
    return `${this.keys.leaf.cert.toString('pem')}\n${this.keys.root.cert.toString('pem')}\n`;
  }

  /** A DER TimeStampResp for the request, signed now. */
  timestamp(request: TimestampRequest, now = new Date()): Buffer {
    const genTime = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const tstInfo = new TSTInfo({
      version: 1,
      policy: TSA_POLICY_OID,
      messageImprint: new MessageImprint({
        hashAlgorithm: new AlgorithmIdentifier({ algorithm: HASHES[request.algorithm]!.oid }),
        hashedMessage: new OctetString(new Uint8Array(request.hash).buffer),
      }),
      serialNumber: unsignedInteger(randomBytes(16)),
      genTime,
      accuracy: new Accuracy({ seconds: 1 }),
      ...(request.nonce !== undefined ? { nonce: unsignedInteger(request.nonce) } : {}),
    });
    const tstDer = der(tstInfo);
    const leafDer = Buffer.from(this.keys.leaf.cert.rawData);
    const leaf = AsnConvert.parse(leafDer, Certificate);

    const essCertIdV2 = new asn1js.Sequence({
      value: [
        new asn1js.Sequence({
          value: [
            new asn1js.Sequence({
              value: [
                new asn1js.OctetString({
                  valueHex: new Uint8Array(createHash('sha256').update(leafDer).digest()).buffer,
                }),
              ],
            }),
          ],
        }),
      ],
    });
    const attributes = [
      attribute(OID.contentType, Buffer.from(new asn1js.ObjectIdentifier({ value: id_ct_tstInfo }).toBER())),
      attribute(OID.signingTime, Buffer.from(new asn1js.UTCTime({ valueDate: genTime }).toBER())),
      attribute(
        OID.messageDigest,
        Buffer.from(
          new asn1js.OctetString({
            valueHex: new Uint8Array(createHash('sha256').update(tstDer).digest()).buffer,
          }).toBER(),
        ),
      ),
      attribute(OID.signingCertificateV2, Buffer.from(essCertIdV2.toBER())),
    ];
    // DER: a SET OF is sorted by the encodings of its elements.
    attributes.sort((a, b) => Buffer.compare(der(a), der(b)));
    const signerInfo = new SignerInfo({
      version: 1,
      sid: new SignerIdentifier({
        issuerAndSerialNumber: new IssuerAndSerialNumber({
          issuer: leaf.tbsCertificate.issuer,
          serialNumber: leaf.tbsCertificate.serialNumber,
        }),
      }),
      digestAlgorithm: new AlgorithmIdentifier({ algorithm: OID.sha256 }),
      signedAttrs: attributes,
      signatureAlgorithm: new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 }),
      signature: new OctetString(new ArrayBuffer(0)),
    });
    // The signature covers the signed attributes exactly as encoded in the SignerInfo, with the
    // SET OF tag in place of the [0] IMPLICIT one (RFC 5652 §5.4).
    const encoded = asn1js.fromBER(new Uint8Array(der(signerInfo)).buffer).result as asn1js.Sequence;
    const signedAttrsDer = Buffer.from(encoded.valueBlock.value[3]!.valueBeforeDecodeView);
    signedAttrsDer[0] = 0x31;
    signerInfo.signature = new OctetString(
      new Uint8Array(sign('sha256', signedAttrsDer, this.keys.leaf.privateKey)).buffer,
    );
    const signedData = new SignedData({
      version: 3,
      digestAlgorithms: new DigestAlgorithmIdentifiers([new AlgorithmIdentifier({ algorithm: OID.sha256 })]),
      encapContentInfo: new EncapsulatedContentInfo({
        eContentType: id_ct_tstInfo,
        eContent: new EncapsulatedContent({ single: new OctetString(new Uint8Array(tstDer).buffer) }),
      }),
      ...(request.certificates
        ? { certificates: new CertificateSet([new CertificateChoices({ certificate: leaf })]) }
        : {}),
      signerInfos: new SignerInfos([signerInfo]),
    });
    const response = new TimeStampResp({
      status: new PKIStatusInfo({ status: PKIStatus.granted }),
      timeStampToken: new ContentInfo({
        contentType: id_signedData,
        content: AsnConvert.serialize(signedData),
      }),
    });
    return der(response);
  }
}
