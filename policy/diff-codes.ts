// The findings of `policy diff` / `audit --base`: one stable code per kind of relaxation (each a SARIF
// rule, with help), plus one code for every tightening. Codes about Yarn's settings and the plugin
// bundle are produced by the plugin (it reads .yarnrc.yml), but live here so the catalogue is whole.

export const RELAXATION_CODES = [
  'mode-lowered',
  'require-lowered',
  'min-release-age-shortened',
  'unsigned-time-fallback-enabled',
  'continuity-weakened',
  'trust-widened',
  'sources-widened',
  'signer-widened',
  'rule-removed',
  'rule-coverage-reduced',
  'rule-added-weaker',
  'package-glob-widened',
  'registry-binding-removed',
  'registry-binding-widened',
  'trust-root-added',
  'trust-root-changed',
  'exception-added',
  'exception-widened',
  'scripts-default-loosened',
  'script-allowance-added',
  'script-allowance-widened',
  'known-bad-weakened',
  'extends-removed',
  'extends-changed',
  'pin-removed',
  'pin-approved',
  'policy-removed',
  'yarnrc-enable-scripts',
  'yarnrc-age-gate-lowered',
  'yarnrc-git-repositories-widened',
  'yarnrc-checksum-behavior',
  'yarnrc-mode-override',
  'yarnrc-plugin-removed',
  'yarnrc-plugin-changed',
  'yarnrc-policy-path-changed',
  'yarnrc-yarn-path-changed',
  'yarnrc-tollgate-setting',
  'yarnrc-plugin-added',
  'yarnrc-registry-changed',
  'yarnrc-tls-weakened',
] as const;

export type RelaxationCode = (typeof RELAXATION_CODES)[number];
export type PolicyChangeCode = RelaxationCode | 'policy-tightened';

export const POLICY_CHANGE_CODES: readonly PolicyChangeCode[] = [...RELAXATION_CODES, 'policy-tightened'];

export interface ChangeHelp {
  summary: string;
  fix: string;
}

const REVIEW =
  'If it is intended, get it reviewed and acknowledge it the way the base policy says (see "Policy review" in the README).';

