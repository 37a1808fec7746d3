// Whether one policy element is at least as strict as another: the single comparison behind
// `extends` (a repository may tighten its base freely, and relax only where the base permits it) and
// `policy diff` (every relaxation against the base ref is a finding). Conservative by construction:
// when strictness cannot be proved (two different regular expressions, two unrelated globs), the
// change counts as a relaxation, so a reviewer looks at it.
import semver from 'semver';
import { VIOLATION_CODES } from './decision';
import { EXPLICIT_WAIVE_ONLY, isWaivable } from './exceptions';
import {
  evidenceRank,
  type Mode,
  type PolicyException,
  type Requirements,
  type ScriptAllowance,
  type ScriptsDefault,
  type Signer,
} from './model';
import type { NameSelector } from './package-selector';
import { describePattern, type StringPattern } from './patterns';

/** One field that got weaker (or stronger) between two versions of a policy element. */
export interface StrictnessDelta {
  /** which check this is; the relaxation codes of policy diff */
  code: RelaxationKind;
  /** the field, relative to the element: `require`, `signers`, `minReleaseAge` */
  field: string;
  before: string;
  after: string;
}

export type RelaxationKind =
  | 'mode-lowered'
  | 'require-lowered'
  | 'min-release-age-shortened'
  | 'unsigned-time-fallback-enabled'
  | 'continuity-weakened'
  | 'trust-widened'
  | 'sources-widened'
  | 'signer-widened';

export interface Comparison {
  relaxed: StrictnessDelta[];
  tightened: StrictnessDelta[];
}

const MODE_RANK: Record<Mode, number> = { off: 0, warn: 1, enforce: 2 };

export function modeRank(mode: Mode): number {
  return MODE_RANK[mode];
}

const SCRIPTS_DEFAULT_RANK: Record<ScriptsDefault, number> = { deny: 0, 'allow-verified': 1, allow: 2 };

/** Higher is looser: deny < allow-verified < allow. */
export function scriptsDefaultLooseness(value: ScriptsDefault): number {
  return SCRIPTS_DEFAULT_RANK[value];
}

function push(out: Comparison, weaker: boolean | null, delta: StrictnessDelta): void {
  if (weaker === true) out.relaxed.push(delta);
  else if (weaker === false) out.tightened.push(delta);
}

export function compareModes(before: Mode, after: Mode, field = 'mode'): Comparison {
  const out: Comparison = { relaxed: [], tightened: [] };
  if (before !== after)
    push(out, modeRank(after) < modeRank(before), { code: 'mode-lowered', field, before, after });
  return out;
}

function list(values: readonly string[]): string {
  return values.length ? values.join(', ') : '(none)';
}

function duration(value: Requirements['minReleaseAge']): string {
  return value?.text ?? 'none';
}

function continuityText(r: Requirements): string {
  return r.continuity ? r.continuityScope : 'off';
}

/** Every requirement of `after` compared with `before` (a rule's, or the defaults'). */
export function compareRequirements(before: Requirements, after: Requirements): Comparison {
  const out: Comparison = { relaxed: [], tightened: [] };
  if (before.require !== after.require)
    push(out, evidenceRank(after.require) < evidenceRank(before.require), {
      code: 'require-lowered',
      field: 'require',
      before: before.require,
      after: after.require,
    });
  const ageBefore = before.minReleaseAge?.ms ?? 0;
  const ageAfter = after.minReleaseAge?.ms ?? 0;
  if (ageBefore !== ageAfter)
    push(out, ageAfter < ageBefore, {
      code: 'min-release-age-shortened',
      field: 'minReleaseAge',
      before: duration(before.minReleaseAge),
      after: duration(after.minReleaseAge),
    });
  if (before.unsignedTimeFallback !== after.unsignedTimeFallback)
    push(out, after.unsignedTimeFallback, {
      code: 'unsigned-time-fallback-enabled',
      field: 'unsignedTimeFallback',
      before: String(before.unsignedTimeFallback),
      after: String(after.unsignedTimeFallback),
    });
  const continuityBefore = continuityRank(before);
  const continuityAfter = continuityRank(after);
  if (continuityBefore !== continuityAfter)
    push(out, continuityAfter < continuityBefore, {
      code: 'continuity-weakened',
      field: 'continuity',
      before: continuityText(before),
      after: continuityText(after),
    });
  const set = (code: 'trust-widened' | 'sources-widened', field: string, a: string[], b: string[]) => {
    const added = b.filter((x) => !a.includes(x));
    const removed = a.filter((x) => !b.includes(x));
    if (added.length) out.relaxed.push({ code, field, before: list(a), after: list(b) });
    else if (removed.length) out.tightened.push({ code, field, before: list(a), after: list(b) });
  };
  set('trust-widened', 'trust', before.trust, after.trust);
  set('sources-widened', 'sources', before.sources, after.sources);
  const signers = compareSigners(before.signers, after.signers);
  if (signers.relaxed.length) out.relaxed.push(...signers.relaxed);
  else out.tightened.push(...signers.tightened);
  return out;
}

