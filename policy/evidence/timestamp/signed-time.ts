// Signed times of a bundle, read only after sigstore-js verified it: the transparency log's
// integrated time when the entry carries a signed promise (SET) — a Rekor v2 entry has none, and its
// integratedTime is 0 or unsigned — and the genTime of each RFC 3161 timestamp, every one of which
// sigstore-js's Verifier checked against the bundle's signature and a timestamp authority of the
// trust root valid at that time (an unverifiable timestamp fails the whole bundle).
import type { Bundle } from '@sigstore/bundle';
import { RFC3161Timestamp } from '@sigstore/core';

/** The log's integrated time in seconds, when the log signed it (inclusion promise present). */
export function signedIntegratedTime(bundle: Bundle): number | undefined {
  const entry = bundle.verificationMaterial.tlogEntries[0];
  if (!entry?.inclusionPromise) return undefined;
  const seconds = Number(entry.integratedTime);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

/** The earliest RFC 3161 genTime in seconds (whole seconds, rounded down), if the bundle has any. */
export function timestampAuthorityTime(bundle: Bundle): number | undefined {
  let earliest: number | undefined;
  for (const ts of bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? []) {
    try {
      const seconds = Math.floor(
        RFC3161Timestamp.parse(Buffer.from(ts.signedTimestamp)).signingTime.getTime() / 1000,
      );
      if (Number.isFinite(seconds) && (earliest === undefined || seconds < earliest)) earliest = seconds;
    } catch {
      // unreachable after verification; a timestamp that does not parse gives no time
    }
  }
  return earliest;
}
