// Registry binding (the dependency-confusion guard), answered from the name alone, before anything
// is downloaded. The binding is name-level: the most specific rule that matches the name and has
// `registries` decides, whatever its version range, because the version is not known yet when the
// request goes out.
import type { Policy } from './model';
import { normalizeRegistryOrUndefined } from './registry-url';
import { bestSelector, compareSpecificity, type RuleRef, ruleRef, type Specificity } from './select';

export interface RegistryBinding {
  rule: RuleRef;
  /** The selector of the rule that matched the name. */
  selector: string;
  /** Normalised registry URLs (trailing slash, lower-case host, no default port). */
  registries: string[];
}

export function allowedRegistries(policy: Policy, name: string): RegistryBinding | undefined {
  let best: { binding: RegistryBinding; specificity: Specificity } | undefined;
  for (const rule of policy.rules) {
    if (!rule.registries) continue;
    const selector = bestSelector(rule, name);
    if (!selector) continue;
    const specificity = {
      exactName: selector.exact,
      literalLength: selector.literalLength,
      versioned: false,
    };
    if (best && compareSpecificity(specificity, best.specificity) >= 0) continue;
    best = {
      binding: { rule: ruleRef(rule), selector: selector.pattern, registries: rule.registries },
      specificity,
    };
  }
  return best?.binding;
}

/** True when the registry the package is (or would be) fetched from is one the binding allows. */
export function isRegistryAllowed(binding: RegistryBinding, registryUrl: string | undefined): boolean {
  const normalized = normalizeRegistryOrUndefined(registryUrl);
  return normalized !== undefined && binding.registries.includes(normalized);
}
