import { type Configuration, httpUtils, type Ident, type Locator, structUtils } from '@yarnpkg/core';
import { NpmSemverFetcher, npmHttpUtils } from '@yarnpkg/plugin-npm';
import { describeCause, httpStatusOf } from '../http-errors';
import { type Circuits, isUnreachable, withTimeout } from './circuits';
import { getJson, type JsonRequest } from './json-requests';
import type { StoreBatches } from './store-batches';

/** How the engine reaches the network: Yarn's HTTP layer (auth, proxies, networkSettings), bounded. */
export interface Network {
  configuration: Configuration;
  circuits: Circuits;
  /** the most one metadata request may take; tarballs get four times as long */
  timeoutMs: number;
  /** each configured store's probe, asked once per run before any package's request to it */
  probes?: Map<string, Promise<void>>;
  /** the stores' answers for the packages an install asked them for at once (store-batches.ts) */
  storeBatches?: StoreBatches;
}

/**
 * The project's configuration as Yarn's HTTP layer sees it for evidence requests: the same registries,
 * auth, proxies and TLS settings, with the socket timeout bounded by Tollgate's and one retry. A timer
 * alone would stop waiting but leave Yarn's own request (60 s, three retries by default) holding the
 * process open after the gate has already decided.
 */
function boundedConfiguration(configuration: Configuration, timeoutMs: number): Configuration {
  // One view per configuration and bound, and the gate keys what it loads once (the policy) by the
  // configuration behind a view: a new view per request had reloaded the policy for every evidence
  // request (1.3 s on a 757-package install).
  let views = boundedViews.get(configuration);
  if (!views) {
    views = new Map();
    boundedViews.set(configuration, views);
  }
  let view = views.get(timeoutMs);
  if (!view) {
    view = boundedView(configuration, timeoutMs);
    views.set(timeoutMs, view);
    viewedConfigurations.set(view, configuration);
  }
  return view;
}

const boundedViews = new WeakMap<Configuration, Map<number, Configuration>>();
const viewedConfigurations = new WeakMap<Configuration, Configuration>();

/** The project's configuration behind a bounded view (or the configuration itself). */
export function underlyingConfiguration(configuration: Configuration): Configuration {
  return viewedConfigurations.get(configuration) ?? configuration;
}

