// What changed between two versions of a policy (the base ref's and the head's, each with its
// `extends` already merged) and its pins: every relaxation is its own finding, with the code a SARIF
// rule is named after; tightenings are listed too. Pure: both policies are compiled by the caller.
import type { SourceLocation } from './diagnostics';
import { formatLocation } from './diagnostics';
import type { PolicyChangeCode } from './diff-codes';
import type { ExtendsReference } from './layers';
import type { Mode, Policy, PolicyException, Rule, ScriptAllowance } from './model';
import { evidenceRank } from './model';
import { rangesIntersect } from './package-selector';
import { describePattern } from './patterns';
import type { PinnedLine, Pins } from './pins';
import {
  allowanceWidenings,
  compareModes,
  compareRequirements,
  compareSigners,
  exceptionWidenings,
  modeRank,
  rangeWithin,
  type StrictnessDelta,
  scriptsDefaultLooseness,
  selectorsMayOverlap,
  selectorWithin,
} from './strictness';

export interface PolicyChange {
  code: PolicyChangeCode;
  /** true: protection got weaker (fails the review unless acknowledged); false: it got stronger */
  relaxation: boolean;
  /** the element that changed: `rules.acme-internal.require`, `exceptions[2]`, `scripts.default` */
  subject: string;
  message: string;
  before?: string;
  after?: string;
  /** where to look in the head version (for something removed: the nearest place that remains) */
  location: SourceLocation;
  /** where it was in the base version */
  baseLocation?: SourceLocation;
}

export interface PolicyDiffInput {
  base: Policy;
  head: Policy;
  /** the `extends` lists of the repository's own policy file, at each version */
  baseExtends?: readonly ExtendsReference[];
  headExtends?: readonly ExtendsReference[];
  /** sha256 of each trust root's content at each version (name → digest), when the caller read them */
  baseTrustRootDigests?: ReadonlyMap<string, string>;
  headTrustRootDigests?: ReadonlyMap<string, string>;
}

function effectiveRuleMode(policy: Policy, rule: Rule): Mode {
  return rule.mode ?? policy.mode;
}

function ruleKey(rule: Rule): string {
  if (!/^rules\[\d+\]$/.test(rule.id)) return `name:${rule.id}`;
  return `packages:${rule.packages
    .map((p) => p.pattern)
    .sort()
    .join('\0')}|${rule.versions ?? ''}`;
}

function describeRule(rule: Rule): string {
  const packages = rule.packages.map((p) => p.pattern).join(', ');
  return `${rule.id === 'defaults' ? 'the defaults' : `rule ${rule.id}`} (${rule.id === 'defaults' ? 'every package no rule matches' : packages}${rule.versions ? ` @ ${rule.versions}` : ''})`;
}

function deltaMessage(what: string, delta: StrictnessDelta, relaxed: boolean): string {
  const verbs: Record<StrictnessDelta['code'], [string, string]> = {
    'mode-lowered': ['lowers its mode', 'raises its mode'],
    'require-lowered': ['requires less evidence', 'requires more evidence'],
    'min-release-age-shortened': ['shortens minReleaseAge', 'lengthens minReleaseAge'],
    'unsigned-time-fallback-enabled': [
      "accepts the registry's unsigned publish time",
      "no longer accepts the registry's unsigned publish time",
    ],
    'continuity-weakened': ['weakens trust continuity', 'strengthens trust continuity'],
    'trust-widened': ['accepts evidence from more trust roots', 'accepts evidence from fewer trust roots'],
    'sources-widened': ['allows more sources', 'allows fewer sources'],
    'signer-widened': ['accepts more signer identities', 'accepts fewer signer identities'],
  };
  return `${what} ${verbs[delta.code][relaxed ? 0 : 1]}: ${delta.field} ${delta.before} → ${delta.after}`;
}

class Collector {
  readonly changes: PolicyChange[] = [];
  constructor(private readonly head: Policy) {}

  add(change: Omit<PolicyChange, 'location'> & { location?: SourceLocation }): void {
    this.changes.push({ ...change, location: change.location ?? this.anchor() });
  }

