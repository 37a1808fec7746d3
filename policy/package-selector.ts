// Package selectors: names or minimatch globs, plus semver ranges. Specificity decides between
// rules, so it is computed here, next to matching.
import { Minimatch } from 'minimatch';
import semver from 'semver';

const MINIMATCH_OPTIONS = { nocomment: true, nonegate: true, noext: true, dot: true, optimizationLevel: 0 };
const GLOB_CHARS = /[*?[\]{}]/;

export interface NameSelector {
  pattern: string;
  exact: boolean;
  /** Characters that are not glob syntax: a longer literal part is a narrower selector. */
  literalLength: number;
  test(name: string): boolean;
}

export function compileNameSelector(pattern: string): NameSelector {
  const exact = !GLOB_CHARS.test(pattern);
  const literalLength = pattern.replace(/[*?[\]{}]/g, '').length;
  if (exact) return { pattern, exact, literalLength, test: (name) => name === pattern };
  // compiled once: minimatch(name, pattern) compiles the pattern on every call (every rule, every package)
  const glob = new Minimatch(pattern, MINIMATCH_OPTIONS);
  return { pattern, exact, literalLength, test: (name) => glob.match(name) };
}

/** Prereleases are included: a rule for ">=2" must also govern 3.0.0-rc.1, or it would fall to weaker defaults. */
export const SEMVER_OPTIONS = { includePrerelease: true, loose: false } as const;

export function isValidRange(range: string): boolean {
  try {
    return semver.validRange(range, SEMVER_OPTIONS) !== null;
  } catch {
    return false;
  }
}

export function versionSatisfies(version: string, range: string): boolean {
  try {
    return semver.satisfies(version, range, SEMVER_OPTIONS);
  } catch {
    return false;
  }
}

export function rangesIntersect(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  try {
    return semver.intersects(a, b, SEMVER_OPTIONS);
  } catch {
    return true;
  }
}

/** A package name npm would accept (lower case, url-safe, optional @scope/). */
export function isPlausiblePackagePattern(pattern: string): boolean {
  return /^(@[a-z0-9*?[\]{},~._-]+\/)?[a-z0-9*?[\]{},~._-]+$/.test(pattern) || pattern === '**';
}
