// Public API of the policy library. Pure: no Yarn, no network, no clock except the one passed in.

export { assessEvidence, type BundleAssessment, type EvidenceAssessment } from './assess';
export { type Claim, type ClaimSource, type ObservedIdentity, observeBundle } from './claims';
export {
  type AppliedException,
  type BundleSummary,
  type Decision,
  type DecisionPackage,
  INFO_CODES,
  type InfoCode,
  isTamperingCode,
  type PackageFacts,
  type Reason,
  TAMPERING_CODES,
  type TamperingCode,
  type TamperingFinding,
  type Verdict,
  VIOLATION_CODES,
  type ViolationCode,
  violations,
} from './decision';
export {
  type Diagnostic,
  formatDiagnostic,
  formatDiagnostics,
  formatLocation,
  type Severity,
  type SourceLocation,
} from './diagnostics';
export { diffPins, diffPolicies, type PolicyChange, type PolicyDiffInput } from './diff';
export {
  POLICY_CHANGE_CODES,
  POLICY_CHANGE_HELP,
  type PolicyChangeCode,
  RELAXATION_CODES,
  type RelaxationCode,
} from './diff-codes';
export { type EvaluationInput, evaluate, tamperingCodeOf } from './evaluate';
export { findException, unusedExceptions } from './exceptions';
export {
  type BaseResolver,
  describeLayers,
  extendsReferencesOf,
  loadPolicyTree,
  type Referrer,
  type ResolvedBase,
} from './extends';
export type { ExtendsReference, Permits, PolicyLayer } from './layers';
export { type LintOptions, lintPolicy } from './lint';
export { type LoadOptions, loadPolicy, type PolicyLoadResult } from './load';
export {
  DEFAULT_POLICY_FILE,
  EVIDENCE_LEVELS,
  type EvidenceLevel,
  evidenceRank,
  type Mode,
  type Policy,
  type PolicyException,
  PUBLIC_GOOD_TRUST_ROOT,
  type Rule,
  type ScriptAllowance,
  type ScriptsDefault,
  type ScriptsPolicy,
  type Signer,
  type SourceKind,
  type TrustRootDeclaration,
} from './model';
export {
  type ApprovalResult,
  applyPinUpdates,
  approvePinChange,
  checkContinuity,
  DEFAULT_PINS_FILE,
  emptyPins,
  loadPins,
  type PinApproval,
  type PinnedIdentity,
  type Pins,
  type PinsLoadResult,
  type PinUpdate,
  releaseLine,
  serializePins,
} from './pins';
export { allowedRegistries, isRegistryAllowed, type RegistryBinding } from './registry-binding';
export { normalizeRegistryUrl } from './registry-url';
export { type ReleaseTime, signedReleaseTime } from './release-age';
export {
  DECISION_JSON_FORMAT,
  remedyLines,
  renderDecisionJson,
  renderDecisionsText,
  renderDecisionText,
} from './render';
export { buildStepsOf, judgeScripts, NODE_GYP_BUILD, type ScriptsDecision } from './script-approval';
export { type RuleCandidate, type RuleRef, type RuleSelection, selectRule } from './select';
export {
  SIGNED_FILE_KINDS,
  SIGNED_FILE_PREDICATE_TYPES,
  type SignedFileKind,
  signedFileStatement,
  verifySignedFile,
} from './signed-file';

import type { Policy, TrustRootDeclaration } from './model';

/** Trust roots the caller must load (file paths relative to the policy file) and pass to the verifier. */
export function trustRootsToLoad(policy: Policy): TrustRootDeclaration[] {
  return policy.trustRoots.filter((root) => !root.builtin);
}

/** Every trust root some rule or the defaults accept evidence from. */
export function referencedTrustRoots(policy: Policy): string[] {
  const names = new Set<string>();
  for (const rule of [policy.defaults, ...policy.rules])
    for (const name of rule.requirements.trust) names.add(name);
  for (const allowance of policy.scripts.allow) for (const name of allowance.trust ?? []) names.add(name);
  return [...names].sort();
}