  /** For something removed: the head policy's first line (SARIF needs a place in the head). */
  anchor(): SourceLocation {
    return { file: this.head.file, line: 1, column: 1 };
  }

  deltas(
    subject: string,
    what: string,
    deltas: { relaxed: StrictnessDelta[]; tightened: StrictnessDelta[] },
    location: SourceLocation,
    baseLocation?: SourceLocation,
  ): void {
    for (const [relaxed, list] of [
      [true, deltas.relaxed],
      [false, deltas.tightened],
    ] as const) {
      for (const delta of list) {
        this.add({
          code: relaxed ? delta.code : 'policy-tightened',
          relaxation: relaxed,
          subject: `${subject}.${delta.field}`,
          message: deltaMessage(what, delta, relaxed),
          before: delta.before,
          after: delta.after,
          location,
          ...(baseLocation ? { baseLocation } : {}),
        });
      }
    }
  }
}

/** Every relaxation and tightening from `base` to `head`. */
export function diffPolicies(input: PolicyDiffInput): PolicyChange[] {
  const { base, head } = input;
  const out = new Collector(head);

  // Top-level mode.
  const mode = compareModes(base.mode, head.mode);
  out.deltas('mode', 'the policy', mode, head.defaults.location);

  // Defaults, then rules matched by name (or by their selectors when unnamed).
  out.deltas(
    'defaults',
    'the defaults',
    compareRequirements(base.defaults.requirements, head.defaults.requirements),
    head.defaults.location,
    base.defaults.location,
  );
  const baseRules = new Map(base.rules.map((r) => [ruleKey(r), r]));
  const headRules = new Map(head.rules.map((r) => [ruleKey(r), r]));
  for (const [key, before] of baseRules) {
    const after = headRules.get(key);
    if (!after) {
      out.add({
        code: 'rule-removed',
        relaxation: true,
        subject: `rules.${before.id}`,
        message: `${describeRule(before)} was removed (at ${formatLocation(before.location)} in the base): its packages fall to other rules or the defaults`,
        baseLocation: before.location,
      });
      continue;
    }
    compareRule(out, base, head, before, after);
  }
  for (const [key, after] of headRules) {
    if (baseRules.has(key)) continue;
    const weaker = weakerThanGoverning(
      base,
      after,
      after.packages,
      after.versions,
      undefined,
      effectiveRuleMode(head, after),
    );
    if (weaker.length) {
      out.add({
        code: 'rule-added-weaker',
        relaxation: true,
        subject: `rules.${after.id}`,
        message: `new ${describeRule(after)} takes over names that were judged more strictly: ${weaker.join('; ')}`,
        location: after.location,
      });
    } else {
      out.add({
        code: 'policy-tightened',
        relaxation: false,
        subject: `rules.${after.id}`,
        message: `new ${describeRule(after)}, at least as strict as what judged its packages before`,
        location: after.location,
      });
    }
  }

  diffTrustRoots(out, input);
  diffExceptions(out, base, head);
  diffScripts(out, base, head);
  diffKnownBad(out, base, head);
  diffExtends(out, input);
  return out.changes;
}

