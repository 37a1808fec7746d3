import { createHash } from 'node:crypto';
import { type BigIntStats, existsSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  type Cache,
  type Fetcher,
  type FetchOptions,
  hashUtils,
  type Locator,
  type LocatorHash,
  type Package,
  type Project,
  structUtils,
  ThrowReport,
  tgzUtils,
} from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import { ZipFS } from '@yarnpkg/libzip';
import { PatchFetcher } from '@yarnpkg/plugin-patch';
import { type ArchiveContents, readArchiveBytes, readArchiveContents } from './archive-contents';
import type { ArchiveDigests, ArchiveReading } from './archive-digests';
import type { TarballCaptures } from './captures';
import type { ArchiveFacts, PackageCheck, PatchBase, PatchBuild } from './check/types';
import { projectEdges } from './edges';
import { classifyLocator, packagesToCheck } from './locators';

/** The sha512 hex of a checksum (`10c0/<hex>`: the part after the cache key). */
const hashOf = (checksum: string) => checksum.slice(checksum.indexOf('/') + 1);

/** Reads an archive once per check, however many stages ask. */
function once<T>(read: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => {
    result ??= read();
    return result;
  };
}

/**
 * Whether Yarn's fetch step in this process checked the archive it links for `pkg` against the
 * checksum it holds for it (or, in update mode, recorded the archive's own).
 */
export function validatedByYarn(project: Project, pkg: Package): boolean {
  const hash = pkg.locatorHash;
  if (project.disabledLocators.has(hash)) return false;
  const behavior = project.configuration.get('checksumBehavior');
  return (
    (project.storedChecksums.get(hash) ?? null) !== null &&
    !project.conditionalLocators.has(hash) &&
    (behavior === 'throw' || behavior === 'update')
  );
}

/**
 * The archive Yarn links for a package in this install, and its checksum. Yarn's fetch step hashed it
 * against yarn.lock, except where it did not: conditional packages (yarn.lock records no checksum for
 * them and Yarn checks nothing), and `checksumBehavior: ignore` or `reset`, where Yarn keeps the
 * lockfile's checksum whatever the archive holds. There the archive is hashed here.
 */
export async function linkedArchive(
  project: Project,
  cache: Cache,
  pkg: Package,
  digests: ArchiveDigests | undefined,
): Promise<ArchiveFacts> {
  const hash = pkg.locatorHash;
  if (project.disabledLocators.has(hash)) return { checksum: null, source: 'linked', path: null };
  const stored = project.storedChecksums.get(hash) ?? null;
  const portable = cache.getLocatorPath(pkg, stored);
  const path = npath.fromPortablePath(portable);
  if (validatedByYarn(project, pkg))
    return { checksum: stored, source: 'linked', path, validatedByYarn: true };
  if (!existsSync(path)) return { checksum: null, source: 'linked', path: null };
  // the very file this machine hashed before (archive-digests.ts) is not hashed again
  return { checksum: `${cache.cacheKey}/${await archiveDigest(path, digests)}`, source: 'linked', path };
}

/**
 * What yarn.lock records for a package, and its copy in the cache when the cache holds exactly that.
 * For a package yarn.lock records no checksum for (conditional packages), the archive an install here
 * would link is whatever the cache holds under its versioned name: that copy is hashed, since Yarn
 * would link it unchecked.
 */
async function lockfileArchive(
  project: Project,
  cache: Cache,
  pkg: Package,
  digests: ArchiveDigests | undefined,
): Promise<ArchiveFacts> {
  const checksum = project.storedChecksums.get(pkg.locatorHash) ?? null;
  const portable = cache.getLocatorPath(pkg, checksum);
  const path = npath.fromPortablePath(portable);
  if (!existsSync(path)) return { checksum, source: 'lockfile', path: null };
  if (checksum !== null) return { checksum, source: 'lockfile', path };
  return { checksum: `${cache.cacheKey}/${await archiveDigest(path, digests)}`, source: 'linked', path };
}

/** The sha512 hex of the archive at `path`: remembered for this very file, or hashed now. */
async function archiveDigest(path: string, digests: ArchiveDigests | undefined): Promise<string> {
  if (!digests) return hashUtils.checksumFile(npath.toPortablePath(path));
  return digests.rememberedDigest(path) ?? (await digests.hash(path));
}

/**
 * Without an install, whether a package yarn.lock pins no archive for, and the cache holds none of,
 * would be installed on this machine: a conditional package (os, cpu, libc) only where the supported
 * architectures include it. yarn.lock's `conditions` are only a claim, so an archive in the cache or a
 * checksum in yarn.lock always counts as installed (its bytes are judged).
 */
