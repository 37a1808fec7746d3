import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { AuthenticatedStore } from './authenticated-store';

/**
 * Lockfile bindings this machine derived itself: "the cache archive with checksum C was built from the
 * registry tarball with integrity I", recorded only after Tollgate saw the tarball bytes and the
 * checksum agree. The committed evidence file makes the same claim, but anyone who can change yarn.lock
 * and the cache can change it too; online, only a binding derived here lets Tollgate skip re-deriving.
 */
export class LocalBindings {
  private readonly store: AuthenticatedStore;

  constructor(cacheFolder: string, secret: Buffer) {
    this.store = new AuthenticatedStore(join(cacheFolder, 'bindings'), secret);
  }

  private name(locator: string, checksum: string): string {
    return createHash('sha256').update(`${locator}\n${checksum}`).digest('hex');
  }

  /** The registry integrity this machine bound the archive `checksum` of `locator` to, if it did. */
  lookup(locator: string, checksum: string): string | null {
    const entry = this.store.read<{ locator: string; checksum: string; integrity: string }>(
      this.name(locator, checksum),
    );
    if (entry === null || entry.locator !== locator || entry.checksum !== checksum) return null;
    return typeof entry.integrity === 'string' ? entry.integrity : null;
  }

  confirms(locator: string, checksum: string, integrity: string): boolean {
    return this.lookup(locator, checksum) === integrity;
  }

  record(locator: string, checksum: string, integrity: string): void {
    this.store.write(this.name(locator, checksum), { locator, checksum, integrity });
  }
}
