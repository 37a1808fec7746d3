// The build facts of a GitHub Actions run, read from the runner's environment the way npm reads them
// for `npm publish --provenance`, and checked against the identity token: the certificate will carry
// the token's claims, so provenance that disagrees with them would be refused by every verifier that
// compares the two (Tollgate does). Better to refuse to sign it.
import { decodeJwt } from 'jose';
import { type Environment, SigningError } from './errors';
import type { BuildClaims } from './statement';

const REQUIRED = [
  'GITHUB_REPOSITORY',
  'GITHUB_WORKFLOW_REF',
  'GITHUB_REF',
  'GITHUB_EVENT_NAME',
] as const satisfies readonly string[];

export function isGitHubActions(env: Environment): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

export interface GitHubBuild {
  claims: BuildClaims;
  /** "owner/name" */
  repository: string;
  /** "owner/name/.github/workflows/release.yml@refs/tags/v1.0.0" */
  workflowRef: string;
  /** GITHUB_REF: the ref that triggered the run */
  gitRef: string;
}

/**
 * The build claims when running in GitHub Actions with every variable provenance needs; otherwise the
 * names of the missing variables (empty when not in GitHub Actions at all).
 */
export function readGitHubBuild(env: Environment): GitHubBuild | { missing: string[] } {
  if (!isGitHubActions(env)) return { missing: [] };
  const missing = REQUIRED.filter((name) => !env[name]);
  if (missing.length > 0) return { missing };
  const repository = env.GITHUB_REPOSITORY!;
  const workflowRef = env.GITHUB_WORKFLOW_REF!;
  // GITHUB_WORKFLOW_REF is "owner/name/<path>@<ref>"; the path is what SLSA's workflow build type names.
  const relative = workflowRef.startsWith(`${repository}/`)
    ? workflowRef.slice(repository.length + 1)
    : workflowRef;
  const at = relative.indexOf('@');
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const repositoryUrl = `${server}/${repository}`;
  const runId = env.GITHUB_RUN_ID;
  return {
    repository,
    workflowRef,
    gitRef: env.GITHUB_REF!,
    claims: {
      repositoryUrl,
      workflowPath: at >= 0 ? relative.slice(0, at) : relative,
      ref: at >= 0 ? relative.slice(at + 1) : env.GITHUB_REF!,
      eventName: env.GITHUB_EVENT_NAME!,
      repositoryId: env.GITHUB_REPOSITORY_ID || undefined,
      repositoryOwnerId: env.GITHUB_REPOSITORY_OWNER_ID || undefined,
      runnerEnvironment: env.RUNNER_ENVIRONMENT || undefined,
      commitSha: env.GITHUB_SHA || undefined,
      invocationId: runId
        ? `${repositoryUrl}/actions/runs/${runId}/attempts/${env.GITHUB_RUN_ATTEMPT || '1'}`
        : undefined,
    },
  };
}

/**
 * Refuses provenance whose build facts differ from the claims of the token that will be bound into the
 * certificate. Only claims present on both sides are compared; the token is decoded, not verified
 * (the certificate authority verifies it).
 */
export function assertTokenMatchesBuild(identityToken: string, build: GitHubBuild): void {
  let payload: Record<string, unknown>;
  try {
    payload = decodeJwt(identityToken);
  } catch (err) {
    throw new SigningError('PROVENANCE_UNAVAILABLE', 'the identity token is not a JWT', err);
  }
  const expected: Array<[claim: string, value: string | undefined, variable: string]> = [
    ['repository', build.repository, 'GITHUB_REPOSITORY'],
    ['workflow_ref', build.workflowRef, 'GITHUB_WORKFLOW_REF'],
    ['ref', build.gitRef, 'GITHUB_REF'],
    ['event_name', build.claims.eventName, 'GITHUB_EVENT_NAME'],
    ['repository_id', build.claims.repositoryId, 'GITHUB_REPOSITORY_ID'],
    ['repository_owner_id', build.claims.repositoryOwnerId, 'GITHUB_REPOSITORY_OWNER_ID'],
    ['runner_environment', build.claims.runnerEnvironment, 'RUNNER_ENVIRONMENT'],
    ['sha', build.claims.commitSha, 'GITHUB_SHA'],
  ];
  const conflicts = expected
    .filter(([claim, value]) => value !== undefined && typeof payload[claim] === 'string')
    .filter(([claim, value]) => payload[claim] !== value)
    .map(
      ([claim, value, variable]) => `${claim}: token says "${payload[claim]}", ${variable} gives "${value}"`,
    );
  if (conflicts.length > 0) {
    throw new SigningError(
      'PROVENANCE_UNAVAILABLE',
      `the identity token does not belong to this GitHub Actions run, so its provenance would contradict the certificate:\n  ${conflicts.join('\n  ')}\nUse the token of this run, or pass --no-provenance to sign a publish attestation instead`,
    );
  }
}
