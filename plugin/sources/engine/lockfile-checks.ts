import { type Cache, type Locator, type Package, type Project, structUtils } from '@yarnpkg/core';
import { type PortablePath, ppath } from '@yarnpkg/fslib';
import type { TarballCaptures } from './captures';
import type { PackageCheck, UnpackedManifest } from './check-package';
import { classifyLocator, packagesToCheck } from './locators';

/**
 * Reads package.json from Yarn's cache archive of `locator`, only if the archive's checksum is the one
 * yarn.lock records: that is the copy that gets installed. Never touches the network.
 */
async function readCachedManifest(
  cache: Cache,
  locator: Locator,
  checksum: string | null,
  archivesVerified: boolean,
): Promise<UnpackedManifest | null> {
  if (!checksum) return null;
  try {
    const [fs, release] = await cache.fetchPackageFromCache(locator, checksum, {
      loader: async () => {
        throw new Error('not in the cache');
      },
      // During an install Yarn's fetch step has just hashed every archive against yarn.lock.
      skipIntegrityCheck: archivesVerified,
    });
    try {
      const path = ppath.join(structUtils.getIdentVendorPath(locator), 'package.json' as PortablePath);
      const manifest = JSON.parse(await fs.readFilePromise(path, 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      return { name: manifest.name, version: manifest.version };
    } finally {
      release();
    }
  } catch {
    return null;
  }
}

/**
 * One check per resolved package of the project (every workspace). The gate passes the packages Yarn
 * just resolved and the tarballs it downloaded; commands pass what yarn.lock records
 * (`project.originalPackages`) and tie it to the registry through the evidence file or by re-deriving
 * Yarn's checksum.
 */
export function lockfileChecks(
  project: Project,
  cache: Cache,
  source: {
    packages: Iterable<Package>;
    captures?: TarballCaptures;
    /** true when Yarn validated every cache archive against its checksum in this process */
    archivesVerified?: boolean;
    /** packages Yarn does not install on this machine (the project's disabledLocators during an install) */
    notInstalled?: Set<string>;
  },
): PackageCheck[] {
  const { captures } = source;
  const checks: PackageCheck[] = [];
  for (const pkg of packagesToCheck(source.packages)) {
    if (project.tryWorkspaceByLocator(pkg)) continue;
    const classified = classifyLocator(pkg, pkg.version);
    const npm =
      classified.kind === 'npm' ? classified : classified.base?.kind === 'npm' ? classified.base : null;
    // A patch is judged as its base: the checksum, capture and manifest that matter are the base's.
    const subject = classified.kind === 'patch' && npm ? npm.locator : pkg;
    const checksum = project.storedChecksums.get(subject.locatorHash) ?? null;
    checks.push({
      classified,
      checksum,
      captured:
        captures && npm?.version && classified.kind === 'npm'
          ? captures.take(npm.name, npm.version)
          : undefined,
      cacheKey: cache.cacheKey,
      // Without an install, an optional platform package yarn.lock pins no checksum for counts as such.
      installedHere: source.notInstalled
        ? !source.notInstalled.has(subject.locatorHash)
        : !(pkg.conditions && checksum === null),
      readUnpackedManifest: () =>
        readCachedManifest(cache, subject, checksum, source.archivesVerified ?? false),
    });
  }
  return checks.sort((a, b) =>
    structUtils
      .stringifyLocator(a.classified.locator)
      .localeCompare(structUtils.stringifyLocator(b.classified.locator)),
  );
}