function installedWithoutInstall(project: Project, pkg: Package): boolean {
  if (!pkg.conditions) return true;
  return structUtils.isPackageCompatible(pkg, project.configuration.getSupportedArchitectures());
}

/**
 * Reads the lockfile's archive from the cache only when its content is the one yarn.lock names: the
 * bytes are read once, hashed, and read from the same buffer (nothing can change them in between).
 * What an earlier run read from this very file (archive-digests.ts) is not read again.
 */
async function readLockfileArchive(
  archive: ArchiveFacts,
  locator: Locator,
  digests: ArchiveDigests | undefined,
): Promise<ArchiveContents | null> {
  if (!archive.path || !archive.checksum) return null;
  const expected = hashOf(archive.checksum);
  const root = structUtils.getIdentVendorPath(locator);
  const remembered = digests?.remembered(archive.path, root);
  if (remembered) return remembered.digest === expected ? remembered.contents : null;
  let reading: ArchiveReading;
  try {
    reading = digests
      ? await digests.read(archive.path)
      : await readFile(archive.path).then((bytes) => ({
          bytes,
          digest: createHash('sha512').update(bytes).digest('hex'),
        }));
  } catch {
    return null;
  }
  if (reading.digest !== expected) return null;
  const contents = readArchiveBytes(reading.bytes, archive.path, locator);
  if (contents) digests?.remember(archive.path, root, reading, contents);
  return contents;
}

/** When this process started: an archive unchanged since before then is the one Yarn hashed in it. */
const processStartNs = BigInt(Math.floor(performance.timeOrigin)) * 1_000_000n;

/**
 * Reads the archive Yarn links. For one whose checksum Yarn computed in this install, what an earlier
 * install read from this very file (archive-digests.ts) is not read again.
 */
async function readLinkedArchive(
  archive: ArchiveFacts,
  locator: Locator,
  digests: ArchiveDigests | undefined,
): Promise<ArchiveContents | null> {
  if (!archive.path) return null;
  if (!digests || !archive.validatedByYarn || !archive.checksum)
    return readArchiveContents(archive.path, locator);
  const digest = hashOf(archive.checksum);
  const root = structUtils.getIdentVendorPath(locator);
  const known = digests.knownContents(archive.path, root, digest);
  if (known) return known;
  let before: BigIntStats;
  try {
    before = statSync(archive.path, { bigint: true });
  } catch {
    return null;
  }
  const contents = await readArchiveContents(archive.path, locator);
  if (contents) digests.rememberValidated(archive.path, root, digest, contents, before, processStartNs);
  return contents;
}

/**
 * Where the cache holds a package without evidence of its own (git, http, file): its build steps are
 * read from there. Its bytes are judged by source, not bound to a registry tarball.
 */
function sourceArchivePath(project: Project, cache: Cache, pkg: Package): string | null {
  const path = npath.fromPortablePath(
    cache.getLocatorPath(pkg, project.storedChecksums.get(pkg.locatorHash) ?? null),
  );
  return existsSync(path) ? path : null;
}

/**
 * Yarn's own patch code (plugin-patch) applied to the verified bytes of the base, as Yarn applies it
 * when it builds the patched archive; returns the checksum of the result. The base comes from `base`,
 * never from the cache or mirror, which are what is being checked; everything else the patch needs
 * (its patch files, a parent package) comes through Yarn's fetchers as usual.
 */
async function rebuildPatch(
  project: Project,
  cache: Cache,
  pkg: Package,
  baseLocator: Locator,
  base: PatchBase,
): Promise<string> {
  const realFetcher = project.configuration.makeFetcher();
  const vendorPath = structUtils.getIdentVendorPath(baseLocator);
  const baseFetcher: Fetcher = {
    supports: (locator, opts) => realFetcher.supports(locator, opts),
    getLocalPath: (locator, opts) => realFetcher.getLocalPath(locator, opts),
    async fetch(locator, opts) {
      if (locator.locatorHash !== baseLocator.locatorHash) return realFetcher.fetch(locator, opts);
      const zip =
        'archivePath' in base
          ? new ZipFS(npath.toPortablePath(base.archivePath), { readOnly: true })
          : await tgzUtils.convertToZip(base.tarball, {
              configuration: project.configuration,
              prefixPath: vendorPath,
              stripComponents: 1,
            });
      return { packageFs: zip, prefixPath: vendorPath, releaseFs: () => zip.discardAndClose() };
    },
  };
  const options: FetchOptions = {
    project,
    cache,
    fetcher: baseFetcher,
    checksums: new Map(),
    report: new ThrowReport(),
  };
  const patcher = new PatchFetcher() as unknown as {
    patchPackage?: (locator: Locator, opts: FetchOptions) => Promise<ZipFS>;
  };
  if (typeof patcher.patchPackage !== 'function') {
    throw new Error("this Yarn's patch plugin has no patchPackage to rebuild the archive with");
  }
  const zip = await patcher.patchPackage(pkg, options);
  const path = zip.getRealPath();
  zip.saveAndClose();
  try {
    return `${cache.cacheKey}/${await hashUtils.checksumFile(path)}`;
  } finally {
    rmSync(dirname(npath.fromPortablePath(path)), { recursive: true, force: true });
  }
}

