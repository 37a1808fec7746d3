// The names code imports a package by. Yarn links a package under the name of each dependency that
// resolves to it, which an npm alias (`"acme-utils": "npm:evil-pkg@1.0.0"`), a `resolutions` entry, a
// patch declared under another name or an edited yarn.lock can make differ from the package's own
// name. A name the policy protects must hold that very package: otherwise `require("acme-utils")`
// would load code no rule for acme-utils ever judged.
import type { Decision, PackageFacts } from './decision';
import type { Policy, Rule } from './model';
import { allowedRegistries } from './registry-binding';
import { bestSelector } from './select';

/** The rule that protects a name (binds it to registries, or selects it by name), if any. */
export function protectingRule(policy: Policy, name: string): Rule | undefined {
  const binding = allowedRegistries(policy, name);
  if (binding) return policy.rules[binding.rule.index];
  return policy.rules.find((rule) => bestSelector(rule, name) !== undefined);
}

/** Names other than the judged package's own under which its bytes are installed. */
export function foreignNames(facts: PackageFacts, judgedName: string): string[] {
  const names = new Set([facts.name, ...(facts.linkNames ?? [])]);
  names.delete(judgedName);
  return [...names].sort();
}

export function checkLinkNames(
  policy: Policy,
  facts: PackageFacts,
  judged: PackageFacts,
  decision: Decision,
): void {
  for (const name of foreignNames(facts, judged.name)) {
    const rule = protectingRule(policy, name);
    if (!rule) continue;
    decision.reasons.push({
      code: 'alias-of-protected-name',
      severity: 'violation',
      message: `${name} is protected by ${rule.id} (${rule.location.file}:${rule.location.line}), but it resolves to ${judged.name}@${judged.version}: code that imports ${name} would run a package no rule for ${name} judged`,
      expected: `${name} itself`,
      actual: `${judged.name}@${judged.version}${judged.locator ? ` (${judged.locator})` : ''}`,
    });
  }
}
