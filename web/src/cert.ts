// Certificates read in the browser with the PeculiarVentures ASN.1 schemas (@peculiar/asn1-x509):
// the fields the page shows and the parts WebCrypto needs (the to-be-signed bytes, the signature,
// the public key). The certificate is the one in the entry's logged body, so what is shown is what
// the log holds; every value is attacker-chosen text and is only ever shown as text.
import { ECDSASigValue } from '@peculiar/asn1-ecc';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type Name, SubjectAlternativeName } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { toHex } from './bytes';

const FULCIO = '1.3.6.1.4.1.57264.1.';
const CLAIM_NAMES: Record<string, string> = {
  '1': 'Issuer (v1)',
  '2': 'GitHub workflow trigger',
  '3': 'GitHub workflow SHA',
  '4': 'GitHub workflow name',
  '5': 'GitHub workflow repository',
  '6': 'GitHub workflow ref',
  '8': 'Issuer',
  '9': 'Build signer URI',
  '10': 'Build signer digest',
  '11': 'Runner environment',
  '12': 'Source repository URI',
  '13': 'Source repository digest',
  '14': 'Source repository ref',
  '15': 'Source repository identifier',
  '16': 'Source repository owner URI',
  '17': 'Source repository owner identifier',
  '18': 'Build config URI',
  '19': 'Build config digest',
  '20': 'Build trigger',
  '21': 'Run invocation URI',
  '22': 'Source repository visibility at signing',
};
const RDN_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '1.2.840.113549.1.9.1': 'E',
};
const CURVES: Record<string, string> = { '1.2.840.10045.3.1.7': 'P-256', '1.3.132.0.34': 'P-384' };
export const SIGNATURE_HASHES: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'SHA-256',
  '1.2.840.10045.4.3.3': 'SHA-384',
};

export interface Claim {
  oid: string;
  name: string;
  value: string;
}

export interface CertificateView {
  der: Uint8Array<ArrayBuffer>;
  serial: string;
  subjectName: string;
  issuerName: string;
  /** The issuer name's DER, to find the issuing CA. */
  issuerDer: Uint8Array<ArrayBuffer>;
  subjectDer: Uint8Array<ArrayBuffer>;
  notBefore: Date;
  notAfter: Date;
  sans: { kind: 'email' | 'uri' | 'other'; value: string }[];
  /** OIDC issuer: .1.8, else the raw .1.1. */
  oidcIssuer: string | null;
  claims: Claim[];
  spki: Uint8Array<ArrayBuffer>;
  /** WebCrypto curve of an EC key (P-256, P-384), else null. */
  curve: string | null;
  signatureAlgorithm: string;
  tbs: Uint8Array<ArrayBuffer>;
  signature: Uint8Array<ArrayBuffer>;
}

function nameText(name: Name): string {
  return name
    .map((rdn) => rdn.map((atv) => `${RDN_NAMES[atv.type] ?? atv.type}=${atv.value.toString()}`).join('+'))
    .join(', ');
}

function utf8String(value: ArrayBuffer): string {
  const parsed = asn1js.fromBER(value);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Utf8String))
    throw new Error('not a UTF8String');
  return parsed.result.valueBlock.value;
}

function oidOf(parameters: ArrayBuffer | null | undefined): string | null {
  if (!parameters) return null;
  const parsed = asn1js.fromBER(parameters);
  return parsed.result instanceof asn1js.ObjectIdentifier ? parsed.result.valueBlock.toString() : null;
}

const bytes = (buffer: ArrayBuffer) => new Uint8Array(buffer) as Uint8Array<ArrayBuffer>;

export function parseCertificate(der: Uint8Array<ArrayBuffer>): CertificateView {
  const cert = AsnConvert.parse(der, Certificate);
  const tbs = cert.tbsCertificate;
  const sans: CertificateView['sans'] = [];
  const claims: Claim[] = [];
  let issuerV1: string | null = null;
  let issuerV2: string | null = null;
  for (const extension of tbs.extensions ?? []) {
    const value = extension.extnValue.buffer;
    if (extension.extnID === '2.5.29.17') {
      for (const name of AsnConvert.parse(value, SubjectAlternativeName)) {
        if (name.rfc822Name !== undefined) sans.push({ kind: 'email', value: name.rfc822Name });
        else if (name.uniformResourceIdentifier !== undefined)
          sans.push({ kind: 'uri', value: name.uniformResourceIdentifier });
        else if (name.otherName) {
          sans.push({ kind: 'other', value: new TextDecoder().decode(name.otherName.value) });
        }
      }
    } else if (extension.extnID.startsWith(FULCIO)) {
      const arc = extension.extnID.slice(FULCIO.length);
      const raw = Number(arc) <= 7;
      let text: string;
      try {
        text = raw ? new TextDecoder('utf-8', { fatal: true }).decode(value) : utf8String(value);
      } catch {
        text = `(undecodable: ${toHex(value)})`;
      }
      if (arc === '1') issuerV1 = text;
      if (arc === '8') issuerV2 = text;
      claims.push({ oid: extension.extnID, name: CLAIM_NAMES[arc] ?? `Fulcio claim .${arc}`, value: text });
    }
  }
  if (!cert.tbsCertificateRaw) throw new Error('the certificate has no to-be-signed part');
  const spkiInfo = tbs.subjectPublicKeyInfo;
  return {
    der,
    serial: toHex(tbs.serialNumber),
    subjectName: nameText(tbs.subject),
    issuerName: nameText(tbs.issuer),
    issuerDer: bytes(AsnConvert.serialize(tbs.issuer)),
    subjectDer: bytes(AsnConvert.serialize(tbs.subject)),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    sans,
    oidcIssuer: issuerV2 ?? issuerV1,
    claims,
    spki: bytes(AsnConvert.serialize(spkiInfo)),
    curve:
      spkiInfo.algorithm.algorithm === '1.2.840.10045.2.1'
        ? (CURVES[oidOf(spkiInfo.algorithm.parameters) ?? ''] ?? null)
        : null,
    signatureAlgorithm: cert.signatureAlgorithm.algorithm,
    tbs: bytes(cert.tbsCertificateRaw),
    signature: bytes(cert.signatureValue),
  };
}

/** A DER ECDSA signature as WebCrypto takes it: r || s, each `size` bytes. */
export function ecdsaRawSignature(der: Uint8Array<ArrayBuffer>, size: number): Uint8Array<ArrayBuffer> {
  const value = AsnConvert.parse(der, ECDSASigValue);
  const out = new Uint8Array(size * 2);
  const put = (integer: ArrayBuffer, at: number) => {
    let part = new Uint8Array(integer);
    while (part.length > size && part[0] === 0) part = part.subarray(1);
    if (part.length > size) throw new Error('signature integer too long');
    out.set(part, at + size - part.length);
  };
  put(value.r, 0);
  put(value.s, size);
  return out;
}

export const CURVE_SIZES: Record<string, number> = { 'P-256': 32, 'P-384': 48 };