function compareRule(out: Collector, base: Policy, head: Policy, before: Rule, after: Rule): void {
  const what = `rule ${after.id}`;
  const subject = `rules.${after.id}`;
  out.deltas(
    subject,
    what,
    compareRequirements(before.requirements, after.requirements),
    after.location,
    before.location,
  );
  out.deltas(
    subject,
    what,
    compareModes(effectiveRuleMode(base, before), effectiveRuleMode(head, after)),
    after.location,
    before.location,
  );
  // Coverage: names or versions no longer governed by the rule fall to weaker ones.
  const lost = before.packages.filter((b) => !after.packages.some((a) => selectorWithin(b, a)));
  if (lost.length || !rangeWithin(before.versions, after.versions)) {
    out.add({
      code: 'rule-coverage-reduced',
      relaxation: true,
      subject: `${subject}.packages`,
      message: `${what} no longer covers ${[
        ...lost.map((s) => s.pattern),
        ...(rangeWithin(before.versions, after.versions)
          ? []
          : [`versions outside ${after.versions} (was ${before.versions ?? 'every version'})`]),
      ].join(', ')}: those fall to other rules or the defaults`,
      before: `${before.packages.map((p) => p.pattern).join(', ')}${before.versions ? ` @ ${before.versions}` : ''}`,
      after: `${after.packages.map((p) => p.pattern).join(', ')}${after.versions ? ` @ ${after.versions}` : ''}`,
      location: after.location,
      baseLocation: before.location,
    });
  }
  const gained = after.packages.filter((a) => !before.packages.some((b) => selectorWithin(a, b)));
  const versionsGained = !rangeWithin(after.versions, before.versions);
  if (gained.length || versionsGained) {
    const weaker = weakerThanGoverning(
      base,
      after,
      gained.length ? gained : after.packages,
      after.versions,
      before,
      effectiveRuleMode(head, after),
    );
    out.add({
      code: weaker.length ? 'package-glob-widened' : 'policy-tightened',
      relaxation: weaker.length > 0,
      subject: `${subject}.packages`,
      message: weaker.length
        ? `${what} now also covers ${gained.map((s) => s.pattern).join(', ') || `versions ${after.versions ?? '*'}`}, judged more strictly before: ${weaker.join('; ')}`
        : `${what} now also covers ${gained.map((s) => s.pattern).join(', ') || `versions ${after.versions ?? '*'}`}`,
      before: before.packages.map((p) => p.pattern).join(', '),
      after: after.packages.map((p) => p.pattern).join(', '),
      location: after.location,
      baseLocation: before.location,
    });
  }
  // Registry binding: the dependency-confusion guard.
  if (before.registries && !after.registries) {
    out.add({
      code: 'registry-binding-removed',
      relaxation: true,
      subject: `${subject}.registries`,
      message: `${what} no longer binds its names to ${before.registries.join(', ')}: they may come from any registry (dependency confusion)`,
      before: before.registries.join(', '),
      after: '(none)',
      location: after.location,
      baseLocation: before.location,
    });
  } else if (before.registries && after.registries) {
    const added = after.registries.filter((r) => !before.registries!.includes(r));
    if (added.length)
      out.add({
        code: 'registry-binding-widened',
        relaxation: true,
        subject: `${subject}.registries`,
        message: `${what} now accepts its names from ${added.join(', ')} too`,
        before: before.registries.join(', '),
        after: after.registries.join(', '),
        location: after.location,
        baseLocation: before.location,
      });
    else if (after.registries.length < before.registries.length)
      out.add({
        code: 'policy-tightened',
        relaxation: false,
        subject: `${subject}.registries`,
        message: `${what} accepts its names from fewer registries`,
        before: before.registries.join(', '),
        after: after.registries.join(', '),
        location: after.location,
      });
  } else if (!before.registries && after.registries) {
    out.add({
      code: 'policy-tightened',
      relaxation: false,
      subject: `${subject}.registries`,
      message: `${what} now binds its names to ${after.registries.join(', ')}`,
      location: after.location,
    });
  }
}

/**
 * How `rule` is weaker than what judged (some of) these names in `base`: each base rule that may
 * match one of them and is not more specific than the selector, and the defaults. `self` (the same
 * rule in the base) is skipped.
 */
