// Package verification through the cache: a hit replaces only the content verdict; the tarball is
// still checked against the integrity (the key names the integrity, not the bytes handed in now) and
// registry signatures are always verified afresh.
import { parseSha512Integrity, sha512 } from '../encoding';
import type { TrustContext } from '../trust/context';
import type { VerifiedEvidence } from '../types';
import { assembleEvidence, type PackageEvidenceInput, verifyPackageContent } from '../verify-package';
import type { VerificationCache } from './verification-cache';

/** The tarball's sha512 when it matches the integrity; null when it does not (or cannot be parsed). */
function tarballDigestIfMatching(input: PackageEvidenceInput): { digest?: Buffer } | null {
  if (!input.tarball) return {};
  try {
    const digest = sha512(input.tarball);
    return digest.equals(parseSha512Integrity(input.integrity, `${input.name}@${input.version}`))
      ? { digest }
      : null;
  } catch {
    return null;
  }
}

/**
 * Whether the content verdict costs anything to compute: a bundle to verify or a tarball to hash and
 * read. Without either it is a name/version comparison, cheaper than the cache's own read and write.
 */
export function hasContentToVerify(input: PackageEvidenceInput): boolean {
  return input.bundles.length > 0 || input.tarball !== undefined;
}

export async function verifyPackageEvidenceCached(
  ctx: TrustContext,
  cache: VerificationCache,
  input: PackageEvidenceInput,
): Promise<VerifiedEvidence> {
  // A mismatching tarball is never looked up or stored: its verdict is computed (and fails) each time;
  // nor is a verdict with nothing costly in it.
  const matching = tarballDigestIfMatching(input);
  if (!matching || !hasContentToVerify(input)) {
    return assembleEvidence(ctx, input, await verifyPackageContent(ctx, input));
  }
  const key = cache.keyFor(ctx, input);
  const cached = cache.get(key);
  if (cached && cached.bundles.length === input.bundles.length) return assembleEvidence(ctx, input, cached);
  const verdict = await verifyPackageContent(ctx, input, matching.digest);
  cache.set(key, verdict);
  return assembleEvidence(ctx, input, verdict);
}
