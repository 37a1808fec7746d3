// Verifies OIDC identity tokens for the CA: signature against the issuer's JWKS (held locally,
// never fetched at request time), issuer allow-list, audience "sigstore", expiry and not-before.
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, errors as joseErrors, jwtVerify } from 'jose';
import { ConfigError, ServerError } from '../errors';
import { identityFromClaims, type TokenIdentity } from './claims';

export const SIGSTORE_AUDIENCE = 'sigstore';
const ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];
const MAX_TOKEN_LENGTH = 16 * 1024;

export interface TrustedIssuer {
  issuerUrl: string;
  jwks: JSONWebKeySet;
}

/** Parses `--trust-issuer ISSUER_URL=JWKS_FILE`. */
export function loadTrustedIssuer(spec: string): TrustedIssuer {
  const at = spec.indexOf('=');
  if (at <= 0) throw new ConfigError(`--trust-issuer expects ISSUER_URL=JWKS_FILE, got "${spec}"`);
  const issuerUrl = spec.slice(0, at);
  const file = spec.slice(at + 1);
  try {
    new URL(issuerUrl);
  } catch {
    throw new ConfigError(`--trust-issuer: "${issuerUrl}" is not an absolute URL`);
  }
  let jwks: JSONWebKeySet;
  try {
    jwks = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`--trust-issuer: cannot read JWKS file ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(jwks?.keys) || jwks.keys.length === 0) {
    throw new ConfigError(
      `--trust-issuer: ${file} is not a JWKS (expected {"keys": [...]} with at least one key)`,
    );
  }
  return { issuerUrl, jwks };
}

const unauthenticated = (message: string, reason: 'INVALID_TOKEN' | 'UNTRUSTED_ISSUER' = 'INVALID_TOKEN') =>
  new ServerError(401, reason, message);

export class TrustedIssuers {
  private readonly issuers = new Map<string, ReturnType<typeof createLocalJWKSet>>();

  add(issuer: TrustedIssuer): void {
    this.issuers.set(issuer.issuerUrl, createLocalJWKSet(issuer.jwks));
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
    const keys = typeof issuer === 'string' ? this.issuers.get(issuer) : undefined;
    if (!keys) {
      throw unauthenticated(
        `the identity token's issuer ${JSON.stringify(issuer)} is not trusted by this CA; trusted: ${this.urls.join(', ')}`,
        'UNTRUSTED_ISSUER',
      );
    }
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: issuer as string,
        audience: SIGSTORE_AUDIENCE,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      return identityFromClaims(issuer as string, payload as Record<string, unknown>);
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
