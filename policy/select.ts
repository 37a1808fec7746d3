// Which rule decides for a package. Precedence, most important first:
//   1. an exact name beats a glob;
//   2. a glob with more literal characters beats one with fewer (@acme/internal-* beats @acme/*);
//   3. a rule with a version range beats one without;
//   4. the earlier rule in the file wins a remaining tie.
// No rule matching means the defaults decide. Every candidate is returned so explanations can show
// why the winner won.
import type { SourceLocation } from './diagnostics';
import type { Policy, Rule } from './model';
import type { NameSelector } from './package-selector';
import { versionSatisfies } from './package-selector';

export interface Specificity {
  exactName: boolean;
  literalLength: number;
  versioned: boolean;
}

export interface RuleRef {
  id: string;
  index: number;
  location: SourceLocation;
}

export interface RuleCandidate {
  rule: RuleRef;
  /** The selector that matched (the most specific one when several did). */
  selector: string;
  versions?: string;
  specificity: Specificity;
}

export interface RuleSelection {
  rule: Rule;
  /** Matching rules, most specific first; the first one decided. Empty when the defaults decided. */
  candidates: RuleCandidate[];
  /** One line on why the deciding rule won, for explanations. */
  precedence: string;
}

export function ruleRef(rule: Rule): RuleRef {
  return { id: rule.id, index: rule.index, location: rule.location };
}

export function bestSelector(rule: Rule, name: string): NameSelector | undefined {
  let best: NameSelector | undefined;
  for (const selector of rule.packages) {
    if (!selector.test(name)) continue;
    if (!best || compareSelectors(selector, best) < 0) best = selector;
  }
  return best;
}

function compareSelectors(a: NameSelector, b: NameSelector): number {
  return Number(b.exact) - Number(a.exact) || b.literalLength - a.literalLength;
}

export function compareSpecificity(a: Specificity, b: Specificity): number {
  return (
    Number(b.exactName) - Number(a.exactName) ||
    b.literalLength - a.literalLength ||
    Number(b.versioned) - Number(a.versioned)
  );
}

export function describeSpecificity(s: Specificity): string {
  const kind = s.exactName ? 'exact name' : `glob with ${s.literalLength} literal characters`;
  return s.versioned ? `${kind}, with a version range` : kind;
}

/** Rules whose selectors match `name` and (when `version` is given and the rule has a range) `version`. */
export function matchingRules(policy: Policy, name: string, version: string | undefined): RuleCandidate[] {
  const candidates: RuleCandidate[] = [];
  for (const rule of policy.rules) {
    const selector = bestSelector(rule, name);
    if (!selector) continue;
    if (rule.versions !== undefined && version !== undefined && !versionSatisfies(version, rule.versions))
      continue;
    const candidate: RuleCandidate = {
      rule: ruleRef(rule),
      selector: selector.pattern,
      specificity: {
        exactName: selector.exact,
        literalLength: selector.literalLength,
        versioned: rule.versions !== undefined && version !== undefined,
      },
    };
    if (rule.versions !== undefined) candidate.versions = rule.versions;
    candidates.push(candidate);
  }
  // Array.prototype.sort is stable, so equal specificity keeps file order: the earlier rule wins.
  return candidates.sort((a, b) => compareSpecificity(a.specificity, b.specificity));
}

export function selectRule(policy: Policy, name: string, version: string): RuleSelection {
  const candidates = matchingRules(policy, name, version);
  const winner = candidates[0];
  if (!winner) {
    return {
      rule: policy.defaults,
      candidates,
      precedence: 'no rule matches this package, so the defaults apply',
    };
  }
  const rule = policy.rules[winner.rule.index]!;
  const runnerUp = candidates[1];
  let precedence = `${rule.id} matched by "${winner.selector}" (${describeSpecificity(winner.specificity)})`;
  if (runnerUp) {
    const tie = compareSpecificity(winner.specificity, runnerUp.specificity) === 0;
    precedence += tie
      ? `; ties with ${runnerUp.rule.id} and comes first in the file`
      : `; more specific than ${runnerUp.rule.id} ("${runnerUp.selector}", ${describeSpecificity(runnerUp.specificity)})`;
  }
  return { rule, candidates, precedence };
}
