// Fulcio's certificate extensions (OID arc 1.3.6.1.4.1.57264.1), filled from the token the way
// Fulcio fills them for GitHub Actions tokens, and only for issuers that define those claims (see
// oidc/trusted-issuers.ts): from any other issuer a claim named "repository" is just a claim.
// Extension .1.1 holds the issuer as raw bytes (Fulcio's deprecated v1 form); .1.8 and later hold
// DER UTF8Strings.
import * as asn1js from 'asn1js';
import { ciServerUrl, type TokenIdentity } from '../oidc/claims';
import { x509 } from '../x509';

export const FULCIO_ARC = '1.3.6.1.4.1.57264.1';

export const OID = {
  issuerV1: `${FULCIO_ARC}.1`,
  issuerV2: `${FULCIO_ARC}.8`,
  buildSignerURI: `${FULCIO_ARC}.9`,
  buildSignerDigest: `${FULCIO_ARC}.10`,
  runnerEnvironment: `${FULCIO_ARC}.11`,
  sourceRepositoryURI: `${FULCIO_ARC}.12`,
  sourceRepositoryDigest: `${FULCIO_ARC}.13`,
  sourceRepositoryRef: `${FULCIO_ARC}.14`,
  sourceRepositoryIdentifier: `${FULCIO_ARC}.15`,
  sourceRepositoryOwnerURI: `${FULCIO_ARC}.16`,
  sourceRepositoryOwnerIdentifier: `${FULCIO_ARC}.17`,
  buildConfigURI: `${FULCIO_ARC}.18`,
  buildConfigDigest: `${FULCIO_ARC}.19`,
  buildTrigger: `${FULCIO_ARC}.20`,
  runInvocationURI: `${FULCIO_ARC}.21`,
  sourceRepositoryVisibilityAtSigning: `${FULCIO_ARC}.22`,
} as const;

function utf8Extension(oid: string, value: string): x509.Extension {
  return new x509.Extension(oid, false, new asn1js.Utf8String({ value }).toBER(false));
}

/** The values the Fulcio extensions of a certificate for `identity` must carry, by OID. */
export function expectedExtensionValues(identity: TokenIdentity): Map<string, string> {
  return new Map([
    [OID.issuerV1, identity.issuer],
    [OID.issuerV2, identity.issuer],
    ...(identity.ciClaims ? workflowValues(identity.ciClaims) : []),
  ]);
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
    ...[...expectedExtensionValues(identity)].map(([oid, value]) =>
      oid === OID.issuerV1
        ? new x509.Extension(oid, false, new Uint8Array(Buffer.from(value, 'utf8')))
        : utf8Extension(oid, value),
    ),
  ];
}
