// Does an OSV record cover a version? OSV's evaluation rules (osv-schema docs/schema.md, "Evaluation"):
// a version is affected when it is listed in `versions`, or when any range says so. A range's events are
// walked in version order: `introduced` at or below the version turns it on ("0" = before everything),
// `fixed` at or below turns it off, `last_affected` below turns it off. SEMVER compares by SemVer 2.0
// precedence (prereleases included: 4.1.2-rc.1 lies between 4.1.1 and 4.1.2). npm's ECOSYSTEM versions
// are semver too; a version string semver cannot read is compared only by equality with `versions`.
import semver from 'semver';
import type { IndexEntry, IndexRange } from './model';

const parse = (v: string): semver.SemVer | null => semver.parse(v, { loose: false });

function compareEvent(a: string, b: string): number {
  if (a === '0') return b === '0' ? 0 : -1;
  if (b === '0') return 1;
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return 0;
  return semver.compare(pa, pb);
}

function inRange(range: IndexRange, version: semver.SemVer): boolean {
  const events = range.events
    .filter(([, v]) => v === '0' || parse(v) !== null)
    .sort((a, b) => compareEvent(a[1], b[1]));
  let affected = false;
  for (const [kind, v] of events) {
    if (kind === 'i') {
      if (v === '0' || semver.gte(version, v)) affected = true;
    } else if (kind === 'f') {
      if (semver.gte(version, v)) affected = false;
    } else if (semver.gt(version, v)) {
      affected = false;
    }
  }
  return affected;
}

function describeRange(range: IndexRange): string {
  const names = { i: 'introduced', f: 'fixed', l: 'last_affected' } as const;
  return `${range.type} ${range.events.map(([k, v]) => `${names[k]} ${v}`).join(', ')}`;
}

/** Why the entry covers the version ("version 1.2.3 listed", "version 1.2.3 in SEMVER introduced 0"), or null. */
export function coversVersion(entry: IndexEntry, version: string): string | null {
  if (entry.versions?.includes(version)) return `version ${version} listed`;
  if (!entry.ranges) return null;
  const parsed = parse(version);
  if (!parsed) return null;
  for (const range of entry.ranges) {
    if (inRange(range, parsed)) return `version ${version} in ${describeRange(range)}`;
  }
  return null;
}
