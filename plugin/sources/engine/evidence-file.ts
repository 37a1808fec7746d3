import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Locator, structUtils } from '@yarnpkg/core';
import { bundleDigestOf } from '../../../policy/evidence';

/**
 * The committed evidence file ties each lockfile entry to the registry tarball it came from and to the
 * evidence that was verified for it, so that cache hits, zero-install caches and offline CI can be
 * checked without the network. Bundles are stored next to it, content-addressed, so that a reviewer
 * sees exactly which signatures changed.
 */
export interface EvidenceRecord {
  /**
   * Yarn's checksum of the cache zip (cacheKey/sha512 hex): yarn.lock's, or, for a package yarn.lock
   * records none for (conditional packages), the archive's own; null when it was not installed.
   */
  checksum: string | null;
  /** sha512 SRI of the registry tarball, checked against the packument */
  integrity: string;
  /** the registry the tarball was fetched from */
  registry: string;
  /** sha256 hex digests of the bundles verified for it, stored under bundles/ */
  bundles: string[];
  /** the registry's signatures (dist.signatures) over name@version:integrity, verified again on use */
  signatures?: Array<{ keyid: string; sig: string }>;
  /** what the tarball's own package.json said, checked when the record was made (manifest confusion) */
  manifest?: { name: string; version: string };
  /**
   * The descriptors that resolved to this package when the record was made, as yarn.lock spells them.
   * Reviewers see an edited resolution in this file's diff, and `--immutable` refuses an install whose
   * lockfile resolves differently from what was recorded. Never a reason to believe an edge: the gate
   * judges every edge from the lockfile itself.
   */
  descriptors?: string[];
}

/** Evidence-file key: the locator as yarn.lock spells it. */
export function recordKey(locator: Locator): string {
  return structUtils.stringifyLocator(locator);
}

export interface EvidenceFile {
  version: 1;
  packages: Record<string, EvidenceRecord>;
}

export class EvidenceFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

export function emptyEvidenceFile(): EvidenceFile {
  return { version: 1, packages: {} };
}

export function readEvidenceFile(path: string): EvidenceFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyEvidenceFile();
    throw new EvidenceFileError(path, `cannot be read: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new EvidenceFileError(
      path,
      `is not valid JSON (${(err as Error).message}); restore it from version control or delete it to re-derive`,
    );
  }
  const file = parsed as EvidenceFile;
  if (file?.version !== 1 || typeof file.packages !== 'object' || file.packages === null) {
    throw new EvidenceFileError(
      path,
      'is not a Tollgate evidence file (expected {"version": 1, "packages": {...}})',
    );
  }
  for (const [key, record] of Object.entries(file.packages)) {
    const ok =
      record &&
      typeof record.integrity === 'string' &&
      typeof record.registry === 'string' &&
      (record.checksum === null || typeof record.checksum === 'string') &&
      Array.isArray(record.bundles) &&
      record.bundles.every((b) => typeof b === 'string' && /^[0-9a-f]{64}$/.test(b)) &&
      (record.signatures === undefined ||
        (Array.isArray(record.signatures) &&
          record.signatures.every((x) => typeof x?.keyid === 'string' && typeof x?.sig === 'string'))) &&
      (record.manifest === undefined ||
        (typeof record.manifest?.name === 'string' && typeof record.manifest?.version === 'string')) &&
      (record.descriptors === undefined ||
        (Array.isArray(record.descriptors) && record.descriptors.every((d) => typeof d === 'string')));
    if (!ok) throw new EvidenceFileError(path, `entry "${key}" is malformed; delete it to re-derive`);
    // Times are never taken from a committed file (a backdated one would pass a release-age gate);
    // files written before that rule may still carry one, which is dropped.
    delete (record as { publishedAt?: unknown }).publishedAt;
  }
  return file;
}

/** Writes deterministically (sorted keys) and atomically, so diffs are reviewable and a crash leaves the old file. */
export function serializeEvidenceFile(file: EvidenceFile): string {
  const sorted: EvidenceFile = {
    version: 1,
    packages: Object.fromEntries(
      Object.keys(file.packages)
        .sort()
        .map((k) => {
          const r = file.packages[k]!;
          return [
            k,
            {
              checksum: r.checksum,
              integrity: r.integrity,
              registry: r.registry,
              bundles: [...r.bundles].sort(),
              ...(r.signatures?.length ? { signatures: r.signatures } : {}),
              ...(r.manifest ? { manifest: { name: r.manifest.name, version: r.manifest.version } } : {}),
              ...(r.descriptors?.length ? { descriptors: [...r.descriptors].sort() } : {}),
            },
          ];
        }),
    ),
  };
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

/** The file's current text, or null when there is none. */
export function currentText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Writes text atomically (a crash leaves the old file); false when it was already there. */
export function writeIfChanged(path: string, text: string): boolean {
  if (currentText(path) === text) return false;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
  return true;
}

/** Bundles live beside the evidence file, content-addressed: `.tollgate.bundles/<sha256>.json`. */
export function bundlesFolder(evidenceFilePath: string): string {
  return join(dirname(evidenceFilePath), '.tollgate.bundles');
}

/**
 * The bundle folders this process read each bundle text back from, holding exactly their name's
 * content: storing one of them again (every install that records evidence stores every bundle it used)
 * would only read and compare the same bytes.
 */
const loadedBundles = new Map<string, string>();

export function storeBundle(evidenceFilePath: string, json: string): string {
  const folder = bundlesFolder(evidenceFilePath);
  const digest = bundleDigestOf(json);
  if (loadedBundles.get(json) === folder) return digest;
  mkdirSync(folder, { recursive: true });
  const target = join(folder, `${digest}.json`);
  try {
    if (readFileSync(target, 'utf8') === json) return digest;
  } catch {}
  writeFileSync(target, json);
  return digest;
}

/** Reads a stored bundle back; a file whose content no longer matches its name is treated as absent. */
export function loadBundle(evidenceFilePath: string, digest: string): string | null {
  try {
    const folder = bundlesFolder(evidenceFilePath);
    const json = readFileSync(join(folder, `${digest}.json`), 'utf8');
    if (bundleDigestOf(json) !== digest) return null;
    loadedBundles.set(json, folder);
    return json;
  } catch {
    return null;
  }
}
