import { type Configuration, httpUtils, type Ident, type Locator, structUtils } from '@yarnpkg/core';
import { NpmSemverFetcher, npmHttpUtils } from '@yarnpkg/plugin-npm';
import { describeCause, httpStatusOf } from '../http-errors';

/** Thrown when the network could not give an answer; callers turn it into a denial in enforce mode. */
export class FetchFailure extends Error {
  constructor(
    readonly what: string,
    readonly url: string,
    override readonly cause: unknown,
  ) {
    super(`${what}: ${url}: ${describeCause(cause)}`);
  }
}

/**
 * The full packument (not the reduced one Yarn keeps): only it carries dist.integrity,
 * dist.signatures and dist.attestations. Goes through Yarn's HTTP layer so auth, proxies and
 * networkSettings apply.
 */
export async function fetchPackument(
  ident: Ident,
  registry: string,
  configuration: Configuration,
): Promise<Record<string, any>> {
  const path = npmHttpUtils.getIdentUrl(ident);
  try {
    return await npmHttpUtils.get(path, {
      configuration,
      ident,
      registry,
      jsonResponse: true,
      headers: { accept: 'application/json' },
    });
  } catch (err) {
    throw new FetchFailure(`packument of ${structUtils.stringifyIdent(ident)}`, `${registry}${path}`, err);
  }
}

/** The exact .tgz bytes of an npm package, from the registry the project resolves it from. */
export async function fetchTarball(
  locator: Locator,
  registry: string,
  archiveUrl: string | null,
  configuration: Configuration,
): Promise<Buffer> {
  const url = archiveUrl ?? `${registry}${NpmSemverFetcher.getLocatorUrl(locator)}`;
  try {
    if (archiveUrl) return await httpUtils.get(archiveUrl, { configuration });
    return await npmHttpUtils.get(NpmSemverFetcher.getLocatorUrl(locator), {
      configuration,
      ident: locator,
      registry,
    });
  } catch (err) {
    throw new FetchFailure(`tarball of ${structUtils.prettyLocatorNoColors(locator)}`, url, err);
  }
}

export interface AttestationsResponse {
  attestations: Array<{ predicateType?: string; bundle: unknown }>;
}

/**
 * Reads an npm-style attestations document. A 404 means "this source has none" (an empty list);
 * any other failure is a FetchFailure, so that an unreachable source can never look like "no evidence".
 */
export async function fetchAttestations(
  url: string,
  configuration: Configuration,
): Promise<AttestationsResponse> {
  let body: unknown;
  try {
    body = await httpUtils.get(url, { configuration, jsonResponse: true });
  } catch (err) {
    if (httpStatusOf(err) === 404) return { attestations: [] };
    throw new FetchFailure('attestations', url, err);
  }
  const list = (body as { attestations?: unknown })?.attestations;
  if (!Array.isArray(list)) {
    throw new FetchFailure('attestations', url, new Error('the response has no "attestations" array'));
  }
  return { attestations: list as AttestationsResponse['attestations'] };
}

export function attestationStoreUrl(store: string, name: string, version: string): string {
  const encoded = name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
  return `${store}/-/npm/v1/attestations/${encoded}@${encodeURIComponent(version)}`;
}
