import type { Cache, Configuration, Locator, LocatorHash } from '@yarnpkg/core';
import type { PatchBuild } from '../engine/check/types';
import { wrapCacheLookups } from './cache-lookups';
import { currentFetch, type FetchContext } from './fetch-context';

interface Building {
  inputs: Map<LocatorHash, string>;
  loaderRan: boolean;
}

const KEY = Symbol.for('tollgate.patch-builds');

function builds(): WeakMap<Cache, Map<LocatorHash, PatchBuild>> {
  const holder = globalThis as unknown as Record<
    symbol,
    WeakMap<Cache, Map<LocatorHash, PatchBuild>> | undefined
  >;
  holder[KEY] ??= new WeakMap();
  return holder[KEY];
}

/** The build a lookup happens inside: the nearest enclosing fetch whose loader is building a patch. */
function enclosingBuild(context: FetchContext | undefined): Building | undefined {
  for (let c = context; c; c = c.parent) if (c.patchBuild) return c.patchBuild as Building;
  return undefined;
}

/**
 * The checksum Yarn's cache returns is the hash of the file it just read or built, except where Yarn
 * keeps the lockfile's claim instead: `skipIntegrityCheck` (the link step), and `checksumBehavior`
 * ignore or reset on a mismatch. Only the first kind is witnessed.
 */
function returnsComputedChecksums(configuration: Configuration, skipIntegrityCheck: boolean | undefined) {
  const behavior = configuration.get('checksumBehavior');
  return !skipIntegrityCheck && (behavior === 'throw' || behavior === 'update');
}

/**
 * Yarn builds a patched archive (its builtin compat patches, users' patch: dependencies) in the fetch
 * step when neither the cache nor the mirror holds it: the cache's loader runs PatchFetcher, which
 * fetches the base through the same cache, copies it and applies the patch files. The gate has to
 * prove the archive it links is Yarn's patch of the verified base, and re-running that code costs
 * seconds for typescript's. So every cache lookup is watched: when a patch's loader ran here, what it
 * fetched and what came out are recorded with the checksums Yarn computed of those very files. An
 * archive from the mirror, a cache hit, or any lookup whose checksum is the lockfile's word is not a
 * build and is not recorded.
 */
export function installPatchBuildWitness(cacheClass: { prototype: Cache }): void {
  wrapCacheLookups(
    cacheClass,
    'patch-builds',
    (original) =>
      async function (this, locator, expectedChecksum, opts) {
        // Builds are told apart by the fetch contexts (fetch-context.ts): every loader runs in its own,
        // inside the one of the load that asked for it, so a lookup made by a patch's loader (its base)
        // sees that build.
        const outer = enclosingBuild(currentFetch());
        const computed = returnsComputedChecksums(this.configuration, opts.skipIntegrityCheck);
        let build: Building | undefined;
        let options = opts;
        const loader = opts.loader;
        if (computed && loader && locator.reference.startsWith('patch:')) {
          const current: Building = { inputs: new Map(), loaderRan: false };
          build = current;
          options = {
            ...opts,
            loader: () => {
              // the loader's own context, opened by installFetchContexts; none outside the steps
              const context = currentFetch();
              if (context?.locator.locatorHash === locator.locatorHash && !context.patchBuild) {
                current.loaderRan = true;
                context.patchBuild = current;
              }
              return loader();
            },
          };
        }
        const result = await original.call(this, locator, expectedChecksum, options);
        const checksum = result[2];
        if (outer && computed && checksum) outer.inputs.set(locator.locatorHash, checksum);
        if (build?.loaderRan && checksum) {
          const ofCache = builds().get(this) ?? new Map<LocatorHash, PatchBuild>();
          builds().set(this, ofCache);
          ofCache.set(locator.locatorHash, { archive: checksum, inputs: build.inputs });
        }
        return result;
      },
  );
}

/** The patched archive Yarn built for `locator` through `cache` in this process, if it did. */
export function patchBuiltHere(cache: Cache, locator: Locator): PatchBuild | undefined {
  return builds().get(cache)?.get(locator.locatorHash);
}
