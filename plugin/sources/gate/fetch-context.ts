import { AsyncLocalStorage } from 'node:async_hooks';
import type { Cache, Locator } from '@yarnpkg/core';
import { wrapCacheLookups } from './cache-lookups';

/**
 * Which locator Yarn is loading into its cache, for everything that happens while it does (its network
 * requests included: AsyncLocalStorage follows the promise chain into wrapNetworkRequest). Yarn fetches
 * many packages at once, and a URL alone does not say which locator asked for it (aliases,
 * __archiveUrl, retries under another spelling), so the network guard attributes requests and bytes
 * this way. Shared on globalThis: Yarn evaluates the plugin factory more than once per command.
 *
 * A context is opened only around the cache's loader, the one place Yarn downloads, clones or builds an
 * archive (installFetchContexts): a lookup the cache answers opens none. Until the first loader runs,
 * the AsyncLocalStorage stays disabled, so a warm install never pays Node's promise hooks, which cost a
 * quarter of Tollgate's time there when every fetch opened one.
 */
export interface FetchContext {
  locator: Locator;
  /** the fetch this one happens inside (a patch's fetch of its base) */
  parent?: FetchContext;
  /** set by patch-builds.ts while Yarn's patch code builds this locator's archive */
  patchBuild?: unknown;
}

interface FetchContexts {
  storage: AsyncLocalStorage<FetchContext>;
  /** resolution and fetch steps of gated projects running now */
  openSteps: number;
}

const KEY = Symbol.for('tollgate.fetch-context');

function contexts(): FetchContexts {
  const holder = globalThis as unknown as Record<symbol, FetchContexts | undefined>;
  holder[KEY] ??= { storage: new AsyncLocalStorage<FetchContext>(), openSteps: 0 };
  return holder[KEY];
}

export function currentFetch(): FetchContext | undefined {
  return contexts().storage.getStore();
}

/**
 * Runs what loads one locator into the cache in its context, inside the one of the load that asked for
 * it (a patch's load of its base), while a resolution or fetch step is open. Outside them (the link
 * step fetches every package again from the cache, with integrity checks off) nothing is attributed:
 * the gate has judged by then, and an AsyncLocalStorage left enabled makes Node run promise hooks on
 * every promise of the process (a third of a second over a large project's link step).
 */
export function runInFetch<T>(locator: Locator, body: () => T): T {
  const state = contexts();
  if (state.openSteps === 0) return body();
  const parent = state.storage.getStore();
  return state.storage.run(parent ? { locator, parent } : { locator }, body);
}

/** Loads inside `step` (resolveEverything, fetchEverything and the gate after it) get their context. */
export async function withFetchContexts<T>(step: () => Promise<T>): Promise<T> {
  const state = contexts();
  state.openSteps++;
  try {
    return await step();
  } finally {
    if (--state.openSteps === 0) state.storage.disable();
  }
}

/**
 * Wraps Yarn's cache so that every loader runs in the context of the locator it loads. Installed before
 * the other cache wrappers (patch-builds.ts): their loaders then run inside the context.
 */
export function installFetchContexts(cacheClass: { prototype: Cache }): void {
  wrapCacheLookups(
    cacheClass,
    'fetch-contexts',
    (original) =>
      function (this, locator, expectedChecksum, opts) {
        const loader = opts.loader;
        if (!loader) return original.call(this, locator, expectedChecksum, opts);
        return original.call(this, locator, expectedChecksum, {
          ...opts,
          loader: () => runInFetch(locator, loader),
        });
      },
  );
}
