// The outcome of evaluating one package: plain data (JSON-safe) so that the plugin, the audit command
// and explanations all render the same facts.
import type { ClaimSource } from './claims';
import type { SourceLocation } from './diagnostics';
import type { BundleKind } from './evidence/types';
import type { EvidenceLevel, Mode, SourceKind } from './model';
import type { PinApproval, PinUpdate } from './pins';
import type { RegistryBinding } from './registry-binding';
import type { ReleaseTime } from './release-age';
import type { ScriptsDecision } from './script-approval';
import type { RuleCandidate, RuleRef } from './select';
import type { FieldCheck } from './signer-match';

/**
 * The tampering family: bytes, archives, manifests or lockfile entries that are not what was published.
 * Never a policy question, so no exception waives them (with or without `waive:`).
 */
export const TAMPERING_CODES = [
  'tampered-tarball',
  'tampered-archive',
  'tampered-manifest',
  'tampered-lockfile',
  'tampered-evidence-file',
] as const;
export type TamperingCode = (typeof TAMPERING_CODES)[number];

export function isTamperingCode(code: string): code is TamperingCode {
  return (TAMPERING_CODES as readonly string[]).includes(code);
}

/** Violation codes: stable, and (except the tampering family) the vocabulary of exceptions' `waive`. */
export const VIOLATION_CODES = [
  'source-not-allowed',
  'source-scripts-not-allowed',
  'registry-not-allowed',
  'registry-unknown',
  'alias-of-protected-name',
  'evidence-invalid',
  'evidence-unavailable',
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
  'known-bad',
  'known-bad-unchecked',
  ...TAMPERING_CODES,
] as const;
export type ViolationCode = (typeof VIOLATION_CODES)[number];

export const INFO_CODES = [
  'workspace',
  'patch-base',
  'source-scripts-allowed',
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
  /** The evidence failure code behind an evidence-* or tampered-* reason (e.g. EVIDENCE_UNAVAILABLE). */
  failure?: string;
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
  /**
   * The packument's publish time for this version, fetched from the registry in this run (never read
   * from a committed file or an earlier record): unsigned, used only as a labelled fallback.
   */
  publishedAt?: Date;
  /** Yarn locator or other display form */
  locator?: string;
  /**
   * The names code imports this package by (the dependency names of every descriptor that resolves to
   * it), when any differs from its own: npm aliases, `resolutions`, patches declared under another name.
   */
  linkNames?: string[];
  /** git, http, exec: where the source comes from (the repository URL, the archive URL, the script) */
  sourceUrl?: string;
  /** npm: the tarball URL Yarn fetches when it is not the registry's conventional path (__archiveUrl) */
  tarballUrl?: string;
  /** Evidence of tampering found before or without any signature: altered lockfile entries, archives. */
  tampering?: TamperingFinding[];
  /** npm: the sha512 SRI of the tarball bound to what gets installed (exceptions may name it) */
  integrity?: string;
  /** Records of the known-bad database (and the verdict service) that name this release. */
  knownBad?: KnownBadMatch[];
  /** Why the known-bad sources could not be consulted for it (a stale database, a verdict service down). */
  knownBadUnchecked?: KnownBadGap[];
  /**
   * What Yarn would run to build it, read from the archive it links: lifecycle scripts and `node-gyp
   * rebuild` (see buildStepsOf); absent when the archive was not read.
   */
  buildSteps?: string[];
}

/** A known-bad record (OSV, the project's list, a signed snapshot, a verdict service) that names a release. */
export interface KnownBadMatch {
  /** the record id, e.g. MAL-2025-47141 or the list entry's id */
  id: string;
  summary?: string;
  /** where to read about it */
  link?: string;
  /** what matched: a version (or range), the tarball digest, a bundle digest, a compromised signer */
  by: 'version' | 'digest' | 'bundle' | 'signer';
  /** what about the release matched, e.g. "version 4.1.1 in SEMVER introduced 0" */
  detail: string;
  /** where the record comes from: the database source, the list file with its location, the service */
  source: string;
  aliases?: string[];
}

/** A known-bad source that could not be consulted; a `known-bad-unchecked` violation. */
export interface KnownBadGap {
  /** DATABASE_STALE, DATABASE_ABSENT, VERDICT_UNAVAILABLE, VERDICT_UNVERIFIED */
  code: string;
  message: string;
  source: string;
}

/** A tampering finding of the caller's (the lockfile, an archive): its code maps to a tampered-* violation. */
export interface TamperingFinding {
  code: TamperingCode;
  message: string;
  /** the file or URL that holds the altered data */
  source: string;
  expected?: string;
  actual?: string;
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
    /** with minReleaseAge: whether the registry's unsigned publish time may stand in for a signed one */
    unsignedTimeFallback?: boolean;
    continuity: boolean;
    continuityScope?: 'package' | 'release-line';
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
  /** Whether its build (lifecycle scripts, node-gyp) may run; absent for workspaces and before any bytes. */
  scripts?: ScriptsDecision;
}

export function violations(decision: Pick<Decision, 'reasons'>): Reason[] {
  return decision.reasons.filter((r) => r.severity === 'violation' && !r.waivedBy);
}
