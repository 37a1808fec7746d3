// Fulcio's certificate extensions (OID arc 1.3.6.1.4.1.57264.1), filled from the token the way
// Fulcio fills them for GitHub Actions tokens. Extension .1.1 holds the issuer as raw bytes
// (Fulcio's deprecated v1 form); .1.8 and later hold DER UTF8Strings.
import * as asn1js from 'asn1js';
import { ciServerUrl, type TokenIdentity } from '../oidc/claims';
import { x509 } from '../x509';

const ARC = '1.3.6.1.4.1.57264.1';

export const OID = {
  issuerV1: `${ARC}.1`,
  issuerV2: `${ARC}.8`,
  buildSignerURI: `${ARC}.9`,
  buildSignerDigest: `${ARC}.10`,
  runnerEnvironment: `${ARC}.11`,
  sourceRepositoryURI: `${ARC}.12`,
  sourceRepositoryDigest: `${ARC}.13`,
  sourceRepositoryRef: `${ARC}.14`,
  sourceRepositoryIdentifier: `${ARC}.15`,
  sourceRepositoryOwnerURI: `${ARC}.16`,
  sourceRepositoryOwnerIdentifier: `${ARC}.17`,
  buildConfigURI: `${ARC}.18`,
  buildConfigDigest: `${ARC}.19`,
  buildTrigger: `${ARC}.20`,
  runInvocationURI: `${ARC}.21`,
  sourceRepositoryVisibilityAtSigning: `${ARC}.22`,
} as const;

function utf8Extension(oid: string, value: string): x509.Extension {
  return new x509.Extension(oid, false, new asn1js.Utf8String({ value }).toBER(false));
}

function claim(claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Workflow extensions .1.9 to .1.22 for the claims a token carries (GitHub Actions names). */
function workflowValues(claims: Record<string, unknown>): [string, string][] {
  const server = ciServerUrl(claims);
  const c = (name: string) => claim(claims, name);
  const url = (...parts: (string | undefined)[]) =>
    parts.every((p) => p !== undefined) ? parts.join('') : undefined;
  const candidates: [string, string | undefined][] = [
    [OID.buildSignerURI, url(server, '/', c('job_workflow_ref'))],
    [OID.buildSignerDigest, c('job_workflow_sha')],
    [OID.runnerEnvironment, c('runner_environment')],
    [OID.sourceRepositoryURI, url(server, '/', c('repository'))],
    [OID.sourceRepositoryDigest, c('sha')],
    [OID.sourceRepositoryRef, c('ref')],
    [OID.sourceRepositoryIdentifier, c('repository_id')],
    [OID.sourceRepositoryOwnerURI, url(server, '/', c('repository_owner'))],
    [OID.sourceRepositoryOwnerIdentifier, c('repository_owner_id')],
    [OID.buildConfigURI, url(server, '/', c('workflow_ref'))],
    [OID.buildConfigDigest, c('workflow_sha')],
    [OID.buildTrigger, c('event_name')],
    [
      OID.runInvocationURI,
      url(server, '/', c('repository'), '/actions/runs/', c('run_id'), '/attempts/', c('run_attempt')),
    ],
    [OID.sourceRepositoryVisibilityAtSigning, c('repository_visibility')],
  ];
  return candidates.filter((entry): entry is [string, string] => entry[1] !== undefined);
}

export function identityExtensions(identity: TokenIdentity): x509.Extension[] {
  const san =
    identity.san.type === 'email'
      ? new x509.SubjectAlternativeNameExtension([{ type: 'email', value: identity.san.value }], true)
      : new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identity.san.value }], true);
  return [
    san,
    new x509.Extension(OID.issuerV1, false, new Uint8Array(Buffer.from(identity.issuer, 'utf8'))),
    utf8Extension(OID.issuerV2, identity.issuer),
    ...workflowValues(identity.claims).map(([oid, value]) => utf8Extension(oid, value)),
  ];
}
