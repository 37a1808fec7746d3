// Builders for policy tests. The GitHub Actions identity below is the real one from the certificate
// of sigstore@2.3.1's provenance (../shared/fixtures/npm-provenance), so matching is exercised on
// the claim shapes Fulcio actually issues.
import assert from 'node:assert/strict';
import type { FulcioClaims, VerifiedBundle, VerifiedEvidence } from '../../policy/evidence/types';
import { type Decision, loadPolicy, type Policy } from '../../policy/index';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const SIGSTORE_JS = 'https://github.com/sigstore/sigstore-js';
export const RELEASE_WORKFLOW = `${SIGSTORE_JS}/.github/workflows/release.yml@refs/heads/main`;
export const NOW = new Date('2025-06-01T12:00:00Z');

export function policyOf(text: string, file = '.tollgate.yml'): Policy {
  const result = loadPolicy(text, file);
  if (!result.ok)
    assert.fail(
      `policy did not load:\n${result.errors.map((e) => `${e.line}:${e.column} ${e.code} ${e.message}`).join('\n')}`,
    );
  return result.policy;
}

export function githubClaims(overrides: Partial<FulcioClaims> = {}): FulcioClaims {
  return {
    issuer: GITHUB_ISSUER,
    buildSignerUri: RELEASE_WORKFLOW,
    runnerEnvironment: 'github-hosted',
    sourceRepositoryUri: SIGSTORE_JS,
    sourceRepositoryRef: 'refs/heads/main',
    sourceRepositoryIdentifier: '495574555',
    sourceRepositoryOwnerUri: 'https://github.com/sigstore',
    sourceRepositoryOwnerIdentifier: '71096353',
    buildConfigUri: RELEASE_WORKFLOW,
    buildTrigger: 'push',
    sourceRepositoryVisibilityAtSigning: 'public',
    ...overrides,
  };
}

export interface BundleOptions {
  kind?: VerifiedBundle['kind'];
  trustRoot?: string;
  claims?: Partial<FulcioClaims>;
  subject?: string;
  issuer?: string;
  integratedTime?: number;
  provenance?: Partial<NonNullable<VerifiedBundle['provenance']>> | false;
  source?: string;
}

export function githubBundle(options: BundleOptions = {}): VerifiedBundle {
  const kind = options.kind ?? 'provenance';
  const claims = githubClaims(options.claims);
  const bundle: VerifiedBundle = {
    kind,
    source: options.source ?? `attestations:${kind}`,
    bundleDigest: '00'.repeat(32),
    trustRoot: options.trustRoot ?? 'public-good',
    integratedTime: options.integratedTime ?? 1715879523,
    signer: {
      issuer: options.issuer ?? GITHUB_ISSUER,
      subject: options.subject ?? claims.buildSignerUri ?? RELEASE_WORKFLOW,
      subjectKind: 'uri',
      claims: { ...claims, ...(options.issuer ? { issuer: options.issuer } : {}) },
    },
  };
  if (kind === 'provenance' && options.provenance !== false) {
    bundle.predicateType = 'https://slsa.dev/provenance/v1';
    bundle.provenance = {
      predicateType: 'https://slsa.dev/provenance/v1',
      slsaVersion: '1',
      repository: claims.sourceRepositoryUri,
      workflowPath: '.github/workflows/release.yml',
      ref: claims.sourceRepositoryRef,
      event: claims.buildTrigger,
      builderId: 'https://github.com/actions/runner/github-hosted',
      runner: 'github-hosted',
      repositoryId: claims.sourceRepositoryIdentifier,
      repositoryOwnerId: claims.sourceRepositoryOwnerIdentifier,
      ...(options.provenance || {}),
    };
  }
  return bundle;
}

export function emailBundle(email: string, issuer: string, trustRoot = 'public-good'): VerifiedBundle {
  return {
    kind: 'signature',
    source: 'store:signature',
    bundleDigest: '11'.repeat(32),
    trustRoot,
    integratedTime: 1715879523,
    signer: { issuer, subject: email, subjectKind: 'email', claims: { issuer } },
  };
}

export function publishAttestation(trustRoot = 'public-good'): VerifiedBundle {
  return {
    kind: 'publish-attestation',
    source: 'attestations:publish',
    bundleDigest: '22'.repeat(32),
    trustRoot,
    keyId: 'SHA256:registry-key',
    integratedTime: 1715879526,
  };
}

export function evidenceFor(
  name: string,
  version: string,
  bundles: VerifiedBundle[],
  extra: Partial<Pick<VerifiedEvidence, 'registrySignatures' | 'failures'>> = {},
): VerifiedEvidence {
  return {
    package: { name, version, integrity: 'sha512-AAAA' },
    registrySignatures: extra.registrySignatures ?? [],
    bundles,
    failures: extra.failures ?? [],
  };
}

export function codes(decision: Decision, severity: 'violation' | 'info' = 'violation'): string[] {
  return decision.reasons.filter((r) => r.severity === severity && !r.waivedBy).map((r) => r.code);
}