export function weakerThanGoverning(
  base: Policy,
  rule: Rule,
  selectors: Rule['packages'],
  versions: string | undefined,
  self?: Rule,
  /** the rule's effective mode where it now applies (default: its own, else the base's) */
  ruleMode: Mode = rule.mode ?? base.mode,
): string[] {
  const out: string[] = [];
  const candidates: Array<{ rule: Rule; mode: Mode }> = [];
  for (const other of base.rules) {
    if (other === self) continue;
    if (!rangesIntersect(other.versions, versions)) continue;
    const overlapping = selectors.filter((s) => other.packages.some((o) => selectorsMayOverlap(s, o)));
    if (!overlapping.length) continue;
    // A base rule more specific than every overlapping selector still wins for its names in the head.
    const beats = overlapping.every((s) =>
      other.packages.every(
        (o) =>
          !selectorsMayOverlap(s, o) ||
          Number(o.exact) - Number(s.exact) > 0 ||
          (o.exact === s.exact && o.literalLength > s.literalLength),
      ),
    );
    if (beats) continue;
    candidates.push({ rule: other, mode: effectiveRuleMode(base, other) });
  }
  candidates.push({ rule: base.defaults, mode: base.mode });
  for (const candidate of candidates) {
    const comparison = compareRequirements(candidate.rule.requirements, rule.requirements);
    const reasons = comparison.relaxed.map((d) => `${d.field} ${d.before} → ${d.after}`);
    if (modeRank(ruleMode) < modeRank(candidate.mode)) reasons.push(`mode ${candidate.mode} → ${ruleMode}`);
    if (candidate.rule.registries) {
      if (rule.registries?.some((r) => !candidate.rule.registries!.includes(r)))
        reasons.push(`registries ${candidate.rule.registries.join(', ')} → ${rule.registries.join(', ')}`);
    }
    if (reasons.length)
      out.push(
        `${candidate.rule.id === 'defaults' ? 'the defaults' : candidate.rule.id} (${formatLocation(candidate.rule.location)}): ${reasons.join(', ')}`,
      );
  }
  return out;
}

function diffTrustRoots(out: Collector, input: PolicyDiffInput): void {
  const { base, head } = input;
  for (const root of head.trustRoots) {
    if (root.builtin) continue;
    const before = base.trustRoots.find((r) => r.name === root.name);
    if (!before) {
      out.add({
        code: 'trust-root-added',
        relaxation: true,
        subject: `trustRoots.${root.name}`,
        message: `new trust root ${root.name} (${root.file ?? root.tuf}): whoever controls that CA and log can produce evidence the rules that trust it accept`,
        after: root.file ?? root.tuf,
        ...(root.location ? { location: root.location } : {}),
      });
      continue;
    }
    const source = (r: typeof root) => r.file ?? `${r.tuf} (root ${r.root})`;
    const digestBefore = input.baseTrustRootDigests?.get(root.name);
    const digestAfter = input.headTrustRootDigests?.get(root.name);
    const contentChanged =
      digestBefore !== undefined && digestAfter !== undefined && digestBefore !== digestAfter;
    if (source(before) !== source(root) || contentChanged) {
      out.add({
        code: 'trust-root-changed',
        relaxation: true,
        subject: `trustRoots.${root.name}`,
        message: `trust root ${root.name} now ${contentChanged ? 'has other content' : `comes from ${source(root)}`}: other CAs, logs or keys may count`,
        before: contentChanged ? `sha256:${digestBefore}` : source(before),
        after: contentChanged ? `sha256:${digestAfter}` : source(root),
        ...(root.location ? { location: root.location } : {}),
        ...(before.location ? { baseLocation: before.location } : {}),
      });
    }
  }
  for (const root of base.trustRoots) {
    if (root.builtin || head.trustRoots.some((r) => r.name === root.name)) continue;
    out.add({
      code: 'policy-tightened',
      relaxation: false,
      subject: `trustRoots.${root.name}`,
      message: `trust root ${root.name} was removed`,
      ...(root.location ? { baseLocation: root.location } : {}),
    });
  }
}

function exceptionKey(e: PolicyException): string {
  return `${e.package.pattern}|${e.versions}`;
}

function describeException(e: PolicyException): string {
  return `${e.package.pattern}@${e.versions} until ${e.expires}${e.ticket ? ` (${e.ticket})` : ''}`;
}