function continuityRank(r: Requirements): number {
  if (!r.continuity) return 0;
  return r.continuityScope === 'release-line' ? 1 : 2;
}

export function describeSigner(signer: Signer): string {
  const parts = [`issuer=${signer.issuer}`];
  if (signer.subject) parts.push(`subject=${describePattern(signer.subject)}`);
  if (signer.repository) parts.push(`repository=${signer.repository}`);
  if (signer.repositoryId) parts.push(`repositoryId=${signer.repositoryId}`);
  if (signer.ownerId) parts.push(`ownerId=${signer.ownerId}`);
  if (signer.workflow) parts.push(`workflow=${describePattern(signer.workflow)}`);
  if (signer.ref) parts.push(`ref=${describePattern(signer.ref)}`);
  if (signer.tag) parts.push(`tag=${signer.tag}`);
  if (signer.runner) parts.push(`runner=${signer.runner}`);
  if (signer.events?.allow) parts.push(`events.allow=${signer.events.allow.join('|')}`);
  if (signer.events?.deny) parts.push(`events.deny=${signer.events.deny.join('|')}`);
  if (signer.builder) parts.push(`builder=${describePattern(signer.builder)}`);
  return parts.join(' ');
}

function describeSigners(signers: 'any' | Signer[]): string {
  return signers === 'any' ? 'any' : signers.length ? signers.map(describeSigner).join('; ') : '(none)';
}

/** `after` accepts only identities `before` accepts, and vice versa. */
export function compareSigners(before: 'any' | Signer[], after: 'any' | Signer[]): Comparison {
  const out: Comparison = { relaxed: [], tightened: [] };
  const delta = (): StrictnessDelta => ({
    code: 'signer-widened',
    field: 'signers',
    before: describeSigners(before),
    after: describeSigners(after),
  });
  if (before === 'any' && after === 'any') return out;
  if (after === 'any') {
    out.relaxed.push(delta());
    return out;
  }
  if (before === 'any') {
    out.tightened.push(delta());
    return out;
  }
  const widened = after.some((a) => !before.some((b) => signerWithin(a, b)));
  if (widened) out.relaxed.push(delta());
  else if (before.some((b) => !after.some((a) => signerWithin(b, a)))) out.tightened.push(delta());
  return out;
}

/** Every identity `inner` accepts, `outer` accepts too (proved field by field, conservatively). */
export function signerWithin(inner: Signer, outer: Signer): boolean {
  if (inner.issuer !== outer.issuer) return false;
  for (const field of ['repository', 'repositoryId', 'ownerId', 'runner', 'tag'] as const) {
    if (outer[field] !== undefined && inner[field] !== outer[field]) return false;
  }
  for (const field of ['subject', 'workflow', 'ref', 'builder'] as const) {
    if (!patternWithin(inner[field], outer[field])) return false;
  }
  const outerAllow = outer.events?.allow;
  if (outerAllow) {
    const innerAllow = inner.events?.allow;
    if (!innerAllow || innerAllow.some((e) => !outerAllow.includes(e))) return false;
  }
  const outerDeny = outer.events?.deny;
  if (outerDeny) {
    const innerDeny = inner.events?.deny ?? [];
    const innerAllow = inner.events?.allow;
    const covered = outerDeny.every((e) => innerDeny.includes(e) || (innerAllow && !innerAllow.includes(e)));
    if (!covered) return false;
  }
  return true;
}

/** Every value `inner` matches, `outer` matches: identical, or an exact value the outer pattern accepts. */
export function patternWithin(inner: StringPattern | undefined, outer: StringPattern | undefined): boolean {
  if (!outer) return true;
  if (!inner) return false;
  if (inner.kind === outer.kind && inner.source === outer.source) return true;
  if (inner.kind === 'exact') return outer.test(inner.source);
  return false;
}

/** Could some package name match both selectors? (false only when provably disjoint) */
export function selectorsMayOverlap(a: NameSelector, b: NameSelector): boolean {
  if (a.exact && b.exact) return a.pattern === b.pattern;
  if (a.exact) return b.test(a.pattern);
  if (b.exact) return a.test(b.pattern);
  const prefixA = literalPrefix(a.pattern);
  const prefixB = literalPrefix(b.pattern);
  if (!prefixA.startsWith(prefixB) && !prefixB.startsWith(prefixA)) return false;
  const suffixA = literalSuffix(a.pattern);
  const suffixB = literalSuffix(b.pattern);
  return suffixA.endsWith(suffixB) || suffixB.endsWith(suffixA);
}

