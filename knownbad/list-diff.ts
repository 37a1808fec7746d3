// What a change of the project's known-bad list takes away: the list only ever denies, so every
// release, bundle or compromised signer window it stops covering is a relaxation for policy review
// (a deleted line un-denies a release someone once found malicious). Entries are compared by what they
// cover, not by their ids, which default to their position in the file.

import type { SourceLocation } from '../policy/diagnostics';
import type { PolicyChange } from '../policy/diff';
import type { KnownBadList } from './list-file';
import type { PatternSource, SignerEntry } from './model';

interface Coverage {
  versions: Set<string>;
  integrity: Set<string>;
  ranges: Set<string>;
  origin: string;
}

function releaseCoverage(list: KnownBadList): Map<string, Coverage> {
  const out = new Map<string, Coverage>();
  for (const { registry, name, entry } of list.releases) {
    const key = `${name} from ${registry}`;
    let coverage = out.get(key);
    if (!coverage) {
      coverage = { versions: new Set(), integrity: new Set(), ranges: new Set(), origin: entry.origin };
      out.set(key, coverage);
    }
    for (const v of entry.versions ?? []) coverage.versions.add(v);
    for (const i of entry.integrity ?? []) coverage.integrity.add(i);
    for (const r of entry.ranges ?? []) coverage.ranges.add(JSON.stringify(r));
  }
  return out;
}

function pattern(p: PatternSource | undefined): string {
  return p === undefined ? '' : JSON.stringify(p);
}

function signerIdentity(s: SignerEntry): string {
  return [s.issuer, pattern(s.subject), s.repository ?? '', pattern(s.workflow), pattern(s.ref)].join(' ');
}

function describeSigner(s: SignerEntry): string {
  const parts = [s.issuer];
  if (s.subject !== undefined) parts.push(`subject ${pattern(s.subject)}`);
  if (s.repository) parts.push(`repository ${s.repository}`);
  if (s.workflow !== undefined) parts.push(`workflow ${pattern(s.workflow)}`);
  if (s.ref !== undefined) parts.push(`ref ${pattern(s.ref)}`);
  return parts.join(', ');
}

const time = (iso: string | undefined, open: number) => (iso === undefined ? open : Date.parse(iso));

function windowCovers(outer: SignerEntry, inner: SignerEntry): boolean {
  return (
    time(outer.from, -Infinity) <= time(inner.from, -Infinity) &&
    time(outer.until, Infinity) >= time(inner.until, Infinity)
  );
}

function parseOrigin(origin: string): SourceLocation | undefined {
  const m = /^(.*):(\d+):(\d+)$/.exec(origin);
  return m ? { file: m[1]!, line: Number(m[2]), column: Number(m[3]) } : undefined;
}

interface Loss {
  subject: string;
  message: string;
  origin: string;
}

/** What `before` denies that `after` no longer does. */
function losses(before: KnownBadList, after: KnownBadList, file: string): Loss[] {
  const out: Loss[] = [];
  const now = releaseCoverage(after);
  for (const [key, was] of releaseCoverage(before)) {
    const still = now.get(key);
    const lost = [
      ...[...was.versions].filter((v) => !still?.versions.has(v)).map((v) => `version ${v}`),
      ...[...was.integrity].filter((i) => !still?.integrity.has(i)).map((i) => `tarball ${i.slice(0, 20)}…`),
      ...([...was.ranges].some((r) => !still?.ranges.has(r)) ? ['a version range'] : []),
    ];
    if (lost.length)
      out.push({
        subject: `${file}: ${key}`,
        message: `${key} is no longer denied for ${lost.join(', ')}`,
        origin: was.origin,
      });
  }
  const digests = new Set(after.bundles.map((b) => b.digest));
  for (const bundle of before.bundles)
    if (!digests.has(bundle.digest))
      out.push({
        subject: `${file}: bundle ${bundle.digest}`,
        message: `bundle ${bundle.digest} is no longer denied`,
        origin: bundle.origin,
      });
  for (const signer of before.signers) {
    const same = after.signers.filter((s) => signerIdentity(s) === signerIdentity(signer));
    if (same.some((s) => windowCovers(s, signer))) continue;
    out.push({
      subject: `${file}: signer ${describeSigner(signer)}`,
      message: same.length
        ? `the compromised window of ${describeSigner(signer)} (${signer.from} – ${signer.until ?? 'open'}) was shortened: signatures in the part removed are believed again`
        : `${describeSigner(signer)} is no longer listed as compromised (${signer.from} – ${signer.until ?? 'open'})`,
      origin: signer.origin,
    });
  }
  return out;
}

/**
 * Relaxations of `head` against `base` (head null: the file was deleted), and one tightening when the
 * head denies more. `file` is the head file as the review names it.
 */
export function diffKnownBadLists(
  base: KnownBadList,
  head: KnownBadList | null,
  file: string,
): PolicyChange[] {
  const top: SourceLocation = { file, line: 1, column: 1 };
  const relaxation = (subject: string, message: string, origin: string): PolicyChange => {
    const baseLocation = parseOrigin(origin);
    return {
      code: 'known-bad-weakened',
      relaxation: true,
      subject,
      message,
      location: top,
      ...(baseLocation ? { baseLocation } : {}),
    };
  };
  if (!head) {
    const denied = base.releases.length + base.bundles.length + base.signers.length;
    return denied
      ? [relaxation(file, `${file} was removed: none of its denials apply any more`, `${base.file}:1:1`)]
      : [];
  }
  const out = losses(base, head, file).map((l) => relaxation(l.subject, l.message, l.origin));
  const gained = losses(head, base, file).length;
  if (gained)
    out.push({
      code: 'policy-tightened',
      relaxation: false,
      subject: file,
      message: `${file} denies more (${gained} release, bundle or signer entr${gained === 1 ? 'y' : 'ies'} added or widened)`,
      location: top,
    });
  return out;
}
