// Which Sigstore instance signs (certificate authority, transparency log) and which trusted root the
// fresh bundle is checked against before anything is written, attached or published.
import { readFileSync } from 'node:fs';
import { embeddedPublicGoodTrustedRoot } from '../../../policy/evidence';
import { describeCause, SigningError } from './errors';
import type { JsonHttp } from './http';
import { PUBLIC_GOOD_FULCIO_URL, PUBLIC_GOOD_REKOR_URL } from './public-good';

export interface InstanceOptions {
  /** settings tollgateFulcioUrl / tollgateRekorUrl */
  settings: { fulcioUrl: string; rekorUrl: string };
  fulcioUrl?: string;
  rekorUrl?: string;
  /** a tollgate-server: CA, log, dev issuer and trusted root on one origin */
  sigstoreServer?: string;
  /** a trusted_root.json file */
  trustedRootPath?: string;
}

export type TrustedRootSource =
  | { kind: 'file'; path: string }
  | { kind: 'server'; url: string }
  | { kind: 'public-good' }
  | { kind: 'unknown'; why: string };

export interface SigstoreInstance {
  fulcioURL: string;
  rekorURL: string;
  /** where `--dev-identity` asks for a token */
  devIssuerServer?: string;
  trustedRoot: TrustedRootSource;
}

function baseUrl(url: string, flag: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SigningError('USAGE', `${flag}: "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new SigningError('USAGE', `${flag}: "${url}" must be an http(s) URL`);
  }
  return url.replace(/\/+$/, '');
}

export function resolveInstance(options: InstanceOptions): SigstoreInstance {
  const server = options.sigstoreServer ? baseUrl(options.sigstoreServer, '--sigstore-server') : undefined;
  const fulcioURL = baseUrl(
    options.fulcioUrl ?? server ?? options.settings.fulcioUrl,
    options.fulcioUrl ? '--fulcio-url' : server ? '--sigstore-server' : 'tollgateFulcioUrl',
  );
  const rekorURL = baseUrl(
    options.rekorUrl ?? server ?? options.settings.rekorUrl,
    options.rekorUrl ? '--rekor-url' : server ? '--sigstore-server' : 'tollgateRekorUrl',
  );
  let trustedRoot: TrustedRootSource;
  if (options.trustedRootPath) trustedRoot = { kind: 'file', path: options.trustedRootPath };
  else if (server && fulcioURL === server && rekorURL === server)
    trustedRoot = { kind: 'server', url: `${server}/trusted_root.json` };
  else if (fulcioURL === PUBLIC_GOOD_FULCIO_URL && rekorURL === PUBLIC_GOOD_REKOR_URL)
    trustedRoot = { kind: 'public-good' };
  else
    trustedRoot = {
      kind: 'unknown',
      why: 'no trusted root is known for this certificate authority and log: pass --trusted-root <file> or --sigstore-server <url> to check the bundle before it is used',
    };
  return { fulcioURL, rekorURL, devIssuerServer: server, trustedRoot };
}

/** The trusted_root.json text, or null when none is known (the caller says the check was skipped). */
export async function readTrustedRoot(source: TrustedRootSource, http: JsonHttp): Promise<string | null> {
  switch (source.kind) {
    case 'file':
      try {
        return readFileSync(source.path, 'utf8');
      } catch (err) {
        throw new SigningError(
          'TRUSTED_ROOT_UNAVAILABLE',
          `--trusted-root ${source.path}: ${describeCause(err)}`,
          err,
        );
      }
    case 'server':
      try {
        return JSON.stringify(await http.get(source.url));
      } catch (err) {
        throw new SigningError(
          'TRUSTED_ROOT_UNREACHABLE',
          `could not read the trusted root at ${source.url}: ${describeCause(err)}`,
          err,
        );
      }
    case 'public-good':
      return embeddedPublicGoodTrustedRoot();
    case 'unknown':
      return null;
  }
}