function diffExceptions(out: Collector, base: Policy, head: Policy): void {
  const unmatched = [...base.exceptions];
  const take = (pred: (b: PolicyException) => boolean): PolicyException | undefined => {
    const i = unmatched.findIndex(pred);
    return i < 0 ? undefined : unmatched.splice(i, 1)[0];
  };
  const pairs: Array<[PolicyException | undefined, PolicyException]> = [];
  for (const after of head.exceptions)
    pairs.push([take((b) => exceptionKey(b) === exceptionKey(after)), after]);
  for (const pair of pairs) {
    if (!pair[0]) pair[0] = take((b) => b.package.pattern === pair[1].package.pattern);
  }
  for (const [before, after] of pairs) {
    const subject = `exceptions[${after.index}]`;
    if (!before) {
      out.add({
        code: 'exception-added',
        relaxation: true,
        subject,
        message: `new exception ${describeException(after)} waives ${after.waive ? after.waive.join(', ') : 'every waivable violation'}: "${after.reason}"`,
        after: describeException(after),
        location: after.location,
      });
      continue;
    }
    const widened = exceptionWidenings(before, after);
    if (widened.length) {
      out.add({
        code: 'exception-widened',
        relaxation: true,
        subject,
        message: `exception ${describeException(after)} waives more: ${widened.join('; ')}`,
        before: describeException(before),
        after: describeException(after),
        location: after.location,
        baseLocation: before.location,
      });
    } else if (exceptionWidenings(after, before).length) {
      out.add({
        code: 'policy-tightened',
        relaxation: false,
        subject,
        message: `exception ${describeException(after)} waives less`,
        location: after.location,
      });
    }
  }
  for (const removed of unmatched) {
    out.add({
      code: 'policy-tightened',
      relaxation: false,
      subject: `exceptions`,
      message: `exception ${describeException(removed)} was removed`,
      baseLocation: removed.location,
    });
  }
}

function allowanceKind(a: ScriptAllowance): string {
  return a.signers ? 'signers' : a.integrity ? 'integrity' : `source:${a.source}`;
}

function describeAllowance(a: ScriptAllowance): string {
  const binding = a.signers
    ? `signed by ${a.signers.map((s) => (s.subject ? describePattern(s.subject) : (s.repository ?? s.issuer))).join(' or ')}`
    : a.integrity
      ? `tarball ${a.integrity.slice(0, 15)}…`
      : `source ${a.source}${a.repository ? ` ${describePattern(a.repository)}` : ''}`;
  return `${a.package.pattern}${a.versions ? `@${a.versions}` : ''} (${binding})`;
}

function diffScripts(out: Collector, base: Policy, head: Policy): void {
  const before = base.scripts;
  const after = head.scripts;
  const location = after.location ?? out.anchor();
  if (before.default !== after.default) {
    const looser = scriptsDefaultLooseness(after.default) > scriptsDefaultLooseness(before.default);
    out.add({
      code: looser ? 'scripts-default-loosened' : 'policy-tightened',
      relaxation: looser,
      subject: 'scripts.default',
      message: looser
        ? `scripts.default ${before.default} → ${after.default}: builds no allowance names now run${after.default === 'allow' ? " for every allowed package (Yarn's own behaviour)" : ' for every package allowed on a verified signature'}`
        : `scripts.default ${before.default} → ${after.default}`,
      before: before.default,
      after: after.default,
      location,
      ...(before.location ? { baseLocation: before.location } : {}),
    });
  }
  const modeBefore = before.mode ?? base.mode;
  const modeAfter = after.mode ?? head.mode;
  if (modeBefore !== modeAfter) {
    const lowered = modeRank(modeAfter) < modeRank(modeBefore);
    out.add({
      code: lowered ? 'mode-lowered' : 'policy-tightened',
      relaxation: lowered,
      subject: 'scripts.mode',
      message: `scripts.mode ${modeBefore} → ${modeAfter}${lowered ? ': withheld builds no longer fail the install' : ''}`,
      before: modeBefore,
      after: modeAfter,
      location,
    });
  }
  const unmatched = [...before.allow];
  for (const allowance of after.allow) {
    const subject = `scripts.allow[${allowance.index}]`;
    let i = unmatched.findIndex(
      (b) =>
        b.package.pattern === allowance.package.pattern &&
        allowanceKind(b) === allowanceKind(allowance) &&
        b.versions === allowance.versions,
    );
    if (i < 0)
      i = unmatched.findIndex(
        (b) =>
          b.package.pattern === allowance.package.pattern && allowanceKind(b) === allowanceKind(allowance),
      );
    if (i < 0) i = unmatched.findIndex((b) => b.package.pattern === allowance.package.pattern);
    const previous = i < 0 ? undefined : unmatched.splice(i, 1)[0];
    if (!previous) {
      out.add({
        code: 'script-allowance-added',
        relaxation: true,
        subject,
        message: `new script allowance: ${describeAllowance(allowance)} may run its build: "${allowance.reason}"`,
        after: describeAllowance(allowance),
        location: allowance.location,
      });
      continue;
    }
    const widened = allowanceWidenings(previous, allowance);
    if (widened.length)
      out.add({
        code: 'script-allowance-widened',
        relaxation: true,
        subject,
        message: `script allowance ${describeAllowance(allowance)} lets more builds run: ${widened.join('; ')}`,
        before: describeAllowance(previous),
        after: describeAllowance(allowance),
        location: allowance.location,
        baseLocation: previous.location,
      });
    else if (allowanceWidenings(allowance, previous).length)
      out.add({
        code: 'policy-tightened',
        relaxation: false,
        subject,
        message: `script allowance ${describeAllowance(allowance)} lets fewer builds run`,
        location: allowance.location,
      });
  }
  for (const removed of unmatched)
    out.add({
      code: 'policy-tightened',
      relaxation: false,
      subject: 'scripts.allow',
      message: `script allowance ${describeAllowance(removed)} was removed`,
      baseLocation: removed.location,
    });
}

