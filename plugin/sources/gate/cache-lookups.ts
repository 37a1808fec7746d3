import type { Cache, Locator } from '@yarnpkg/core';

export type FetchFromCache = Cache['fetchPackageFromCache'];
export type CacheLookupOptions = Parameters<FetchFromCache>[2];
type Lookup = (
  this: Cache,
  locator: Locator,
  expectedChecksum: string | null,
  opts: CacheLookupOptions,
) => ReturnType<FetchFromCache>;

/**
 * Wraps Yarn's `Cache#fetchPackageFromCache`, once per process for each `name`: Yarn evaluates the
 * plugin factory more than once per command, and every evaluation installs the gate.
 */
export function wrapCacheLookups(
  cacheClass: { prototype: Cache },
  name: string,
  wrap: (original: FetchFromCache) => Lookup,
): void {
  const registry = globalThis as unknown as Record<symbol, boolean>;
  const patched = Symbol.for(`tollgate.fetchPackageFromCache.${name}`);
  if (registry[patched]) return;
  registry[patched] = true;
  cacheClass.prototype.fetchPackageFromCache = wrap(
    cacheClass.prototype.fetchPackageFromCache,
  ) as FetchFromCache;
}
