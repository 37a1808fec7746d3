// Where the OIDC identity token for keyless signing comes from. Explicit flags win over the
// environment (someone who typed --dev-identity in a CI job meant it); then the variable every Sigstore
// client reads (SIGSTORE_ID_TOKEN), then the GitHub Actions token endpoint with the "sigstore" audience.
import { describeCause, type Environment, SigningError } from './errors';
import type { JsonHttp } from './http';

export type TokenSource = '--identity-token' | '--dev-identity' | 'SIGSTORE_ID_TOKEN' | 'github-actions';

export interface IdentityToken {
  token: string;
  source: TokenSource;
}

export interface TokenOptions {
  identityToken?: string;
  /** an email address the tollgate-server dev issuer mints a token for */
  devIdentity?: string;
  /** base URL of the tollgate-server whose dev issuer answers `POST /oidc/token` */
  devIssuerServer?: string;
  env: Environment;
  http: JsonHttp;
}

const AUDIENCE = 'sigstore';

async function devIssuerToken(server: string, email: string, http: JsonHttp): Promise<string> {
  const url = `${server}/oidc/token`;
  let answer: unknown;
  try {
    answer = await http.send('POST', url, { sub: email, email });
  } catch (err) {
    throw new SigningError(
      'IDENTITY_TOKEN_UNAVAILABLE',
      `the dev issuer at ${url} did not mint a token for ${email}: ${describeCause(err)}`,
      err,
    );
  }
  const token = (answer as { id_token?: unknown })?.id_token;
  if (typeof token !== 'string') {
    throw new SigningError(
      'IDENTITY_TOKEN_UNAVAILABLE',
      `the dev issuer at ${url} answered without an id_token`,
    );
  }
  return token;
}

async function githubActionsToken(env: Environment, http: JsonHttp): Promise<string> {
  const url = new URL(env.ACTIONS_ID_TOKEN_REQUEST_URL!);
  url.searchParams.set('audience', AUDIENCE);
  let answer: unknown;
  try {
    answer = await http.get(url.href, { authorization: `Bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` });
  } catch (err) {
    throw new SigningError(
      'IDENTITY_TOKEN_UNAVAILABLE',
      `GitHub Actions did not give an OIDC token (${url.origin}): ${describeCause(err)}; the job needs "permissions: id-token: write"`,
      err,
    );
  }
  const token = (answer as { value?: unknown })?.value;
  if (typeof token !== 'string') {
    throw new SigningError(
      'IDENTITY_TOKEN_UNAVAILABLE',
      'the GitHub Actions token endpoint answered without a value',
    );
  }
  return token;
}

export async function resolveIdentityToken(options: TokenOptions): Promise<IdentityToken> {
  const { env, http } = options;
  if (options.identityToken !== undefined && options.devIdentity !== undefined) {
    throw new SigningError('USAGE', 'give either --identity-token or --dev-identity, not both');
  }
  if (options.identityToken !== undefined) {
    if (options.identityToken.trim() === '') throw new SigningError('USAGE', '--identity-token is empty');
    return { token: options.identityToken.trim(), source: '--identity-token' };
  }
  if (options.devIdentity !== undefined) {
    if (!options.devIssuerServer) {
      throw new SigningError(
        'USAGE',
        '--dev-identity needs a tollgate-server: pass --sigstore-server <url> (its dev issuer mints the token)',
      );
    }
    return {
      token: await devIssuerToken(options.devIssuerServer, options.devIdentity, http),
      source: '--dev-identity',
    };
  }
  if (env.SIGSTORE_ID_TOKEN) return { token: env.SIGSTORE_ID_TOKEN, source: 'SIGSTORE_ID_TOKEN' };
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    return { token: await githubActionsToken(env, http), source: 'github-actions' };
  }
  throw new SigningError(
    'NO_IDENTITY_TOKEN',
    'no OIDC identity token: pass --identity-token <jwt>, set SIGSTORE_ID_TOKEN, run in GitHub Actions with "permissions: id-token: write", or use --dev-identity <email> with --sigstore-server <url>',
  );
}