function boundedView(configuration: Configuration, timeoutMs: number): Configuration {
  return new Proxy(configuration, {
    get(target, property) {
      if (property === 'get') {
        return (key: string) => {
          if (key === 'httpTimeout') return Math.min(timeoutMs, target.get('httpTimeout'));
          if (key === 'httpRetry') return Math.min(1, target.get('httpRetry'));
          return target.get(key as never);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * A small JSON GET within the request bound (json-requests.ts decides which client sends it);
 * `viaYarn` makes it through Yarn's client with the bounded configuration and the same headers.
 */
function jsonDocument(
  net: Network,
  url: string,
  viaYarn: (configuration: Configuration, headers: Record<string, string>) => Promise<unknown>,
  options: { headers?: Record<string, string>; npm?: JsonRequest['npm'] } = {},
): Promise<unknown> {
  const configuration = boundedConfiguration(net.configuration, net.timeoutMs);
  const headers = options.headers ?? {};
  return getJson(
    {
      url,
      configuration,
      project: underlyingConfiguration(net.configuration),
      headers,
      timeoutMs: net.timeoutMs,
      ...(options.npm ? { npm: options.npm } : {}),
    },
    () => viaYarn(configuration, headers),
  );
}

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
 * Runs one request unless its origin already failed in this run; a request that finds the origin
 * unreachable (or times out) opens the origin's circuit for the rest of the run.
 */
async function bounded<T>(
  net: Network,
  what: string,
  url: string,
  timeoutMs: number,
  request: () => Promise<T>,
  answer: (err: unknown) => T | undefined = () => undefined,
): Promise<T> {
  const open = net.circuits.blocked(url);
  if (open) {
    throw new FetchFailure(
      what,
      url,
      new Error(
        `not asked: ${open.origin} did not answer earlier in this run (${open.cause}, after ${(open.elapsedMs / 1000).toFixed(1)} s)`,
      ),
    );
  }
  const started = Date.now();
  try {
    return await withTimeout(request(), timeoutMs, what);
  } catch (err) {
    const answered = answer(err);
    if (answered !== undefined) return answered;
    const cause = describeCause(err);
    if (isUnreachable(cause)) net.circuits.trip(url, cause, Date.now() - started);
    throw new FetchFailure(what, url, err);
  }
}

/**
 * The packument as the registry serves it (not the reduced one Yarn keeps): the abbreviated document
 * npm clients install from (versions with their dist: integrity, signatures, attestations) unless
 * `full` asks for everything (publish times). Through Yarn's HTTP layer, so auth, proxies and
 * networkSettings apply.
 */
export async function fetchPackument(
  ident: Ident,
  registry: string,
  net: Network,
  options: { full?: boolean } = {},
): Promise<Record<string, any>> {
  const path = npmHttpUtils.getIdentUrl(ident);
  return bounded(
    net,
    `packument of ${structUtils.stringifyIdent(ident)}`,
    `${registry}${path}`,
    options.full ? net.timeoutMs * 4 : net.timeoutMs,
    () =>
      npmHttpUtils.get(path, {
        configuration: boundedConfiguration(
          net.configuration,
          options.full ? net.timeoutMs * 4 : net.timeoutMs,
        ),
        ident,
        registry,
        jsonResponse: true,
        headers: {
          accept: options.full
            ? 'application/json'
            : 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*',
        },
      }),
  );
}

/**
 * The registry's document for one version (`GET /<name>/<version>`): the version's manifest with its
 * dist (integrity, signatures, attestations), a few kilobytes where the packument of a popular package
 * is megabytes of every other version. `null` when the registry answers 404: the version is not there,
 * or the registry does not serve per-version documents (callers then ask the packument).
 */
export async function fetchVersionDocument(
  ident: Ident,
  version: string,
  registry: string,
  net: Network,
): Promise<Record<string, any> | null> {
  const path = `${npmHttpUtils.getIdentUrl(ident)}/${encodeURIComponent(version)}`;
  const body: unknown = await bounded(
    net,
    `document of ${structUtils.stringifyIdent(ident)}@${version}`,
    `${registry}${path}`,
    net.timeoutMs,
    () =>
      jsonDocument(
        net,
        `${registry}${path}`,
        (configuration, headers) =>
          npmHttpUtils.get(path, { configuration, ident, registry, jsonResponse: true, headers }),
        { headers: { accept: 'application/json' }, npm: { registry, ident } },
      ),
    (err) => (httpStatusOf(err) === 404 ? null : undefined),
  );
  if (body === null) return null;
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new FetchFailure(
      `document of ${structUtils.stringifyIdent(ident)}@${version}`,
      `${registry}${path}`,
      new Error('the response is not a JSON object'),
    );
  }
  return body as Record<string, any>;
}

/** The exact .tgz bytes of an npm package, from the registry the project resolves it from. */
export async function fetchTarball(
  locator: Locator,
  registry: string,
  archiveUrl: string | null,
  net: Network,
): Promise<Buffer> {
  const url = archiveUrl ?? `${registry}${NpmSemverFetcher.getLocatorUrl(locator)}`;
  return bounded(
    net,
    `tarball of ${structUtils.prettyLocatorNoColors(locator)}`,
    url,
    net.timeoutMs * 4,
    () =>
      archiveUrl
        ? httpUtils.get(archiveUrl, {
            configuration: boundedConfiguration(net.configuration, net.timeoutMs * 4),
          })
        : npmHttpUtils.get(NpmSemverFetcher.getLocatorUrl(locator), {
            configuration: boundedConfiguration(net.configuration, net.timeoutMs * 4),
            ident: locator,
            registry,
          }),
  );
}

export interface AttestationsResponse {
  attestations: Array<{ predicateType?: string; bundle: unknown }>;
}

/**
 * Reads an npm-style attestations document. A 404 means "this source has none" (an empty list);
 * any other failure is a FetchFailure, so that an unreachable source can never look like "no evidence".
 */
export async function fetchAttestations(url: string, net: Network): Promise<AttestationsResponse> {
  const body: unknown = await bounded(
    net,
    'attestations',
    url,
    net.timeoutMs,
    () =>
      jsonDocument(net, url, (configuration) => httpUtils.get(url, { configuration, jsonResponse: true })),
    (err) => (httpStatusOf(err) === 404 ? { attestations: [] } : undefined),
  );
  const list = (body as { attestations?: unknown })?.attestations;
  if (!Array.isArray(list)) {
    throw new FetchFailure('attestations', url, new Error('the response has no "attestations" array'));
  }
  return { attestations: list as AttestationsResponse['attestations'] };
}

export const STORE_BATCH_PATH = '/-/tollgate/v1/attestations';

/**
 * Asks a store for the attestations of many versions at once (store-batches.ts). Never opens a
 * circuit: a batch that fails only means the versions are asked one by one.
 */
export async function fetchAttestationsBatch(store: string, specs: string[], net: Network): Promise<unknown> {
  const url = `${store}${STORE_BATCH_PATH}`;
  if (net.circuits.blocked(url)) throw new Error(`${url}: not asked, the origin did not answer earlier`);
  return withTimeout(
    httpUtils.post(
      url,
      { packages: specs },
      {
        configuration: boundedConfiguration(net.configuration, net.timeoutMs * 4),
        jsonRequest: true,
        jsonResponse: true,
        headers: { accept: 'application/json' },
      },
    ),
    net.timeoutMs * 4,
    'attestations batch',
  );
}

/**
 * Asks a configured store once, before any package needs it, whether it answers at all: an
 * unreachable store then fails every package at once and is reported once, even when every package
 * could be judged from local records. Any HTTP answer (a 404 included) means it is there.
 */
export function probeStore(store: string, net: Network): Promise<void> {
  net.probes ??= new Map();
  let probe = net.probes.get(store);
  if (!probe) {
    probe = askStore(store, net);
    net.probes.set(store, probe);
  }
  return probe;
}

async function askStore(store: string, net: Network): Promise<void> {
  // A store that is there answers a probe at once; this bounds how long a dead one can hold up a run.
  const probe = { ...net, timeoutMs: Math.min(net.timeoutMs, 10_000) };
  await fetchAttestations(attestationStoreUrl(store, 'tollgate-probe', '0.0.0'), probe).catch((err) => {
    if (err instanceof FetchFailure && httpStatusOf(err.cause) !== undefined) return;
    throw err;
  });
}

export function attestationStoreUrl(store: string, name: string, version: string): string {
  const encoded = name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
  return `${store}/-/npm/v1/attestations/${encoded}@${encodeURIComponent(version)}`;
}