function diffKnownBad(out: Collector, base: Policy, head: Policy): void {
  const before = base.knownBad;
  const after = head.knownBad;
  if (!before) {
    if (after)
      out.add({
        code: 'policy-tightened',
        relaxation: false,
        subject: 'knownBad',
        message: 'a knownBad section was added',
        location: after.location,
      });
    return;
  }
  const location = after?.location;
  const weakened: string[] = [];
  if (!after) weakened.push('the knownBad section was removed');
  else {
    if (before.maxAge && (!after.maxAge || after.maxAge.ms > before.maxAge.ms))
      weakened.push(`maxAge ${before.maxAge.text} → ${after.maxAge?.text ?? 'none (any age)'}`);
    if (before.stale === 'deny' && after.stale !== 'deny') weakened.push(`stale deny → ${after.stale}`);
    if (before.verdictService) {
      const v = after.verdictService;
      if (!v) weakened.push('the verdict service is no longer asked');
      else if (v.url !== before.verdictService.url || v.publicKey !== before.verdictService.publicKey)
        weakened.push(`the verdict service is now ${v.url} with key ${v.publicKey}`);
    }
    for (const source of before.sources) {
      const now = after.sources.find((s) => s.name === source.name);
      if (!now) {
        weakened.push(`signed source ${source.name} was removed`);
        continue;
      }
      if (compareSigners(source.signers, now.signers).relaxed.length)
        weakened.push(`signed source ${source.name} accepts more signers`);
      if (now.trust.some((t) => !source.trust.includes(t)))
        weakened.push(`signed source ${source.name} accepts more trust roots`);
      if (source.url !== now.url)
        weakened.push(`signed source ${source.name} now comes from ${now.url ?? 'anywhere'}`);
    }
    // Records about the public registry apply to names bound to these: removing one exempts its names.
    const removedPublic = before.publicRegistries.filter((r) => !after.publicRegistries.includes(r));
    if (removedPublic.length) weakened.push(`publicRegistries no longer lists ${removedPublic.join(', ')}`);
  }
  if (weakened.length)
    out.add({
      code: 'known-bad-weakened',
      relaxation: true,
      subject: 'knownBad',
      message: `the known-bad database protects less: ${weakened.join('; ')}`,
      ...(location ? { location } : {}),
      baseLocation: before.location,
    });
}

function describeExtends(e: ExtendsReference): string {
  return e.kind === 'path' ? e.path : e.url;
}

