// Adds a bundle to npm-style attestation stores (`PUT /-/npm/v1/attestations/<name>@<version>`), where
// installs find it. A store that refuses is a failure, never a silent skip.
import { attestationStoreUrl } from '../engine/fetching';
import { describeCause, httpStatusOf, SigningError } from './errors';
import type { JsonHttp } from './http';

export interface AttachResult {
  store: string;
  url: string;
}

export async function attachBundle(
  http: JsonHttp,
  store: string,
  pkg: { name: string; version: string },
  bundle: unknown,
  token: string | null,
): Promise<AttachResult> {
  const url = attestationStoreUrl(store.replace(/\/+$/, ''), pkg.name, pkg.version);
  try {
    await http.send('PUT', url, { bundle }, token ? { authorization: `Bearer ${token}` } : undefined);
  } catch (err) {
    const status = httpStatusOf(err);
    const hint =
      status === 409
        ? ' (the store keeps a bounded number of attestations per version and this one is full; publish a new version)'
        : status === 401 || status === 403
          ? ' (set tollgateAttestationStoreToken, or YARN_TOLLGATE_ATTESTATION_STORE_TOKEN)'
          : '';
    throw new SigningError(
      'ATTACH_FAILED',
      `the attestation store ${store} did not take the bundle for ${pkg.name}@${pkg.version} (PUT ${url}): ${describeCause(err)}${hint}`,
      err,
    );
  }
  return { store, url };
}

/** `<name>-<version>.sigstore.json`, with a scope written as npm names packed tarballs (`scope-name`). */
export function defaultBundleFileName(name: string, version: string): string {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.sigstore.json`;
}
