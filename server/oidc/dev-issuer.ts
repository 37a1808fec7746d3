// A development OpenID Connect issuer that mints identity tokens for any identity on request.
// It exists so that publishing can be exercised on one machine with no identity provider, and
// is therefore only served on loopback unless the operator explicitly opts in (see options.ts).
import { exportJWK, type JSONWebKeySet, SignJWT } from 'jose';
import { badRequest } from '../errors';
import type { SigningKey } from '../instance';
import { SIGSTORE_AUDIENCE } from './trusted-issuers';

export const DEV_TOKEN_LIFETIME_SECONDS = 600;
const RESERVED = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'sub', 'email', 'email_verified']);
const MAX_CLAIMS = 64;
const MAX_CLAIM_LENGTH = 1024;

export interface TokenRequest {
  sub: string;
  email?: string;
  claims: Record<string, string | number | boolean>;
}

export function parseTokenRequest(body: unknown): TokenRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('the token request must be a JSON object {"sub": ..., "email"?: ..., "claims"?: {...}}');
  }
  const { sub, email, claims } = body as Record<string, unknown>;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_CLAIM_LENGTH) {
    throw badRequest('"sub" must be a non-empty string of at most 1024 characters');
  }
  if (email !== undefined && (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email))) {
    throw badRequest('"email" must be an email address');
  }
  const extra: Record<string, string | number | boolean> = {};
  if (claims !== undefined) {
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
      throw badRequest('"claims" must be an object of string, number or boolean values');
    }
    const entries = Object.entries(claims);
    if (entries.length > MAX_CLAIMS) throw badRequest(`"claims" may hold at most ${MAX_CLAIMS} claims`);
    for (const [name, value] of entries) {
      if (RESERVED.has(name))
        throw badRequest(`"claims.${name}" is set by the issuer itself; use the top-level field`);
      if (
        !['string', 'number', 'boolean'].includes(typeof value) ||
        String(value).length > MAX_CLAIM_LENGTH
      ) {
        throw badRequest(`"claims.${name}" must be a string, number or boolean of at most 1024 characters`);
      }
      extra[name] = value as string | number | boolean;
    }
  }
  return { sub, ...(email === undefined ? {} : { email: email as string }), claims: extra };
}

export class DevIssuer {
  readonly issuerUrl: string;
  private readonly key: SigningKey;
  readonly kid: string;

  constructor(issuerUrl: string, key: SigningKey) {
    this.issuerUrl = issuerUrl;
    this.key = key;
    this.kid = key.keyId.subarray(0, 16).toString('base64url');
  }

  async jwks(): Promise<JSONWebKeySet> {
    const jwk = await exportJWK(this.key.publicKey);
    return { keys: [{ ...jwk, kid: this.kid, alg: 'ES256', use: 'sig' }] };
  }

  discovery(): Record<string, unknown> {
    return {
      issuer: this.issuerUrl,
      jwks_uri: `${this.issuerUrl}/jwks`,
      token_endpoint: `${this.issuerUrl}/token`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      claims_supported: ['sub', 'email', 'email_verified', 'iss', 'aud', 'exp', 'iat', 'nbf'],
    };
  }

  async mint(request: TokenRequest): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      ...request.claims,
      ...(request.email ? { email: request.email, email_verified: true } : {}),
    })
      .setProtectedHeader({ alg: 'ES256', kid: this.kid, typ: 'JWT' })
      .setIssuer(this.issuerUrl)
      .setSubject(request.sub)
      .setAudience(SIGSTORE_AUDIENCE)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + DEV_TOKEN_LIFETIME_SECONDS)
      .sign(this.key.privateKey);
  }
}