/**
 * One check per resolved package of the project (every workspace), with the names it is linked under.
 * `install`: the packages Yarn just resolved and fetched, the archives it will link, the tarballs it
 * downloaded. `lockfile` (commands): what yarn.lock records, tied to the registry through the evidence
 * file or by re-deriving Yarn's checksum.
 */
export async function lockfileChecks(
  project: Project,
  cache: Cache,
  source:
    | {
        mode: 'install';
        captures: TarballCaptures;
        digests?: ArchiveDigests;
        /** the patched archives Yarn built in this install's fetch step */
        patchBuilds?: (locator: Locator) => PatchBuild | undefined;
      }
    | { mode: 'lockfile' /** readings of archives earlier runs hashed */; digests?: ArchiveDigests },
): Promise<PackageCheck[]> {
  const packages = source.mode === 'install' ? project.storedPackages : project.originalPackages;
  const edges = projectEdges(project, packages as Map<LocatorHash, Package>);
  const checks: PackageCheck[] = [];
  for (const pkg of packagesToCheck(packages.values())) {
    if (project.tryWorkspaceByLocator(pkg)) continue;
    const classified = classifyLocator(pkg, pkg.version);
    const hasArchive = classified.kind === 'npm' || classified.kind === 'patch';
    const archive: ArchiveFacts = !hasArchive
      ? { checksum: null, source: source.mode === 'install' ? 'linked' : 'lockfile', path: null }
      : source.mode === 'install'
        ? await linkedArchive(project, cache, pkg, source.digests)
        : await lockfileArchive(project, cache, pkg, source.digests);
    const check: PackageCheck = {
      classified,
      linkNames: [...(edges.linkNames.get(pkg.locatorHash) ?? [])],
      descriptors: edges.descriptors.get(pkg.locatorHash) ?? [],
      tampering: edges.tampering.get(pkg.locatorHash) ?? [],
      archive,
      cacheKey: cache.cacheKey,
      installedHere:
        source.mode === 'install'
          ? !project.disabledLocators.has(pkg.locatorHash)
          : archive.path !== null || archive.checksum !== null || installedWithoutInstall(project, pkg),
    };
    const contents = once(async () => {
      if (!hasArchive) {
        const path = classified.kind === 'workspace' ? null : sourceArchivePath(project, cache, pkg);
        return path ? readArchiveContents(path, pkg) : null;
      }
      if (source.mode === 'lockfile') return readLockfileArchive(archive, pkg, source.digests);
      return readLinkedArchive(archive, pkg, source.digests);
    });
    check.readUnpackedManifest = async () => (hasArchive ? ((await contents())?.manifest ?? null) : null);
    // A package not installed on this machine (another platform's) is not built here either.
    check.readBuildSteps = async () => (check.installedHere ? ((await contents())?.buildSteps ?? null) : []);
    if (source.mode === 'install' && classified.kind === 'npm') {
      const captured = await source.captures.take(pkg.locatorHash);
      if (captured) check.captured = captured;
    }
    const baseLocator = classified.kind === 'patch' ? classified.base?.locator : undefined;
    if (baseLocator) check.rebuildPatch = (base) => rebuildPatch(project, cache, pkg, baseLocator, base);
    if (baseLocator && source.mode === 'install') {
      const built = source.patchBuilds?.(pkg);
      if (built) check.patchBuiltHere = built;
    }
    checks.push(check);
  }
  // each locator spelled once (in the comparator it was spelled ~20 times per package); one collator
  // orders exactly as String#localeCompare does
  const collator = new Intl.Collator();
  return checks
    .map((check) => ({ check, key: structUtils.stringifyLocator(check.classified.locator) }))
    .sort((a, b) => collator.compare(a.key, b.key))
    .map(({ check }) => check);
}