export const POLICY_CHANGE_HELP: Record<PolicyChangeCode, ChangeHelp> = {
  'mode-lowered': {
    summary: 'A mode was lowered (enforce → warn → off): violations stop blocking.',
    fix: `Keep mode: enforce; roll out a rule in warn mode per rule instead. ${REVIEW}`,
  },
  'require-lowered': {
    summary:
      'A rule or the defaults now require weaker evidence (provenance → signature → registry-signature → none).',
    fix: `Restore the required level, or add a time-limited exception for the one package that cannot meet it. ${REVIEW}`,
  },
  'min-release-age-shortened': {
    summary:
      'minReleaseAge was shortened or removed: brand-new releases (the window of most account takeovers) are installed sooner.',
    fix: `Restore minReleaseAge. ${REVIEW}`,
  },
  'unsigned-time-fallback-enabled': {
    summary: "unsignedTimeFallback now lets the registry's unsigned publish time count for the release age.",
    fix: `Set unsignedTimeFallback: false again. ${REVIEW}`,
  },
  'continuity-weakened': {
    summary:
      'Trust continuity was turned off or narrowed to release lines: a change of signer or a downgrade is no longer caught.',
    fix: `Restore continuity (true, or package). ${REVIEW}`,
  },
  'trust-widened': {
    summary: 'A rule accepts evidence from more trust roots: another CA and log can vouch for its packages.',
    fix: `Remove the added trust root from the rule's trust list. ${REVIEW}`,
  },
  'sources-widened': {
    summary: 'A rule allows more sources (git, http, file, exec …), which carry no signature.',
    fix: `Remove the added source, or give that one package a rule of its own. ${REVIEW}`,
  },
  'signer-widened': {
    summary:
      'A rule accepts more signer identities (a new signer, a looser pattern, a dropped claim, or signers: any).',
    fix: `Narrow the signers again: name the exact identity and its CI claims (repository id, workflow, ref). ${REVIEW}`,
  },
  'rule-removed': {
    summary: 'A rule was removed: its packages are judged by other rules or the defaults.',
    fix: `Restore the rule. ${REVIEW}`,
  },
  'rule-coverage-reduced': {
    summary: 'A rule covers fewer names or versions: those fall to weaker rules or the defaults.',
    fix: `Restore the rule's packages and versions. ${REVIEW}`,
  },
  'rule-added-weaker': {
    summary: 'A new rule takes over names that a stricter rule (or the defaults) judged before.',
    fix: `Make the new rule at least as strict as the one it replaces, or narrow its packages. ${REVIEW}`,
  },
  'package-glob-widened': {
    summary: 'A rule now covers more names, which were judged more strictly before.',
    fix: `Narrow the rule's packages again, or make it as strict as the rule it takes them from. ${REVIEW}`,
  },
  'registry-binding-removed': {
    summary:
      'A rule no longer binds its names to a registry: the dependency-confusion guard is off for them.',
    fix: `Restore registries on the rule. ${REVIEW}`,
  },
  'registry-binding-widened': {
    summary: 'A rule accepts its names from more registries.',
    fix: `Remove the added registry. ${REVIEW}`,
  },
  'trust-root-added': {
    summary: 'A new trust root was declared: whoever runs that CA and log can produce evidence.',
    fix: `Check the trusted_root.json with its operator before merging. ${REVIEW}`,
  },
  'trust-root-changed': {
    summary: "A trust root's file, TUF repository or content changed: other CAs, logs or keys may count.",
    fix: `Compare the new trusted root with its operator's. ${REVIEW}`,
  },
  'exception-added': {
    summary: 'A new exception waives violations.',
    fix: `Narrow it to the version and codes that fire (the denial prints one), with a ticket and a short expiry. ${REVIEW}`,
  },
  'exception-widened': {
    summary:
      'An exception waives more: a wider package glob or version range, more codes, a later expiry, or no longer one tarball.',
    fix: `Narrow the exception again. ${REVIEW}`,
  },
  'scripts-default-loosened': {
    summary:
      'scripts.default was loosened (deny → allow-verified → allow): builds no allowance names now run.',
    fix: `Restore scripts.default and approve the builds you need with \`yarn tollgate scripts approve\`. ${REVIEW}`,
  },
  'script-allowance-added': {
    summary:
      'A new scripts.allow entry lets a dependency run its build (lifecycle scripts, node-gyp) or its fetch-time code.',
    fix: `Bind it to the identity that signs the package rather than a digest or a name. ${REVIEW}`,
  },
  'script-allowance-widened': {
    summary:
      'A scripts.allow entry lets more builds run: a wider package glob or range, more signers, another binding.',
    fix: `Narrow the allowance again. ${REVIEW}`,
  },
  'known-bad-weakened': {
    summary:
      'The known-bad database protects less: a longer maxAge, stale: warn, a signed source or the verdict service removed or widened.',
    fix: `Restore the knownBad section. ${REVIEW}`,
  },
  'extends-removed': {
    summary: "The policy no longer extends a base policy: none of the organisation's rules apply any more.",
    fix: `Restore the extends entry. ${REVIEW}`,
  },
  'extends-changed': {
    summary: 'A base policy is pinned to other bytes, no longer pinned, or accepts more signers.',
    fix: `Check what the new base relaxes (the other findings list it), then pin it again. ${REVIEW}`,
  },
  'pin-removed': {
    summary:
      'Pinned identities or evidence levels were removed or edited: the next release may change signer or drop evidence unnoticed.',
    fix: 'Restore .tollgate.pins.json from the base; accept genuine changes with `yarn tollgate approve`, which records a reason.',
  },
  'pin-approved': {
    summary: 'A change of signer or a weaker evidence level was approved into the pins.',
    fix: `Check the recorded reason with the package's maintainers (a new signer is what an account takeover looks like). ${REVIEW}`,
  },
  'policy-removed': {
    summary: 'The policy file is gone, or is no longer valid.',
    fix: 'Restore the policy file.',
  },
  'yarnrc-enable-scripts': {
    summary: '.yarnrc.yml now enables dependency scripts (enableScripts: true).',
    fix: `Keep enableScripts: false unless Tollgate's scripts section approves builds (scripts.default: deny); ${REVIEW}`,
  },
  'yarnrc-age-gate-lowered': {
    summary: "Yarn's npmMinimalAgeGate was lowered: brand-new releases are installed sooner.",
    fix: `Restore npmMinimalAgeGate (Yarn's default is 1d), or keep the policy's minReleaseAge. ${REVIEW}`,
  },
  'yarnrc-git-repositories-widened': {
    summary: 'approvedGitRepositories lets Yarn clone more git repositories (and run their pack scripts).',
    fix: `Name the exact repositories instead of a glob such as "**". ${REVIEW}`,
  },
  'yarnrc-checksum-behavior': {
    summary: 'checksumBehavior is no longer throw: Yarn accepts archives that do not match yarn.lock.',
    fix: 'Remove checksumBehavior (the default is throw).',
  },
  'yarnrc-mode-override': {
    summary: 'tollgateMode in .yarnrc.yml overrides every mode of the policy with a lower one.',
    fix: 'Remove tollgateMode from .yarnrc.yml; lower a mode in the policy, per rule, where it is reviewed.',
  },
  'yarnrc-plugin-removed': {
    summary:
      'The Tollgate plugin or tollgatePolicyPath was removed from .yarnrc.yml: installs are unguarded.',
    fix: 'Restore the plugins entry and tollgatePolicyPath.',
  },
  'yarnrc-plugin-changed': {
    summary:
      'The Tollgate plugin bundle changed (another file or checksum): that is code every Yarn command runs.',
    fix: 'Check the new bundle against a signed release (`yarn tollgate verify-release <file> --issuer … --identity …`) before merging; `yarn tollgate doctor` says whether it still matches the checksum .yarnrc.yml records.',
  },
  'yarnrc-policy-path-changed': {
    summary: 'tollgatePolicyPath points at another policy file.',
    fix: 'Keep the reviewed policy file, or diff the new one against it.',
  },
  'yarnrc-yarn-path-changed': {
    summary: 'yarnPath changed: another Yarn release (code) runs every command, before any plugin.',
    fix: 'Check the new release file against its published checksum.',
  },
  'yarnrc-tollgate-setting': {
    summary:
      'A Tollgate setting in .yarnrc.yml weakens checks (tollgateOffline, tollgateEvidenceFile, tollgateCacheFolder).',
    fix: `Restore the setting. ${REVIEW}`,
  },
  'yarnrc-plugin-added': {
    summary:
      'Another Yarn plugin was added or changed in .yarnrc.yml: its code runs inside every Yarn command, with the power to undo the gate.',
    fix: `Check the plugin's source and checksum like code you merge. ${REVIEW}`,
  },
  'yarnrc-registry-changed': {
    summary:
      'A registry in .yarnrc.yml changed (npmRegistryServer, a scope or a registry entry): packages now come from another server, the dependency-confusion route.',
    fix: `Bind the affected packages to their registry in the policy (rules[].registries) and review the new URL. ${REVIEW}`,
  },
  'yarnrc-tls-weakened': {
    summary:
      "Yarn's connection security was weakened (enableStrictSsl: false, a new CA file, a plain-http host allowed, a proxy): a network attacker can answer for the registry.",
    fix: `Restore the TLS settings; an internal CA belongs in caFilePath only after review. ${REVIEW}`,
  },
  'policy-tightened': {
    summary: 'Protection got stronger (listed for the record; never fails).',
    fix: 'Nothing to do.',
  },
};
