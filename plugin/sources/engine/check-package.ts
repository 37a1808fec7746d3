import { type Locator, structUtils } from '@yarnpkg/core';
import {
  allowedRegistries,
  type Decision,
  evaluate,
  isRegistryAllowed,
  normalizeRegistryUrl,
  type PackageFacts,
} from '../../../policy';
import type {
  BundleInput,
  EvidenceFailure,
  RegistrySignature,
  VerifiedEvidence,
} from '../../../policy/evidence';
import type { CapturedTarball } from './captures';
import type { EngineContext } from './context';
import { bundleDigest, type EvidenceRecord, loadBundle } from './evidence-file';
import {
  attestationStoreUrl,
  FetchFailure,
  fetchAttestations,
  fetchPackument,
  fetchTarball,
} from './fetching';
import type { ClassifiedLocator } from './locators';
import { registryFor } from './registries';
import { sameChecksum, sha512Integrity, zipChecksumOf } from './tarball-binding';

export interface PackageCheck {
  classified: ClassifiedLocator;
  /** Yarn's checksum for the locator (yarn.lock / cache), when it has one */
  checksum: string | null;
  /** the tarball Yarn downloaded in this process, if it did */
  captured?: CapturedTarball;
  /** the cache key prefix of checksums (e.g. "10c0") */
  cacheKey: string;
  /** false for an optional package Yarn does not install on this machine (another platform's) */
  installedHere: boolean;
  /** reads package.json from the installed copy (Yarn's cache archive matching `checksum`) */
  readUnpackedManifest?: () => Promise<UnpackedManifest | null>;
}

export interface UnpackedManifest {
  name: unknown;
  version: unknown;
}

export interface PackageOutcome {
  decision: Decision;
  /** what was verified for the npm package judged (kept so a patch of it is judged on the same evidence) */
  judged?: { registry: string; publishedAt?: Date; evidence: VerifiedEvidence };
  /** the binding to record in the evidence file (npm packages whose tarball was tied to the lockfile) */
  record?: { key: string; value: EvidenceRecord };
  /** bundle JSON texts that verified, to store beside the evidence file */
  bundles: string[];
}

/** Evidence-file key: the locator as yarn.lock spells it. */
export function recordKey(locator: Locator): string {
  return structUtils.stringifyLocator(locator);
}

function factsOf(classified: ClassifiedLocator, registry?: string, publishedAt?: Date): PackageFacts {
  const facts: PackageFacts = {
    name: classified.name,
    version: classified.version ?? '0.0.0',
    source: classified.kind,
    locator: structUtils.stringifyLocator(classified.locator),
  };
  if (registry !== undefined) facts.registry = registry;
  if (publishedAt !== undefined) facts.publishedAt = publishedAt;
  if (classified.base) facts.base = factsOf(classified.base, registry, publishedAt);
  return facts;
}

function decide(ctx: EngineContext, facts: PackageFacts, evidence?: VerifiedEvidence): Decision {
  return evaluate({
    policy: ctx.policy,
    package: facts,
    evidence,
    pins: ctx.pins,
    now: ctx.now,
    modeOverride: ctx.settings.modeOverride ?? undefined,
  });
}

function failedEvidence(
  pkg: { name: string; version: string; integrity: string },
  failures: EvidenceFailure[],
): VerifiedEvidence {
  return {
    package: { name: pkg.name, version: pkg.version, integrity: pkg.integrity },
    registrySignatures: [],
    bundles: [],
    failures,
  };
}

function fetchFailure(err: unknown, source: string): EvidenceFailure {
  if (err instanceof FetchFailure)
    return { code: 'EVIDENCE_UNAVAILABLE', message: err.message, source: err.url };
  return { code: 'EVIDENCE_UNAVAILABLE', message: (err as Error)?.message ?? String(err), source };
}

/** The npm package a check judges: itself, or the base of a patch. */
function judgedNpm(classified: ClassifiedLocator): ClassifiedLocator | null {
  return classified.kind === 'npm' ? classified : classified.base?.kind === 'npm' ? classified.base : null;
}

/**
 * The evidence-file record of a check's package, when it can stand for the tarball. The committed record
 * claims "this lockfile checksum is that registry tarball"; whoever can change yarn.lock and the cache
 * can change that claim too, so online it is believed only when this machine derived the same binding
 * itself. Packages Yarn installs only on some platforms have no checksum in yarn.lock: the record then
 * binds the locator to the integrity the registry gave when it was recorded.
 */
