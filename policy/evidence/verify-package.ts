// All evidence for one package version: every bundle (from any source) and the registry signatures,
// bound to the exact tarball. Never throws for bad evidence: each piece either becomes a verified fact
// or an EvidenceFailure with a stable code and a message saying what was expected and found.
import { type BundleFacts, verifyBundle } from './bundle/verify-bundle';
import { parseSha512Integrity, sha512 } from './encoding';
import { EvidenceError, toEvidenceError, toFailure } from './error';
import { assertManifestMatches, assertManifestNames } from './npm/manifest';
import { type RegistrySignature, verifyRegistrySignature } from './npm/registry-signatures';
import type { TrustContext } from './trust/context';
import type { EvidenceFailure, VerifiedBundle, VerifiedEvidence } from './types';

export interface BundleInput {
  /** Bundle JSON text (digested as received) or a parsed object. */
  json: string | object;
  /** Where it came from: an attestations URL, a file path, a store name. */
  source: string;
}

export interface PackageEvidenceInput {
  name: string;
  version: string;
  /** "sha512-<base64>" of the .tgz */
  integrity: string;
  /** The .tgz bytes. Without them (or `unpackedManifest`) the manifest-confusion check cannot run (a failure). */
  tarball?: Uint8Array;
  /**
   * The package.json the caller read from an unpacked copy of this very tarball (e.g. Yarn's cache
   * archive, which the caller has bound to `integrity`). Used for the manifest check when the tarball
   * bytes are not at hand; ignored when they are.
   */
  unpackedManifest?: { name: unknown; version: unknown };
  /**
   * The package is not installed on this machine (an optional package for another platform): there is
   * no copy whose package.json could be read, and the manifest check is left to the machines that
   * install it. Every bundle is still verified against `integrity`.
   */
  notInstalled?: boolean;
  bundles: BundleInput[];
  registrySignatures?: RegistrySignature[];
  /** The instant registry keys must be valid at (publish time, or now). Verification reads no clock. */
  registrySignatureTime?: Date;
}

/** The part of a package's verification that depends only on content (what the cache stores). */
export interface BundleOutcome {
  facts?: BundleFacts;
  failure?: Omit<EvidenceFailure, 'source'>;
}

export interface ContentVerdict {
  manifestFailure?: Omit<EvidenceFailure, 'source'>;
  bundles: BundleOutcome[];
}

export const TARBALL_SOURCE = 'tarball';

function failureOf(err: unknown, context: string): Omit<EvidenceFailure, 'source'> {
  const e = toEvidenceError(err, context);
  return { code: e.code, message: e.message };
}

/**
 * Verifies the content-determined part: tarball integrity, manifest, and each bundle. Its result is a
 * pure function of (bundle bytes, name, version, integrity, tarball presence, trust context).
 */
export async function verifyPackageContent(
  ctx: TrustContext,
  input: PackageEvidenceInput,
  /** sha512 of `input.tarball` when the caller has just computed it (the cache path): hashed once */
  tarballSha512?: Buffer,
): Promise<ContentVerdict> {
  const label = `${input.name}@${input.version}`;
  let expectedSha512: Buffer;
  try {
    expectedSha512 = parseSha512Integrity(input.integrity, label);
    if (input.tarball) {
      const actual = tarballSha512 ?? sha512(input.tarball);
      if (!actual.equals(expectedSha512)) {
        throw new EvidenceError(
          'TARBALL_INTEGRITY_MISMATCH',
          `${label}: tarball sha512 is ${actual.toString('base64')}, the integrity says ${expectedSha512.toString('base64')}`,
        );
      }
    }
  } catch (err) {
    // Without a trustworthy tarball digest no bundle can be bound to this package.
    const failure = failureOf(err, label);
    return { manifestFailure: failure, bundles: input.bundles.map(() => ({ failure })) };
  }

  let manifestFailure: ContentVerdict['manifestFailure'];
  if (!input.tarball && input.unpackedManifest) {
    try {
      assertManifestMatches(input.unpackedManifest, input.name, input.version);
    } catch (err) {
      manifestFailure = failureOf(err, label);
    }
  } else if (!input.tarball && input.notInstalled) {
    manifestFailure = undefined;
  } else if (!input.tarball) {
    manifestFailure = {
      code: 'TARBALL_REQUIRED',
      message: `${label}: the tarball was not given, so its package.json could not be checked against the name and version`,
    };
  } else {
    try {
      await assertManifestNames(input.tarball, input.name, input.version);
    } catch (err) {
      manifestFailure = failureOf(err, label);
    }
  }

  const target = {
    package: { name: input.name, version: input.version, sha512: expectedSha512 },
    artifact: input.tarball ? ({ type: 'bytes', data: input.tarball } as const) : undefined,
  };
  const bundles = input.bundles.map((b): BundleOutcome => {
    try {
      return { facts: verifyBundle(ctx, b.json, target) };
    } catch (err) {
      return { failure: failureOf(err, 'bundle') };
    }
  });
  return { manifestFailure, bundles };
}

/** Joins a content verdict with the sources and the (time-dependent, cheap) registry signatures. */
export function assembleEvidence(
  ctx: TrustContext,
  input: PackageEvidenceInput,
  verdict: ContentVerdict,
): VerifiedEvidence {
  const failures: EvidenceFailure[] = [];
  const bundles: VerifiedBundle[] = [];
  const manifest = verdict.manifestFailure;
  if (manifest) failures.push({ ...manifest, source: TARBALL_SOURCE });
  // A tarball whose own package.json names another package makes all its evidence inapplicable.
  const manifestConfused = manifest?.code === 'MANIFEST_MISMATCH' || manifest?.code === 'MANIFEST_UNREADABLE';
  verdict.bundles.forEach((outcome, i) => {
    const source = input.bundles[i]!.source;
    if (outcome.facts && !manifestConfused) bundles.push({ ...outcome.facts, source });
    else if (outcome.facts && manifest) failures.push({ ...manifest, source });
    else if (outcome.failure) failures.push({ ...outcome.failure, source });
  });
  const registrySignatures = (input.registrySignatures ?? []).map((sig) => {
    const outcome = verifyRegistrySignature(sig, input, ctx.npmKeys, input.registrySignatureTime);
    if (outcome.error) failures.push(toFailure(outcome.error, `registry signature ${sig.keyid}`));
    return outcome.result;
  });
  return {
    package: { name: input.name, version: input.version, integrity: input.integrity },
    registrySignatures,
    bundles,
    failures,
  };
}

/** Verifies one package's evidence. Never rejects for bad evidence. */
export async function verifyPackageEvidence(
  ctx: TrustContext,
  input: PackageEvidenceInput,
): Promise<VerifiedEvidence> {
  return assembleEvidence(ctx, input, await verifyPackageContent(ctx, input));
}
