import { AsyncLocalStorage } from 'node:async_hooks';
import type { Locator } from '@yarnpkg/core';

/**
 * Which locator Yarn is fetching, for everything that happens inside that fetch (its network requests
 * included: AsyncLocalStorage follows the promise chain into wrapNetworkRequest). Yarn fetches many
 * packages at once, and a URL alone does not say which locator asked for it (aliases, __archiveUrl,
 * retries under another spelling), so the network guard attributes requests and bytes this way.
 * Shared on globalThis: Yarn evaluates the plugin factory more than once per command.
 */
export interface FetchContext {
  locator: Locator;
}

const KEY = Symbol.for('tollgate.fetch-context');

function storage(): AsyncLocalStorage<FetchContext> {
  const holder = globalThis as unknown as Record<symbol, AsyncLocalStorage<FetchContext> | undefined>;
  holder[KEY] ??= new AsyncLocalStorage<FetchContext>();
  return holder[KEY];
}

export function currentFetch(): FetchContext | undefined {
  return storage().getStore();
}

export function runInFetch<T>(locator: Locator, body: () => T): T {
  return storage().run({ locator }, body);
}
