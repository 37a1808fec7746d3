// Verifies OIDC identity tokens for the CA: signature against the issuer's JWKS (held locally,
// never fetched at request time), issuer allow-list, audience "sigstore", expiry and not-before.
// Each issuer also says whether it defines GitHub-Actions-style claims (repository, workflow,
// ref, server_url, ...): only then are they mapped to certificate extensions and the workflow SAN,
// because any other issuer may let its users set claims of those names to anything.
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, errors as joseErrors, jwtVerify } from 'jose';
import { uriProblem } from '../ca/representable';
import { ConfigError, ServerError } from '../errors';
import { identityFromClaims, type TokenIdentity } from './claims';

export const SIGSTORE_AUDIENCE = 'sigstore';
const ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];
const MAX_TOKEN_LENGTH = 16 * 1024;

/** GitHub Actions' token issuer: its tokens define the CI claims by construction. */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

export interface TrustedIssuer {
  issuerUrl: string;
  jwks: JSONWebKeySet;
  /**
   * Whether the issuer defines GitHub-Actions-style claims, which then become Fulcio extensions.
   * Default: only for GitHub Actions' issuer.
   */
  ciClaims?: boolean;
}

/** Why `issuerUrl` cannot be an issuer a certificate names exactly, or undefined. */
export function issuerUrlProblem(issuerUrl: string): string | undefined {
  const problem = uriProblem(issuerUrl);
  if (problem) return problem;
  const { protocol } = new URL(issuerUrl);
  return protocol === 'https:' || protocol === 'http:' ? undefined : `"${issuerUrl}" is not an http(s) URL`;
}

/**
 * Parses `--trust-issuer ISSUER_URL=JWKS_FILE` (or, with `ciClaims`, the value of
 * `--trust-issuer-with-ci-claims`).
 */
export function loadTrustedIssuer(spec: string, options: { ciClaims?: boolean } = {}): TrustedIssuer {
  const flag = options.ciClaims ? '--trust-issuer-with-ci-claims' : '--trust-issuer';
  const at = spec.indexOf('=');
  if (at <= 0) throw new ConfigError(`${flag} expects ISSUER_URL=JWKS_FILE, got "${spec}"`);
  const issuerUrl = spec.slice(0, at);
  const file = spec.slice(at + 1);
  const problem = issuerUrlProblem(issuerUrl);
  if (problem) throw new ConfigError(`${flag}: the issuer URL cannot be certified exactly: ${problem}`);
  let jwks: JSONWebKeySet;
  try {
    jwks = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${flag}: cannot read JWKS file ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(jwks?.keys) || jwks.keys.length === 0) {
    throw new ConfigError(`${flag}: ${file} is not a JWKS (expected {"keys": [...]} with at least one key)`);
  }
  return { issuerUrl, jwks, ciClaims: options.ciClaims ?? issuerUrl === GITHUB_ACTIONS_ISSUER };
}

const unauthenticated = (message: string, reason: 'INVALID_TOKEN' | 'UNTRUSTED_ISSUER' = 'INVALID_TOKEN') =>
  new ServerError(401, reason, message);

interface KnownIssuer {
  keys: ReturnType<typeof createLocalJWKSet>;
  ciClaims: boolean;
}

export class TrustedIssuers {
  private readonly issuers = new Map<string, KnownIssuer>();

  add(issuer: TrustedIssuer): void {
    const problem = issuerUrlProblem(issuer.issuerUrl);
    if (problem) throw new ConfigError(`the issuer URL cannot be certified exactly: ${problem}`);
    this.issuers.set(issuer.issuerUrl, {
      keys: createLocalJWKSet(issuer.jwks),
      ciClaims: issuer.ciClaims ?? issuer.issuerUrl === GITHUB_ACTIONS_ISSUER,
    });
  }

  /** Whether tokens of `issuerUrl` have their CI claims mapped to extensions. */
  providesCiClaims(issuerUrl: string): boolean {
    return this.issuers.get(issuerUrl)?.ciClaims ?? false;
  }

  get urls(): string[] {
    return [...this.issuers.keys()];
  }

  async verify(token: string): Promise<TokenIdentity> {
    if (token.length > MAX_TOKEN_LENGTH) throw unauthenticated('the identity token is too long');
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw unauthenticated('the identity token is not a JWT');
    }
    const known = typeof issuer === 'string' ? this.issuers.get(issuer) : undefined;
    if (!known) {
      throw unauthenticated(
        `the identity token's issuer ${JSON.stringify(issuer)} is not trusted by this CA; trusted: ${this.urls.join(', ')}`,
        'UNTRUSTED_ISSUER',
      );
    }
    try {
      const { payload } = await jwtVerify(token, known.keys, {
        issuer: issuer as string,
        audience: SIGSTORE_AUDIENCE,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      return identityFromClaims(issuer as string, payload as Record<string, unknown>, {
        ciClaims: known.ciClaims,
      });
    } catch (err) {
      if (err instanceof ServerError) throw err;
      if (err instanceof joseErrors.JWTExpired)
        throw unauthenticated('the identity token has expired; request a new one');
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        throw unauthenticated(`the identity token's "${err.claim}" claim is invalid: ${err.message}`);
      }
      if (
        err instanceof joseErrors.JWSSignatureVerificationFailed ||
        err instanceof joseErrors.JWKSNoMatchingKey
      ) {
        throw unauthenticated(`the identity token's signature does not verify with ${issuer}'s keys`);
      }
      throw unauthenticated(`the identity token is invalid: ${(err as Error).message}`);
    }
  }
}
