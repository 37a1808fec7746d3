// What a verified bundle says about who built and signed the package. Identity claims come only from
// the Fulcio certificate (minted by the CA from the OIDC token: authoritative). The SLSA provenance
// predicate is written by the build itself, so whoever signs can put anything there: its values are
// never identity claims. They are compared with the certificate's, and a contradiction is reported
// (the provenance is lying about its own build); only the builder id, which the certificate does not
// carry, is read from it, labelled as the signer's own statement.
import type { VerifiedBundle } from './evidence/types';
import { normalizeRepository } from './repository';

export type ClaimSource = 'certificate' | 'provenance';

export interface Claim {
  value: string;
  from: ClaimSource;
}

export interface ObservedIdentity {
  issuer?: string;
  subject?: string;
  subjectKind?: 'uri' | 'email' | 'other';
  /** normalised host/owner/name */
  repository?: Claim;
  repositoryId?: Claim;
  ownerId?: Claim;
  /** workflow file path within the repository */
  workflow?: Claim;
  ref?: Claim;
  event?: Claim;
  runner?: Claim;
  builder?: Claim;
}

/** Claims read from both the certificate and the provenance (the certificate wins; conflicts are reported). */
export const CLAIM_FIELDS = [
  'repository',
  'repositoryId',
  'ownerId',
  'workflow',
  'ref',
  'event',
  'runner',
] as const;
export type ClaimField = (typeof CLAIM_FIELDS)[number];

export interface ClaimConflict {
  field: ClaimField;
  certificate: string;
  provenance: string;
}

const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

export function observeBundle(bundle: VerifiedBundle): {
  identity: ObservedIdentity;
  conflicts: ClaimConflict[];
} {
  const identity: ObservedIdentity = {};
  const conflicts: ClaimConflict[] = [];
  const signer = bundle.signer;
  const claims = signer?.claims ?? {};
  if (signer) {
    identity.issuer = signer.issuer;
    identity.subject = signer.subject;
    identity.subjectKind = signer.subjectKind;
  }

  const legacyRepository =
    claims.githubWorkflowRepository && signer?.issuer === GITHUB_ACTIONS_ISSUER
      ? `github.com/${claims.githubWorkflowRepository}`
      : undefined;
  const certificateRepository =
    normalizeOptional(claims.sourceRepositoryUri) ?? normalizeOptional(legacyRepository);
  const certificate: Partial<Record<ClaimField, string>> = {
    repository: certificateRepository,
    repositoryId: claims.sourceRepositoryIdentifier,
    ownerId: claims.sourceRepositoryOwnerIdentifier,
    workflow: workflowPath(claims.buildConfigUri, claims.sourceRepositoryUri),
    ref: claims.sourceRepositoryRef ?? claims.githubWorkflowRef,
    event: claims.buildTrigger ?? claims.githubWorkflowTrigger,
    runner: claims.runnerEnvironment,
  };
  const provenance = bundle.provenance;
  const predicate: Partial<Record<ClaimField, string>> = provenance
    ? {
        repository: normalizeOptional(provenance.repository),
        repositoryId: provenance.repositoryId,
        ownerId: provenance.repositoryOwnerId,
        workflow: provenance.workflowPath,
        ref: provenance.ref,
        event: provenance.event,
        runner: provenance.runner,
      }
    : {};

  for (const field of CLAIM_FIELDS) {
    const fromCertificate = certificate[field];
    const fromProvenance = predicate[field];
    if (fromCertificate === undefined) continue;
    identity[field] = { value: fromCertificate, from: 'certificate' };
    if (fromProvenance !== undefined && fromProvenance !== fromCertificate) {
      conflicts.push({ field, certificate: fromCertificate, provenance: fromProvenance });
    }
  }
  if (provenance?.builderId !== undefined)
    identity.builder = { value: provenance.builderId, from: 'provenance' };
  return { identity, conflicts };
}

function normalizeOptional(value: string | undefined): string | undefined {
  return value === undefined ? undefined : (normalizeRepository(value) ?? value);
}

/** ".github/workflows/release.yml" from "https://github.com/o/r/.github/workflows/release.yml@refs/heads/main". */
export function workflowPath(
  buildConfigUri: string | undefined,
  repositoryUri: string | undefined,
): string | undefined {
  if (!buildConfigUri) return undefined;
  const at =
    buildConfigUri.lastIndexOf('@refs/') >= 0
      ? buildConfigUri.lastIndexOf('@refs/')
      : buildConfigUri.lastIndexOf('@');
  const withoutRef = at >= 0 ? buildConfigUri.slice(0, at) : buildConfigUri;
  if (repositoryUri && withoutRef.startsWith(`${repositoryUri}/`))
    return withoutRef.slice(repositoryUri.length + 1);
  // Without a repository claim, a GitHub-style URI still has the path after owner/name.
  const match = /^https?:\/\/[^/]+\/[^/]+\/[^/]+\/(.+)$/.exec(withoutRef);
  return match?.[1];
}
