// `yarn tollgate publish --dry-run`: the identity the certificate would carry, told without signing and
// without fetching a token. A token given (--identity-token, SIGSTORE_ID_TOKEN) is decoded, not sent; a
// dev identity is the email the dev issuer would mint; in GitHub Actions the token is not requested and
// the identity is what the runner's variables say the token's job_workflow_ref will be. Pure.
import { decodeJwt } from 'jose';
import { type Environment, SigningError } from './errors';
import { isGitHubActions, readGitHubBuild } from './github-actions';
import type { TokenSource } from './identity-token';

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

export interface ForeseenIdentity {
  source: TokenSource;
  /** the certificate's subject (email or URI), when it can be told */
  subject: string | null;
  issuer: string | null;
  /** SLSA provenance or a publish attestation, and why */
  kind: 'provenance' | 'publish';
  /** what is known and what is not, for people */
  note: string;
}

export interface ForeseeOptions {
  identityToken?: string;
  devIdentity?: string;
  devIssuerServer?: string;
  provenance?: boolean;
  env: Environment;
}

/** Fulcio's subject for a token: the email, a workflow's URI, or a URI `sub`. */
function subjectOf(claims: Record<string, unknown>): string | null {
  if (typeof claims.email === 'string') return claims.email;
  if (typeof claims.job_workflow_ref === 'string') return `https://github.com/${claims.job_workflow_ref}`;
  if (typeof claims.sub === 'string') return claims.sub;
  return null;
}

function decoded(token: string, source: TokenSource): Record<string, unknown> {
  try {
    return decodeJwt(token);
  } catch (err) {
    throw new SigningError('USAGE', `the identity token from ${source} is not a JWT`, err);
  }
}

function kindFor(
  env: Environment,
  provenance: boolean | undefined,
  namesWorkflow: boolean,
): Pick<ForeseenIdentity, 'kind' | 'note'> {
  if (provenance === false) return { kind: 'publish', note: 'publish attestation (--no-provenance)' };
  const build = readGitHubBuild(env);
  if ('missing' in build || !namesWorkflow) {
    if (provenance === true)
      throw new SigningError(
        'PROVENANCE_UNAVAILABLE',
        'missing' in build
          ? 'provenance can only be generated in GitHub Actions with the workflow variables'
          : 'the identity token names no workflow, so the certificate could not vouch for provenance',
      );
    return {
      kind: 'publish',
      note:
        'missing' in build
          ? 'publish attestation (not a GitHub Actions run)'
          : 'publish attestation (the token names no workflow)',
    };
  }
  return { kind: 'provenance', note: `SLSA provenance of ${build.workflowRef}` };
}

export function foreseeIdentity(options: ForeseeOptions): ForeseenIdentity {
  const { env } = options;
  if (options.identityToken !== undefined && options.devIdentity !== undefined)
    throw new SigningError('USAGE', 'give either --identity-token or --dev-identity, not both');
  const fromToken = (token: string, source: TokenSource): ForeseenIdentity => {
    const claims = decoded(token, source);
    const namesWorkflow =
      typeof claims.workflow_ref === 'string' || typeof claims.job_workflow_ref === 'string';
    const kind = kindFor(env, options.provenance, namesWorkflow);
    return {
      source,
      subject: subjectOf(claims),
      issuer: typeof claims.iss === 'string' ? claims.iss : null,
      ...kind,
      note: `${kind.note}; the token was decoded, not sent`,
    };
  };
  if (options.identityToken !== undefined) {
    if (options.identityToken.trim() === '') throw new SigningError('USAGE', '--identity-token is empty');
    return fromToken(options.identityToken.trim(), '--identity-token');
  }
  if (options.devIdentity !== undefined) {
    if (!options.devIssuerServer)
      throw new SigningError(
        'USAGE',
        '--dev-identity needs a tollgate-server: pass --sigstore-server <url> (its dev issuer mints the token)',
      );
    const kind = kindFor(env, options.provenance, false);
    return {
      source: '--dev-identity',
      subject: options.devIdentity,
      issuer: `${options.devIssuerServer}/oidc`,
      ...kind,
      note: `${kind.note}; no token was minted`,
    };
  }
  if (env.SIGSTORE_ID_TOKEN) return fromToken(env.SIGSTORE_ID_TOKEN, 'SIGSTORE_ID_TOKEN');
  if (isGitHubActions(env) && env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    const kind = kindFor(env, options.provenance, true);
    // Fulcio names the job's workflow (job_workflow_ref); for a workflow that is not called by another
    // one that is GITHUB_WORKFLOW_REF. A reusable workflow's own ref is only known from the token.
    return {
      source: 'github-actions',
      subject: env.GITHUB_WORKFLOW_REF ? `https://github.com/${env.GITHUB_WORKFLOW_REF}` : null,
      issuer: GITHUB_ACTIONS_ISSUER,
      ...kind,
      note: `${kind.note}; the token was not requested: the subject is the job's workflow ref, which GITHUB_WORKFLOW_REF gives unless a reusable workflow publishes`,
    };
  }
  throw new SigningError(
    'NO_IDENTITY_TOKEN',
    'no OIDC identity token: the publish would fail; pass --identity-token <jwt>, set SIGSTORE_ID_TOKEN, run in GitHub Actions with "permissions: id-token: write", or use --dev-identity <email> with --sigstore-server <url>',
  );
}
