import type { LocatorHash } from '@yarnpkg/core';
import { sha512Integrity, sha512IntegrityOffThread } from './tarball-binding';

/**
 * WebCrypto copies what it hashes when called, and its jobs wait in libuv's thread pool behind Yarn's
 * file writes: unbounded, those copies would grow with the download rate. Beyond this many bytes
 * waiting, a tarball is hashed on the calling thread instead, where nothing is copied.
 */
export const MAX_BYTES_WAITING = 64 * 1024 * 1024;

export interface CapturedTarball {
  /** the locator Yarn was fetching when it downloaded these bytes */
  locator: string;
  /** the URL the bytes came from (the registry's conventional path, or a lockfile __archiveUrl) */
  url: string;
  /** sha512 SRI of the bytes Yarn received */
  integrity: string;
}

/**
 * Tarballs Yarn downloaded in this process while fetching a locator, exactly as it received them (seen
 * through wrapNetworkRequest inside that locator's fetch, see gate/fetch-context.ts). Yarn builds the
 * cache archive it links from exactly these bytes, so they stand for what gets installed. Keyed by
 * locator, not by name and version: two locators of one name@version (an alias, another registry) must
 * never lend each other their bytes. The last download wins (plugin-npm retries scoped tarballs under
 * another spelling of the same URL).
 */
export class TarballCaptures {
  private readonly byLocator = new Map<LocatorHash, Promise<CapturedTarball | undefined>>();
  private waiting = 0;

  constructor(private readonly maxBytesWaiting = MAX_BYTES_WAITING) {}

  /** bytes copied to the thread pool and not hashed yet */
  get bytesWaiting(): number {
    return this.waiting;
  }

  record(locatorHash: LocatorHash, locator: string, url: string, bytes: Buffer): void {
    if (this.waiting + bytes.length > this.maxBytesWaiting) {
      this.byLocator.set(locatorHash, Promise.resolve({ locator, url, integrity: sha512Integrity(bytes) }));
      return;
    }
    this.waiting += bytes.length;
    const size = bytes.length;
    // Only the digest is kept: the archive Yarn builds from these bytes is what the checks read, and
    // holding every tarball until the gate runs doubled an install's peak memory. It is computed on
    // libuv's thread pool (WebCrypto copies the bytes when called), not on the thread Yarn installs
    // from: hashing 137 MiB of tarballs there took a quarter of a second.
    this.byLocator.set(
      locatorHash,
      sha512IntegrityOffThread(bytes)
        .then(
          (integrity) => ({ locator, url, integrity }),
          // not hashed: as if not captured, so the archive must be tied to the registry another way
          () => undefined,
        )
        .finally(() => {
          this.waiting -= size;
        }),
    );
  }

  take(locatorHash: LocatorHash): Promise<CapturedTarball | undefined> {
    const found = this.byLocator.get(locatorHash);
    this.byLocator.delete(locatorHash);
    return found ?? Promise.resolve(undefined);
  }
}