export function trustedRecord(ctx: EngineContext, check: PackageCheck): EvidenceRecord | undefined {
  const npm = judgedNpm(check.classified);
  if (!npm) return undefined;
  const key = recordKey(npm.locator);
  const stored = ctx.evidenceFile.packages[key];
  if (!stored) return undefined;
  const bound =
    check.checksum === null
      ? stored.checksum === null
      : !!stored.checksum && sameChecksum(stored.checksum, check.checksum);
  if (!bound) return undefined;
  if (ctx.settings.offline || ctx.bindings.confirms(key, check.checksum ?? 'none', stored.integrity))
    return stored;
  return undefined;
}

/**
 * Judges one resolved package: ties the tarball to the registry's integrity and to Yarn's checksum,
 * gathers evidence from every configured source, verifies it and evaluates the policy. Never throws
 * for a package-level problem: every failure becomes a reason in the decision.
 */
export async function checkPackage(ctx: EngineContext, check: PackageCheck): Promise<PackageOutcome> {
  const { classified } = check;
  const npm = judgedNpm(classified);
  if (!npm) return { decision: decide(ctx, factsOf(classified)), bundles: [] };

  const configuration = ctx.configuration;
  const rawRegistry = registryFor(npm.locator, configuration);
  const normalized = normalizeRegistryUrl(rawRegistry);
  const registry = 'url' in normalized ? normalized.url : rawRegistry;
  const version = npm.version!;
  const label = `${npm.name}@${version}`;

  // Dependency confusion is decided from the name and the registry alone, before any download.
  const binding = allowedRegistries(ctx.policy, npm.name);
  if (binding && !isRegistryAllowed(binding, registry)) {
    return { decision: decide(ctx, factsOf(classified, registry)), bundles: [] };
  }

  const key = recordKey(npm.locator);
  const stored = ctx.evidenceFile.packages[key];
  const bindingChecksum = check.checksum ?? 'none';
  const trusted = trustedRecord(ctx, check);
  if (trusted && !check.captured) {
    // Nothing changed since the evidence was recorded: judge from the record, without the network. Only
    // when that does not allow the package (stricter policy, new pins, evidence added upstream) is the
    // package re-examined online.
    const recorded = await judgeFromRecord(ctx, check, npm, registry, trusted);
    if (ctx.settings.offline || recorded.decision.verdict === 'allow') return recorded;
  }

  const failures: EvidenceFailure[] = [];

  let packumentVersion: Record<string, any> | undefined;
  let publishedAt: Date | undefined;
  if (!ctx.settings.offline) {
    try {
      const packument = await fetchPackument(npm.locator, registry, configuration);
      packumentVersion = packument.versions?.[version];
      const time = packument.time?.[version];
      if (typeof time === 'string' && !Number.isNaN(Date.parse(time))) publishedAt = new Date(time);
      if (!packumentVersion) {
        failures.push({
          code: 'VERSION_NOT_IN_PACKUMENT',
          message: `${label} is not listed by ${registry}: it may have been unpublished or the lockfile points elsewhere`,
          source: registry,
        });
      }
    } catch (err) {
      failures.push(fetchFailure(err, registry));
    }
  }
  const registryIntegrity: string | undefined =
    typeof packumentVersion?.dist?.integrity === 'string' &&
    packumentVersion.dist.integrity.startsWith('sha512-')
      ? packumentVersion.dist.integrity
      : undefined;
  if (packumentVersion && !registryIntegrity) {
    failures.push({
      code: 'INTEGRITY_MISSING',
      message: `${registry} gives no sha512 integrity for ${label}, so its tarball cannot be bound to any evidence`,
      source: registry,
    });
  }

  // Tie the tarball to the registry's integrity and to Yarn's checksum.
  let tarball: Buffer | undefined = check.captured?.bytes;
  let integrity: string | undefined = check.captured?.integrity;
  let checksumBound = tarball !== undefined; // Yarn built its cache zip from exactly these bytes
  if (!tarball && trusted) {
    integrity = trusted.integrity;
    checksumBound = true;
  }
  if (!integrity && !check.installedHere && check.checksum === null && registryIntegrity) {
    // Not installed here and not pinned by yarn.lock: its evidence is checked against the registry's
    // integrity without downloading it; the machines that install it check its bytes.
    integrity = registryIntegrity;
    checksumBound = true;
  }
  if (!integrity && !ctx.settings.offline) {
    try {
      tarball = await fetchTarball(npm.locator, registry, npm.archiveUrl, configuration);
      integrity = sha512Integrity(tarball);
      if (check.checksum) {
        const derived = await zipChecksumOf(tarball, npm.locator, configuration, check.cacheKey);
        checksumBound = sameChecksum(derived, check.checksum);
        if (checksumBound) ctx.bindings.record(key, check.checksum, integrity);
        if (!checksumBound) {
          failures.push({
            code: 'LOCKFILE_CHECKSUM_MISMATCH',
            message: `the cached archive of ${label} (checksum ${check.checksum}) is not the registry's tarball (which gives ${derived}): the lockfile or the cache was altered`,
            source: 'yarn.lock',
          });
        }
      } else {
        checksumBound = true;
        ctx.bindings.record(key, bindingChecksum, integrity);
      }
    } catch (err) {
      failures.push(fetchFailure(err, registry));
    }
  }
  if (!integrity) {
    failures.push({
      code: 'TARBALL_UNBOUND',
      message: ctx.settings.offline
        ? `${label} has no record in ${ctx.settings.evidenceFile} matching its lockfile checksum, and offline mode forbids fetching its tarball`
        : `the tarball of ${label} could not be obtained, so nothing ties it to any evidence`,
      source: 'yarn.lock',
    });
    return {
      decision: decide(
        ctx,
        factsOf(classified, registry, publishedAt),
        failedEvidence({ name: npm.name, version, integrity: registryIntegrity ?? 'sha512-' }, failures),
      ),
      bundles: [],
    };
  }
  if (check.captured && check.checksum) ctx.bindings.record(key, check.checksum, integrity);
  if (registryIntegrity && registryIntegrity !== integrity) {
    failures.push({
      code: 'TARBALL_INTEGRITY_MISMATCH',
      message: `the tarball of ${label} has sha512 ${integrity.slice(7)}, but ${registry} publishes ${registryIntegrity.slice(7)}: it was replaced after publishing`,
      source: registry,
    });
  }
  if (stored && stored.integrity !== integrity) {
    failures.push({
      code: 'EVIDENCE_RECORD_MISMATCH',
      message: `${ctx.settings.evidenceFile} records ${label} with integrity ${stored.integrity.slice(7)}, but its tarball now has ${integrity.slice(7)}`,
      source: ctx.settings.evidenceFile,
    });
  }

  // Gather evidence: registry attestations, configured stores, and bundles recorded earlier.
  const bundles: BundleInput[] = [];
  const seen = new Set<string>();
  const addBundle = (json: string, source: string) => {
    if (seen.has(json)) return;
    seen.add(json);
    bundles.push({ json, source });
  };
  if (!ctx.settings.offline) {
    const urls: string[] = [];
    const registryUrl = packumentVersion?.dist?.attestations?.url;
    if (typeof registryUrl === 'string') urls.push(registryUrl);
    for (const store of ctx.settings.attestationStores)
      urls.push(attestationStoreUrl(store, npm.name, version));
    const results = await Promise.allSettled(urls.map((url) => fetchAttestations(url, configuration)));
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        failures.push(fetchFailure(result.reason, urls[i]!));
        return;
      }
      for (const attestation of result.value.attestations) {
        addBundle(JSON.stringify(attestation.bundle), urls[i]!);
      }
    });
  }
  if (stored && stored.integrity === integrity) {
    for (const digest of stored.bundles) {
      const json = loadBundle(ctx.settings.evidenceFile, digest);
      if (json) addBundle(json, `${ctx.settings.evidenceFile} (bundle ${digest.slice(0, 12)})`);
      else if (ctx.settings.offline) {
        failures.push({
          code: 'EVIDENCE_RECORD_MISSING_BUNDLE',
          message: `the bundle ${digest} recorded for ${label} is missing or altered`,
          source: ctx.settings.evidenceFile,
        });
      }
    }
  }

  const signatures: RegistrySignature[] = Array.isArray(packumentVersion?.dist?.signatures)
    ? packumentVersion!.dist.signatures
    : [];
  // Without the tarball at hand, the manifest check reads the installed copy, which the lockfile
  // checksum (bound to this integrity above) identifies.
  const unpackedManifest =
    !tarball && checksumBound && check.readUnpackedManifest ? await check.readUnpackedManifest() : null;
  const verified = await ctx.verifier.verify({
    name: npm.name,
    version,
    integrity,
    tarball,
    unpackedManifest: unpackedManifest ?? undefined,
    notInstalled: !check.installedHere,
    bundles,
    registrySignatures: signatures,
    registrySignatureTime: publishedAt ?? ctx.now,
  });
  verified.failures.push(...failures);

  const decision = decide(ctx, factsOf(classified, registry, publishedAt), verified);
  const verifiedDigests = new Set(verified.bundles.map((b) => b.bundleDigest));
  const keptBundles = bundles
    .map((b) => b.json as string)
    .filter((json) => verifiedDigests.has(bundleDigest(json)));
  const record: EvidenceRecord | undefined =
    checksumBound && registryIntegrity === integrity && failures.length === 0
      ? {
          checksum: check.checksum,
          integrity,
          registry,
          bundles: keptBundles.map(bundleDigest),
          ...(signatures.length ? { signatures } : {}),
          ...(publishedAt ? { publishedAt: publishedAt.toISOString() } : {}),
          // The tarball's own package.json was checked against these above (no manifest failure).
          ...(tarball && !verified.failures.some((f) => f.code.startsWith('MANIFEST'))
            ? { manifest: { name: npm.name, version } }
            : {}),
        }
      : undefined;
  return {
    decision,
    judged: { registry, publishedAt, evidence: verified },
    record: record ? { key: recordKey(npm.locator), value: record } : undefined,
    bundles: keptBundles,
  };
}