function diffExtends(out: Collector, input: PolicyDiffInput): void {
  const before = input.baseExtends ?? [];
  const after = input.headExtends ?? [];
  const key = (e: ExtendsReference) => (e.kind === 'path' ? `path:${e.path}` : `url:${e.url}`);
  for (const previous of before) {
    const now = after.find((e) => key(e) === key(previous));
    if (!now) {
      out.add({
        code: 'extends-removed',
        relaxation: true,
        subject: 'extends',
        message: `the policy no longer extends ${describeExtends(previous)}: nothing of that base applies any more`,
        before: describeExtends(previous),
        baseLocation: previous.location,
      });
      continue;
    }
    const changes: string[] = [];
    if (previous.sha256 !== undefined && now.sha256 !== previous.sha256)
      changes.push(
        now.sha256
          ? `sha256 ${previous.sha256.slice(0, 12)}… → ${now.sha256.slice(0, 12)}…`
          : 'no longer pinned by sha256',
      );
    if (previous.signature) {
      if (!now.signature) changes.push('no longer requires a signature');
      else {
        if (compareSigners(previous.signature.signers, now.signature.signers).relaxed.length)
          changes.push('accepts more signers');
        if (now.signature.trust.some((t) => !previous.signature!.trust.includes(t)))
          changes.push('accepts more trust roots');
      }
    }
    if (changes.length)
      out.add({
        code: 'extends-changed',
        relaxation: true,
        subject: 'extends',
        message: `the base ${describeExtends(now)} ${changes.join(', ')}`,
        location: now.location,
        baseLocation: previous.location,
      });
  }
  for (const now of after) {
    if (before.some((e) => key(e) === key(now))) continue;
    out.add({
      code: 'policy-tightened',
      relaxation: false,
      subject: 'extends',
      message: `the policy now extends ${describeExtends(now)}`,
      location: now.location,
    });
  }
}

/** Changes to the pins: lost continuity and approved identity changes or downgrades are relaxations. */
export function diffPins(
  base: Pins,
  head: Pins,
  locate: (packageName: string) => SourceLocation,
): PolicyChange[] {
  const out: PolicyChange[] = [];
  const describeSigner = (s: PinnedLine['signers'][number]) =>
    [s.subject, s.repository, s.workflow, s.ref].filter(Boolean).join(' ') || s.issuer;
  for (const [name, lines] of Object.entries(base.packages)) {
    const headLines = head.packages[name];
    for (const [line, before] of Object.entries(lines)) {
      const after = headLines?.[line];
      const subject = `pins.${name}.${line}`;
      if (!after) {
        out.push({
          code: 'pin-removed',
          relaxation: true,
          subject,
          message: `the pins of ${name} (release line ${line}) were removed: the next release may be signed by anyone the rule accepts, or carry weaker evidence, without identity-changed or evidence-downgrade`,
          before:
            before.signers.map(describeSigner).join('; ') || before.evidence.map((e) => e.level).join(', '),
          location: locate(name),
        });
        continue;
      }
      const kept = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
      const lostSigner = before.signers.some((s) => !after.signers.some((t) => kept(s, t)));
      const lostEvidence = before.evidence.some((e) => !after.evidence.some((t) => kept(e, t)));
      if (lostSigner || lostEvidence) {
        out.push({
          code: 'pin-removed',
          relaxation: true,
          subject,
          message: `a pinned ${lostSigner ? 'identity' : 'evidence level'} of ${name} (release line ${line}) was edited or removed`,
          location: locate(name),
        });
      }
      for (const signer of after.signers) {
        if (before.signers.some((s) => kept(s, signer))) continue;
        if (signer.approved)
          out.push({
            code: 'pin-approved',
            relaxation: true,
            subject,
            message: `${name}@${signer.since}: a change of signer to ${describeSigner(signer)} was approved ("${signer.approved.reason}"${signer.approved.by ? ` by ${signer.approved.by}` : ''})`,
            location: locate(name),
          });
      }
      for (const evidence of after.evidence) {
        if (before.evidence.some((e) => kept(e, evidence))) continue;
        const strongest = Math.max(...before.evidence.map((e) => evidenceRank(e.level)), -1);
        if (evidence.approved || evidenceRank(evidence.level) < strongest)
          out.push({
            code: 'pin-approved',
            relaxation: true,
            subject,
            message: `${name}@${evidence.since}: evidence ${evidence.level} accepted${evidence.approved ? ` ("${evidence.approved.reason}"${evidence.approved.by ? ` by ${evidence.approved.by}` : ''})` : ''}, weaker than what was pinned`,
            location: locate(name),
          });
      }
    }
  }
  return out;
}
