import type { LocatorHash } from '@yarnpkg/core';
import { sha512Integrity } from './tarball-binding';

export interface CapturedTarball {
  /** the locator Yarn was fetching when it downloaded these bytes */
  locator: string;
  /** the URL the bytes came from (the registry's conventional path, or a lockfile __archiveUrl) */
  url: string;
  integrity: string;
  bytes: Buffer;
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
  private readonly byLocator = new Map<LocatorHash, CapturedTarball>();

  record(locatorHash: LocatorHash, locator: string, url: string, bytes: Buffer): void {
    this.byLocator.set(locatorHash, { locator, url, integrity: sha512Integrity(bytes), bytes });
  }

  take(locatorHash: LocatorHash): CapturedTarball | undefined {
    const found = this.byLocator.get(locatorHash);
    this.byLocator.delete(locatorHash);
    return found;
  }
}
