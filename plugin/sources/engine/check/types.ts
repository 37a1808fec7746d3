import type { LocatorHash } from '@yarnpkg/core';
import type { Decision, PackageFacts, TamperingFinding } from '../../../../policy';
import type { VerifiedEvidence } from '../../../../policy/evidence';
import type { CapturedTarball } from '../captures';
import type { EvidenceRecord } from '../evidence-file';
import type { ClassifiedLocator } from '../locators';

/** The archive whose bytes a check binds to the registry tarball. */
export interface ArchiveFacts {
  /** cacheKey/sha512 hex of the archive; null when there is none (not installed here, not in the cache) */
  checksum: string | null;
  /**
   * linked: the archive Yarn links in this install (its hash as Yarn validated it, or as Tollgate
   * computed it where Yarn did not: conditional packages, checksumBehavior ignore/reset).
   * lockfile: the checksum yarn.lock records (commands judge the lockfile, not an installation).
   */
  source: 'linked' | 'lockfile';
  /** where the archive is, when it is in the cache */
  path: string | null;
  /** `checksum` is the one Yarn's fetch step computed of this file in this install */
  validatedByYarn?: boolean;
}

/** What rebuilding a patch starts from: the base's archive in the cache, or its registry tarball. */
export type PatchBase = { archivePath: string } | { tarball: Buffer };

/**
 * A patched archive Yarn's own patch code built in this process (gate/patch-builds.ts): `archive` is
 * the checksum Yarn computed of what it produced, `inputs` the checksums Yarn computed of the archives
 * the build read (the base it copied, a parent holding the patch files), by locator.
 */
export interface PatchBuild {
  archive: string;
  inputs: ReadonlyMap<LocatorHash, string>;
}

export interface PackageCheck {
  classified: ClassifiedLocator;
  /** every name the package is linked under (from the project's descriptor → locator edges) */
  linkNames: string[];
  /** the descriptors that resolve to it, as yarn.lock spells them */
  descriptors: string[];
  /** yarn.lock entries about it that no resolver could have written */
  tampering: TamperingFinding[];
  archive: ArchiveFacts;
  /** the tarball Yarn downloaded for this very locator in this process, if it did */
  captured?: CapturedTarball;
  /** the cache key prefix of checksums (e.g. "10c0") */
  cacheKey: string;
  /** false for an optional package Yarn does not install on this machine (another platform's) */
  installedHere: boolean;
  /** reads package.json from the archive `archive` describes */
  readUnpackedManifest?: () => Promise<UnpackedManifest | null>;
  /** what Yarn would run to build the package, read from the archive it links (null: not readable here) */
  readBuildSteps?: () => Promise<string[] | null>;
  /** patch: Yarn's own patch code applied to `base`, returning the checksum of the archive it makes */
  rebuildPatch?: (base: PatchBase) => Promise<string>;
  /** patch: Yarn built the archive it links in this very install (install mode only) */
  patchBuiltHere?: PatchBuild;
}

export interface UnpackedManifest {
  name: unknown;
  version: unknown;
}

export interface PackageOutcome {
  decision: Decision;
  /** what was verified for the npm package judged (kept so a patch of it is judged on the same evidence) */
  judged?: {
    registry: string;
    publishedAt?: Date;
    evidence: VerifiedEvidence;
    /** the bytes the base was bound through, so a patch can be rebuilt from them */
    base?: PatchBase;
    /** the checksum of the archive that was bound to the verified tarball */
    boundArchive?: string;
    /** the facts it was judged on (a patch, and the verdict service's answer, are judged on the same) */
    facts?: PackageFacts;
  };
  /** the binding to record in the evidence file (npm packages whose tarball was tied to the lockfile) */
  record?: { key: string; value: EvidenceRecord };
  /** bundle JSON texts that verified, to store beside the evidence file */
  bundles: string[];
}
