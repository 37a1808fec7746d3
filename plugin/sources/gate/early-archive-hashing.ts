import type { Cache } from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import { hashEarly } from '../engine/archive-digests';
import { wrapCacheLookups } from './cache-lookups';
import { gateIsOff } from './gate-policy';

/**
 * Yarn does not hash the archives of conditional packages (it hides their checksums), so the gate
 * hashes each one it links after the fetch step: hundreds of megabytes of native binaries on a real
 * project, on the install's critical path. Their hashing starts instead as soon as Yarn's fetch step
 * has written each to the cache (archive-digests.ts, hashEarly), while Yarn is still downloading the rest;
 * the gate takes a digest up only for the very file still there.
 */
export function installEarlyArchiveHashing(cacheClass: { prototype: Cache }): void {
  wrapCacheLookups(
    cacheClass,
    'early-hashing',
    (original) =>
      async function (this, locator, expectedChecksum, opts) {
        // Only an archive Yarn has just written: one found in the cache was most likely hashed and
        // remembered by an earlier install (archive-digests.ts), and a warm install hashes nothing.
        let written = false;
        const options = {
          ...opts,
          onMiss: () => {
            written = true;
            opts.onMiss?.();
          },
        };
        const result = await original.call(this, locator, expectedChecksum, options);
        // the fetch step (the link step skips integrity checks and comes after the gate)
        if (
          written &&
          !opts.skipIntegrityCheck &&
          opts.unstablePackages?.has(locator.locatorHash) &&
          !gateIsOff(this.configuration)
        )
          // where linkedArchive (lockfile-checks.ts) will look for it: yarn.lock pins no checksum for it
          hashEarly(npath.fromPortablePath(this.getLocatorPath(locator, expectedChecksum)));
        return result;
      },
  );
}
