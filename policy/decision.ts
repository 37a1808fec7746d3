// The outcome of evaluating one package: plain data (JSON-safe) so that the plugin, the audit command
// and explanations all render the same facts.
import type { ClaimSource } from './claims';
import type { SourceLocation } from './diagnostics';
import type { BundleKind } from './evidence/types';
import type { EvidenceLevel, Mode, SourceKind } from './model';
import type { PinApproval, PinUpdate } from './pins';
import type { RegistryBinding } from './registry-binding';
import type { ReleaseTime } from './release-age';
import type { RuleCandidate, RuleRef } from './select';
import type { FieldCheck } from './signer-match';

/** Violation codes: stable, and the vocabulary of exceptions' `waive`. */
export const VIOLATION_CODES = [
  'source-not-allowed',
  'registry-not-allowed',
  'registry-unknown',
  'evidence-invalid',
  'evidence-missing',
  'evidence-insufficient',
  'trust-root-not-allowed',
  'signer-mismatch',
  'provenance-mismatch',
  'identity-changed',
  'evidence-downgrade',
  'release-too-new',
  'release-age-unknown',
  'exception-expired',
] as const;
export type ViolationCode = (typeof VIOLATION_CODES)[number];

export const INFO_CODES = [
  'workspace',
  'patch-base',
  'mode-off',
  'untrusted-evidence-ignored',
  'release-time-unsigned',
  'exception-applied',
  'pin-first-use',
  'pin-evidence-upgrade',
] as const;
export type InfoCode = (typeof INFO_CODES)[number];

export type Verdict = 'allow' | 'warn' | 'deny';

export interface Reason {
  code: ViolationCode | InfoCode;
  severity: 'violation' | 'info';
  message: string;
  expected?: string;
  actual?: string;
  /** Field-by-field identity comparison (signer-mismatch). */
  checks?: FieldCheck[];
  /** The evidence the reason is about (a bundle source). */
  evidence?: string;
  /** Set when an exception waived this violation. */
  waivedBy?: { exception: number; location: SourceLocation };
}

/** Facts the caller knows about the package, before evidence. */
export interface PackageFacts {
  name: string;
  version: string;
  source: SourceKind;
  /** npm: the registry URL the package was (or will be) fetched from */
  registry?: string;
  /** patch: the package the patch applies to (it is what gets judged) */
  base?: PackageFacts;
  /** the packument's publish time for this version: unsigned, used only as a labelled fallback */
  publishedAt?: Date;
  /** Yarn locator or other display form */
  locator?: string;
}

export interface DecisionPackage {
  name: string;
  version: string;
  source: SourceKind;
  registry?: string;
  locator?: string;
}

export interface BundleSummary {
  kind: BundleKind;
  source: string;
  trustRoot: string;
  trusted: boolean;
  /** the level it proves for the deciding rule */
  satisfies: EvidenceLevel;
  signer?: string;
  integratedTime?: string;
}

export interface ObservedIdentitySummary {
  issuer?: string;
  subject?: string;
  claims: Record<string, { value: string; from: ClaimSource }>;
  /** the bundle the identity was read from */
  evidence: string;
}

export interface AppliedException {
  index: number;
  location: SourceLocation;
  reason: string;
  expires: string;
  ticket?: string;
  expired: boolean;
  waived: string[];
}

export interface Decision {
  package: DecisionPackage;
  /** for a patch, the base package that was judged */
  judged: DecisionPackage;
  verdict: Verdict;
  mode: Mode;
  modeFrom: 'policy' | 'rule' | 'override';
  rule: RuleRef & { selector?: string };
  precedence: string;
  candidates: RuleCandidate[];
  registryBinding?: RegistryBinding & { allowed: boolean; actual?: string };
  requirements: {
    require: EvidenceLevel;
    trust: string[];
    sources: string[];
    signers: 'any' | number;
    minReleaseAge?: string;
    continuity: boolean;
  };
  evidence: {
    observed: EvidenceLevel;
    satisfied: EvidenceLevel;
    registrySignatures: number;
    bundles: BundleSummary[];
  };
  identity?: ObservedIdentitySummary;
  releaseTime?: ReleaseTime;
  reasons: Reason[];
  exception?: AppliedException;
  pinUpdates: PinUpdate[];
  /** What `approve` would record to accept an identity change or downgrade (reason and time to be added). */
  approval?: Omit<PinApproval, 'reason' | 'at' | 'by'>;
  /** YAML to paste under `exceptions:` for a denial or warning. */
  exceptionSnippet?: string;
}

export function violations(decision: Pick<Decision, 'reasons'>): Reason[] {
  return decision.reasons.filter((r) => r.severity === 'violation' && !r.waivedBy);
}