/** Every name `inner` matches, `outer` matches (identical, an exact name the glob takes, or `**`). */
export function selectorWithin(inner: NameSelector, outer: NameSelector): boolean {
  if (inner.pattern === outer.pattern || outer.pattern === '**') return true;
  if (inner.exact) return outer.test(inner.pattern);
  return false;
}

function literalPrefix(pattern: string): string {
  const i = pattern.search(/[*?[\]{}]/);
  return i < 0 ? pattern : pattern.slice(0, i);
}

function literalSuffix(pattern: string): string {
  const m = /[*?[\]{}]([^*?[\]{}]*)$/.exec(pattern);
  return m ? m[1]! : pattern;
}

/** Every version `inner` covers, `outer` covers (`undefined` = every version). */
export function rangeWithin(inner: string | undefined, outer: string | undefined): boolean {
  if (outer === undefined || outer === '*') return true;
  if (inner === undefined || inner === '*') return false;
  try {
    return semver.subset(inner, outer, { includePrerelease: true });
  } catch {
    return false;
  }
}

/** The codes an exception waives, written out (the default set when `waive` is absent). */
export function waivedCodes(exception: Pick<PolicyException, 'waive' | 'integrity'>): string[] {
  if (exception.waive) return [...exception.waive].sort();
  return VIOLATION_CODES.filter(
    (code) => isWaivable(code) && !(EXPLICIT_WAIVE_ONLY as readonly string[]).includes(code),
  ).sort();
}

/** How `after` waives more than `before` (same exception, edited): empty when it waives no more. */
export function exceptionWidenings(before: PolicyException, after: PolicyException): string[] {
  const out: string[] = [];
  if (!selectorWithin(after.package, before.package))
    out.push(`package ${before.package.pattern} → ${after.package.pattern}`);
  if (!rangeWithin(after.versions, before.versions))
    out.push(`versions ${before.versions} → ${after.versions}`);
  const codesBefore = waivedCodes(before);
  const added = waivedCodes(after).filter((c) => !codesBefore.includes(c));
  if (added.length) out.push(`waives ${added.join(', ')} too`);
  if (after.expiresAt.getTime() > before.expiresAt.getTime())
    out.push(`expires ${before.expires} → ${after.expires}`);
  if (before.integrity !== undefined && after.integrity !== before.integrity)
    out.push(after.integrity ? 'names another tarball' : 'no longer limited to one tarball');
  return out;
}

/** How allowance `after` lets more builds run than `before`: empty when it allows no more. */
export function allowanceWidenings(before: ScriptAllowance, after: ScriptAllowance): string[] {
  const out: string[] = [];
  if (!selectorWithin(after.package, before.package))
    out.push(`package ${before.package.pattern} → ${after.package.pattern}`);
  if (!rangeWithin(after.versions, before.versions))
    out.push(`versions ${before.versions ?? '*'} → ${after.versions ?? '*'}`);
  const kind = (a: ScriptAllowance) => (a.signers ? 'signers' : a.integrity ? 'integrity' : 'source');
  if (kind(before) !== kind(after)) {
    out.push(`bound by ${kind(before)} → ${kind(after)}`);
    return out;
  }
  if (before.signers && after.signers) {
    if (compareSigners(before.signers, after.signers).relaxed.length)
      out.push(`signers ${describeSigners(before.signers)} → ${describeSigners(after.signers)}`);
    const trustBefore = before.trust;
    if (trustBefore && (!after.trust || after.trust.some((t) => !trustBefore.includes(t))))
      out.push(`trust ${list(trustBefore)} → ${after.trust ? list(after.trust) : "the package rule's"}`);
  }
  if (before.integrity !== undefined && before.integrity !== after.integrity)
    out.push('names another tarball');
  if (before.source !== undefined && before.source !== after.source)
    out.push(`source ${before.source} → ${after.source}`);
  if (before.repository && !patternWithin(after.repository, before.repository))
    out.push(
      `repository ${describePattern(before.repository)} → ${after.repository ? describePattern(after.repository) : 'any'}`,
    );
  if (before.mode !== undefined && (after.mode === undefined || modeRank(after.mode) < modeRank(before.mode)))
    out.push(`mode ${before.mode} → ${after.mode ?? 'scripts.mode'}`);
  return out;
}
