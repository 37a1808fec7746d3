// Exceptions: time-limited, reasoned waivers. An expired exception is itself a violation; one that
// waived nothing across a run is reported so it can be deleted.
import { type Decision, isTamperingCode, type Reason, type ViolationCode } from './decision';
import type { Diagnostic } from './diagnostics';
import type { Policy, PolicyException } from './model';
import { versionSatisfies } from './package-selector';

/**
 * Never waived unless listed in `waive`: waiving them silently would switch off the dependency-confusion
 * guard (a name from another registry, or a protected name that resolves to another package), or let a
 * release a known-bad record names through (and that only for the exact tarball, see `waives`).
 */
export const EXPLICIT_WAIVE_ONLY: readonly ViolationCode[] = [
  'registry-not-allowed',
  'alias-of-protected-name',
  'known-bad',
];
/**
 * Never waivable: an expired waiver, a known-bad source that could not be consulted (the fix is
 * `yarn tollgate db update` or the service, not a waiver), and the tampering family (altered bytes are
 * never a policy question).
 */
export const UNWAIVABLE: readonly ViolationCode[] = ['exception-expired', 'known-bad-unchecked'];

export function isWaivable(code: Reason['code']): boolean {
  return !(UNWAIVABLE as readonly string[]).includes(code) && !isTamperingCode(code);
}

export function isExpired(exception: PolicyException, now: Date): boolean {
  return now.getTime() >= exception.expiresAt.getTime();
}

/**
 * The first live exception for the package, else the first expired one. An exception that names a
 * tarball (`integrity`) matches only that tarball.
 */
export function findException(
  policy: Policy,
  name: string,
  version: string,
  now: Date,
  integrity?: string,
): { exception: PolicyException; expired: boolean } | undefined {
  let expiredMatch: PolicyException | undefined;
  for (const exception of policy.exceptions) {
    if (!exception.package.test(name) || !versionSatisfies(version, exception.versions)) continue;
    if (exception.integrity !== undefined && exception.integrity !== integrity) continue;
    if (!isExpired(exception, now)) return { exception, expired: false };
    expiredMatch ??= exception;
  }
  return expiredMatch ? { exception: expiredMatch, expired: true } : undefined;
}

export function waives(exception: PolicyException, code: Reason['code']): boolean {
  if (!isWaivable(code)) return false;
  // A known-bad record is waived only as a false positive about one exact tarball.
  if (code === 'known-bad' && exception.integrity === undefined) return false;
  if (exception.waive) return exception.waive.includes(code);
  return !(EXPLICIT_WAIVE_ONLY as readonly string[]).includes(code);
}

/** Exceptions that waived nothing in any of `decisions`. */
export function unusedExceptions(policy: Policy, decisions: readonly Decision[]): Diagnostic[] {
  const used = new Set<number>();
  for (const decision of decisions) {
    if (decision.exception?.waived.length) used.add(decision.exception.index);
  }
  return policy.exceptions
    .filter((e) => !used.has(e.index))
    .map((e) => ({
      ...e.location,
      code: 'exception-unused',
      severity: 'warning' as const,
      field: `exceptions[${e.index}]`,
      message: `exception for ${e.package.pattern}@${e.versions} waived nothing in this run`,
      suggestion: 'delete it if the package no longer needs it',
    }));
}