/**
 * A patch (user patches, Yarn's builtin compat patches) is judged as its base package, on the evidence
 * already verified for that base in this run: the patched archive is not the registry's tarball.
 */
export function judgePatch(ctx: EngineContext, check: PackageCheck, base: PackageOutcome): PackageOutcome {
  if (!base.judged) return { decision: decide(ctx, factsOf(check.classified)), bundles: [] };
  const { registry, publishedAt, evidence } = base.judged;
  return { decision: decide(ctx, factsOf(check.classified, registry, publishedAt), evidence), bundles: [] };
}

/** Judges a package from its evidence-file record alone: the bundles and signatures recorded with it. */
async function judgeFromRecord(
  ctx: EngineContext,
  check: PackageCheck,
  npm: ClassifiedLocator,
  registry: string,
  stored: EvidenceRecord,
): Promise<PackageOutcome> {
  const version = npm.version!;
  const failures: EvidenceFailure[] = [];
  const bundles: BundleInput[] = [];
  for (const digest of stored.bundles) {
    const json = loadBundle(ctx.settings.evidenceFile, digest);
    if (json) bundles.push({ json, source: `${ctx.settings.evidenceFile} (bundle ${digest.slice(0, 12)})` });
    else {
      failures.push({
        code: 'EVIDENCE_RECORD_MISSING_BUNDLE',
        message: `the bundle ${digest} recorded for ${npm.name}@${version} is missing or altered`,
        source: ctx.settings.evidenceFile,
      });
    }
  }
  const publishedAt = stored.publishedAt ? new Date(stored.publishedAt) : undefined;
  // The installed copy when there is one; else what the tarball's package.json said when it was recorded
  // (packages installed only on other platforms have no copy here).
  const unpackedManifest =
    (check.readUnpackedManifest ? await check.readUnpackedManifest() : null) ?? stored.manifest ?? null;
  const verified = await ctx.verifier.verify({
    name: npm.name,
    version,
    integrity: stored.integrity,
    unpackedManifest: unpackedManifest ?? undefined,
    notInstalled: !check.installedHere,
    bundles,
    registrySignatures: stored.signatures ?? [],
    registrySignatureTime: publishedAt ?? ctx.now,
  });
  verified.failures.push(...failures);
  const decision = decide(ctx, factsOf(check.classified, registry, publishedAt), verified);
  return {
    decision,
    judged: { registry, publishedAt, evidence: verified },
    record: failures.length === 0 ? { key: recordKey(npm.locator), value: stored } : undefined,
    bundles: bundles.map((b) => b.json as string),
  };
}
