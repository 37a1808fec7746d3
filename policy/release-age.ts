// The release-age gate. Its clock is a signed time of the evidence: the transparency log's integrated
// time (signed by the log's promise, SET) or an RFC 3161 timestamp (signed by a timestamp authority
// of the trust root, verified with the bundle; what Rekor v2 bundles carry instead of a SET), so a
// mirror cannot backdate it. The registry's publish time is unsigned and is used only as a labelled
// fallback when the policy allows it.
import type { BundleAssessment } from './assess';
import { formatDuration } from './duration';

export interface ReleaseTime {
  /** ISO date-time */
  at: string;
  source: 'transparency-log' | 'timestamp-authority' | 'registry-publish-time';
  signed: boolean;
  /** which bundle or document the time came from */
  from: string;
}

export interface ReleaseAgeResult {
  time?: ReleaseTime;
  ageMs?: number;
  violation?: {
    code: 'release-too-new' | 'release-age-unknown';
    message: string;
    expected: string;
    actual: string;
  };
}

/** The earliest signed time among trusted bundles: the tarball provably existed from then on. */
export function signedReleaseTime(bundles: readonly BundleAssessment[]): ReleaseTime | undefined {
  let earliest: { seconds: number; source: ReleaseTime['source']; from: string } | undefined;
  for (const b of bundles) {
    if (!b.trusted) continue;
    for (const [seconds, source] of [
      [b.bundle.integratedTime, 'transparency-log'],
      [b.bundle.timestampTime, 'timestamp-authority'],
    ] as const) {
      if (seconds === undefined) continue;
      if (!earliest || seconds < earliest.seconds) earliest = { seconds, source, from: b.bundle.source };
    }
  }
  if (!earliest) return undefined;
  return {
    at: new Date(earliest.seconds * 1000).toISOString(),
    source: earliest.source,
    signed: true,
    from: earliest.from,
  };
}

export function checkReleaseAge(
  bundles: readonly BundleAssessment[],
  publishedAt: Date | undefined,
  minimum: { text: string; ms: number },
  unsignedTimeFallback: boolean,
  now: Date,
): ReleaseAgeResult {
  let time = signedReleaseTime(bundles);
  if (!time && unsignedTimeFallback && publishedAt && !Number.isNaN(publishedAt.getTime())) {
    time = {
      at: publishedAt.toISOString(),
      source: 'registry-publish-time',
      signed: false,
      from: 'packument time',
    };
  }
  if (!time) {
    return {
      violation: {
        code: 'release-age-unknown',
        message: unsignedTimeFallback
          ? 'no signed log time and no registry publish time: the release age cannot be established'
          : 'no signed log time, and the policy refuses the unsigned registry publish time',
        expected: `a release at least ${minimum.text} old`,
        actual: 'unknown release time',
      },
    };
  }
  const ageMs = Math.max(0, now.getTime() - Date.parse(time.at));
  const result: ReleaseAgeResult = { time, ageMs };
  if (ageMs < minimum.ms) {
    result.violation = {
      code: 'release-too-new',
      message: `released ${formatDuration(ageMs)} ago (${time.source === 'timestamp-authority' ? 'signed timestamp' : time.signed ? 'signed log time' : 'UNSIGNED registry publish time'}), younger than the minimum ${minimum.text}`,
      expected: `at least ${minimum.text}`,
      actual: `${formatDuration(ageMs)} (${time.source}, ${time.at})`,
    };
  }
  return result;
}
