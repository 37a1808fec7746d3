// The signer identity of a verified Fulcio certificate: SAN, OIDC issuer and every Fulcio claim
// (OID 1.3.6.1.4.1.57264.1.*). Legacy claims (.1.1–.1.6) hold raw UTF-8 bytes; the v2 claims (.1.8
// onwards) hold a DER UTF8String, decoded strictly with @sigstore/core's ASN.1 parser. Matching the
// identity against a policy is the policy engine's job (anchored, exact); this only reports it.
import { ASN1Obj, type X509Certificate } from '@sigstore/core';
import { EvidenceError } from './error';
import type { FulcioClaims, SignerIdentity } from './types';

const FULCIO_ARC = '1.3.6.1.4.1.57264.1.';
const SAN_OID = '2.5.29.17';
const UTF8_STRING_TAG = 0x0c;

const RAW_CLAIMS: Record<string, keyof FulcioClaims | 'issuerV1'> = {
  '1': 'issuerV1',
  '2': 'githubWorkflowTrigger',
  '3': 'githubWorkflowSha',
  '4': 'githubWorkflowName',
  '5': 'githubWorkflowRepository',
  '6': 'githubWorkflowRef',
};

const DER_CLAIMS: Record<string, keyof FulcioClaims> = {
  '8': 'issuer',
  '9': 'buildSignerUri',
  '10': 'buildSignerDigest',
  '11': 'runnerEnvironment',
  '12': 'sourceRepositoryUri',
  '13': 'sourceRepositoryDigest',
  '14': 'sourceRepositoryRef',
  '15': 'sourceRepositoryIdentifier',
  '16': 'sourceRepositoryOwnerUri',
  '17': 'sourceRepositoryOwnerIdentifier',
  '18': 'buildConfigUri',
  '19': 'buildConfigDigest',
  '20': 'buildTrigger',
  '21': 'runInvocationUri',
  '22': 'sourceRepositoryVisibilityAtSigning',
};

function decodeUtf8String(der: Buffer, oid: string): string {
  try {
    const obj = ASN1Obj.parseBuffer(Buffer.from(der));
    if (obj.tag.toDER() === UTF8_STRING_TAG) return obj.value.toString('utf8');
  } catch {
    // reported below
  }
  throw new EvidenceError('CERTIFICATE_INVALID', `Fulcio extension ${oid} is not a DER UTF8String`);
}

function decodeClaims(cert: X509Certificate): { claims: FulcioClaims; issuerV1?: string } {
  const claims: FulcioClaims = {};
  let issuerV1: string | undefined;
  for (const ext of cert.extensions) {
    const oid = ext.subs[0]!.toOID();
    if (!oid.startsWith(FULCIO_ARC)) continue;
    const arc = oid.slice(FULCIO_ARC.length);
    // extnValue is the last element (an optional "critical" BOOLEAN may precede it)
    const value = ext.subs[ext.subs.length - 1]!.value;
    const raw = RAW_CLAIMS[arc];
    const der = DER_CLAIMS[arc];
    if (raw === 'issuerV1') issuerV1 = value.toString('utf8');
    else if (raw) claims[raw] = value.toString('utf8');
    else if (der) claims[der] = decodeUtf8String(value, oid);
  }
  return { claims, issuerV1 };
}

function subjectOf(cert: X509Certificate): Pick<SignerIdentity, 'subject' | 'subjectKind'> {
  const san = cert.extSubjectAltName;
  const names = cert.extension(SAN_OID)?.valueObj.subs ?? [];
  if (!san || names.length !== 1) {
    throw new EvidenceError(
      'CERTIFICATE_INVALID',
      `signing certificate must have exactly one subject alternative name, found ${names.length}`,
    );
  }
  if (san.uri !== undefined) return { subject: san.uri, subjectKind: 'uri' };
  if (san.rfc822Name !== undefined) return { subject: san.rfc822Name, subjectKind: 'email' };
  // otherName (e.g. Fulcio's username identities): [0] { type-id OID, [0] { UTF8String } }
  const other = names[0]!;
  const value = other.subs[1]?.subs[0]?.value;
  if (!value)
    throw new EvidenceError('CERTIFICATE_INVALID', 'signing certificate SAN has an unreadable name');
  return { subject: value.toString('utf8'), subjectKind: 'other' };
}

export function signerIdentity(cert: X509Certificate): SignerIdentity {
  const { claims, issuerV1 } = decodeClaims(cert);
  const issuer = claims.issuer ?? issuerV1;
  if (!issuer) {
    throw new EvidenceError(
      'CERTIFICATE_INVALID',
      'signing certificate names no OIDC issuer (OID .1.8 or .1.1)',
    );
  }
  return { issuer, ...subjectOf(cert), claims: { ...claims, issuer } };
}
