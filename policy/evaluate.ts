// Evaluation: (policy, package facts, verified evidence, pins, now) -> Decision. Pure: no I/O, and the
// only clock is `now`. Every check runs and records its reasons; the mode then turns violations into
// deny (enforce), warn (warn) or nothing (off).
import { assessEvidence, type EvidenceAssessment, pinnedIdentityOf } from './assess';
import { CLAIM_FIELDS } from './claims';
import type {
  AppliedException,
  BundleSummary,
  Decision,
  DecisionPackage,
  ObservedIdentitySummary,
  PackageFacts,
  Reason,
} from './decision';
import { isTamperingCode, type TamperingCode, violations } from './decision';
import type { EvidenceFailure, VerifiedEvidence } from './evidence/types';
import { findException, waives } from './exceptions';
import { checkLinkNames } from './link-names';
import { evidenceRank, type Mode, type Policy, type Rule } from './model';
import { checkContinuity, emptyPins, type Pins } from './pins';
import { allowedRegistries, isRegistryAllowed } from './registry-binding';
import { normalizeRegistryOrUndefined } from './registry-url';
import { checkReleaseAge } from './release-age';
import { findScriptAllowance, isFetchScriptSource } from './script-allowance';
import { judgeScripts } from './script-approval';
import { bestSelector, ruleRef, selectRule } from './select';
import { exceptionSnippet } from './snippet';

export interface EvaluationInput {
  policy: Policy;
  package: PackageFacts;
  /** Verified evidence for the judged package (the base of a patch); absent when none was found. */
  evidence?: VerifiedEvidence;
  /** The pins file; absent means no pins yet (every identity is a first use). */
  pins?: Pins;
  now: Date;
  /** A caller-side override (e.g. a .yarnrc.yml setting) that replaces every mode in the policy. */
  modeOverride?: Mode;
  /**
   * `prefetch`: only what needs no bytes (sources, scripts of sources, registry binding, the names a
   * package is linked under, lockfile tampering), so that the caller can refuse before anything is
   * downloaded, cloned or run. `full` (the default) adds evidence, continuity and release age.
   */
  stage?: 'prefetch' | 'full';
}

const MAX_PATCH_DEPTH = 8;

/** Evidence failure codes that mean bytes, archives or records are not what was published. */
const TAMPERING_BY_FAILURE: Readonly<Record<string, TamperingCode>> = {
  TARBALL_INTEGRITY_MISMATCH: 'tampered-tarball',
  LOCKFILE_CHECKSUM_MISMATCH: 'tampered-archive',
  ARCHIVE_MISMATCH: 'tampered-archive',
  PATCH_ARCHIVE_MISMATCH: 'tampered-archive',
  MANIFEST_MISMATCH: 'tampered-manifest',
  MANIFEST_UNREADABLE: 'tampered-manifest',
  EVIDENCE_RECORD_MISMATCH: 'tampered-evidence-file',
  LOCKFILE_RESOLUTION_MISMATCH: 'tampered-lockfile',
};

/** The tampered-* violation an evidence failure code stands for, if it is one. */
export function tamperingCodeOf(failureCode: string): TamperingCode | undefined {
  return TAMPERING_BY_FAILURE[failureCode];
}

/**
 * Failures that say evidence could not be obtained or tied to the bytes (a source down, offline without
 * a record, a tarball not in the cache): reported as what they are, never as evidence that failed.
 */
const UNAVAILABLE_FAILURES = new Set([
  'EVIDENCE_UNAVAILABLE',
  'TARBALL_UNBOUND',
  'TARBALL_REQUIRED',
  'INTEGRITY_MISSING',
  'EVIDENCE_RECORD_MISSING_BUNDLE',
]);

/** Failures for which no exception is suggested: a replayed bundle names other bytes. */
const NO_SNIPPET_FAILURES = new Set(['SUBJECT_MISMATCH']);

function describePackage(facts: PackageFacts): DecisionPackage {
  const out: DecisionPackage = { name: facts.name, version: facts.version, source: facts.source };
  if (facts.registry !== undefined) out.registry = facts.registry;
  if (facts.locator !== undefined) out.locator = facts.locator;
  return out;
}

export function evaluate(input: EvaluationInput): Decision {
  const { policy, now } = input;
  const reasons: Reason[] = [];
  let judged = input.package;
  for (let depth = 0; judged.source === 'patch' && judged.base && depth < MAX_PATCH_DEPTH; depth++) {
    reasons.push({
      code: 'patch-base',
      severity: 'info',
      message: `patch of ${judged.base.name}@${judged.base.version}: judged as its base package`,
    });
    judged = judged.base;
  }

  const selection = selectRule(policy, judged.name, judged.version);
  const rule = selection.rule;
  const { mode, modeFrom } = effectiveMode(policy, rule, input.modeOverride);
  const requirements = rule.requirements;
  const selector = rule.index >= 0 ? bestSelector(rule, judged.name)?.pattern : undefined;
  const decision: Decision = {
    package: describePackage(input.package),
    judged: describePackage(judged),
    verdict: 'allow',
    mode,
    modeFrom,
    rule: selector === undefined ? ruleRef(rule) : { ...ruleRef(rule), selector },
    precedence: selection.precedence,
    candidates: selection.candidates,
    requirements: {
      require: requirements.require,
      trust: requirements.trust,
      sources: requirements.sources,
      signers: requirements.signers === 'any' ? 'any' : requirements.signers.length,
      continuity: requirements.continuity,
      ...(requirements.continuity ? { continuityScope: requirements.continuityScope } : {}),
      ...(requirements.minReleaseAge
        ? {
            minReleaseAge: requirements.minReleaseAge.text,
            unsignedTimeFallback: requirements.unsignedTimeFallback,
          }
        : {}),
    },
    evidence: { observed: 'none', satisfied: 'none', registrySignatures: 0, bundles: [] },
    reasons,
    pinUpdates: [],
  };

  if (judged.source === 'workspace') {
    reasons.push({
      code: 'workspace',
      severity: 'info',
      message: 'a workspace of this project: always allowed',
    });
    return decision;
  }
  if (judged.source === 'patch') {
    reasons.push({
      code: 'source-not-allowed',
      severity: 'violation',
      message: 'a patch whose base package is unknown cannot be judged',
      expected: 'the base package of the patch',
      actual: judged.locator ?? `${judged.name}@${judged.version}`,
    });
  } else if (!(requirements.sources as string[]).includes(judged.source)) {
    reasons.push({
      code: 'source-not-allowed',
      severity: 'violation',
      message: `${judged.source} sources are not allowed by ${rule.id}`,
      expected: `one of ${requirements.sources.join(', ')}`,
      actual: judged.source,
    });
  } else if (isFetchScriptSource(judged.source)) {
    const allowance = findScriptAllowance(policy, judged.name, judged.source, judged.sourceUrl);
    if (allowance) {
      reasons.push({
        code: 'source-scripts-allowed',
        severity: 'info',
        message: `scripts.allow[${allowance.index}] lets its ${judged.source === 'git' ? 'repository code run when Yarn packs it' : 'exec: script run'}: ${allowance.reason}`,
      });
    } else {
      reasons.push({
        code: 'source-scripts-not-allowed',
        severity: 'violation',
        message:
          judged.source === 'git'
            ? "fetching a git dependency runs its repository's code (Yarn packs it with its own prepare/prepack scripts and .yarnrc.yml), and no scripts.allow entry allows that"
            : 'an exec: dependency is a script that runs when Yarn fetches it, and no scripts.allow entry allows that',
        expected: `scripts.allow: [{ package: ${judged.name}, source: ${judged.source}${judged.source === 'git' ? ', repository: ...' : ''}, reason: ... }]`,
        actual: judged.sourceUrl ?? judged.locator ?? judged.source,
      });
    }
  }

  checkRegistryBinding(policy, judged, decision);
  checkLinkNames(policy, input.package, judged, decision);
  const findings = new Set([...(input.package.tampering ?? []), ...(judged.tampering ?? [])]);
  for (const finding of findings) {
    reasons.push({
      code: finding.code,
      severity: 'violation',
      message: finding.message,
      evidence: finding.source,
      ...(finding.expected !== undefined ? { expected: finding.expected } : {}),
      ...(finding.actual !== undefined ? { actual: finding.actual } : {}),
    });
  }

  if (input.stage === 'prefetch') return finish(input, judged, decision, mode, modeFrom);

  const pkg = { name: judged.name, version: judged.version };
  const assessment = assessEvidence(input.evidence, requirements, pkg);
  summarizeEvidence(assessment, decision);
  checkEvidence(input.evidence, assessment, rule, judged, decision);

  if (requirements.continuity && judged.source === 'npm') {
    const identity = assessment.primary ? pinnedIdentityOf(assessment.primary.identity) : undefined;
    const continuity = checkContinuity(
      input.pins ?? emptyPins(),
      judged.name,
      judged.version,
      assessment.observed,
      identity,
      requirements.continuityScope,
    );
    for (const violation of continuity.violations) {
      reasons.push({
        code: violation.code,
        severity: 'violation',
        message: violation.message,
        expected: violation.expected,
        actual: violation.actual,
      });
    }
    if (continuity.violations.length && continuity.line !== undefined) {
      const approval: NonNullable<Decision['approval']> = { package: judged.name, version: judged.version };
      if (continuity.violations.some((v) => v.code === 'identity-changed') && identity)
        approval.signer = identity;
      if (continuity.violations.some((v) => v.code === 'evidence-downgrade'))
        approval.evidence = assessment.observed;
      decision.approval = approval;
    }
    decision.pinUpdates = continuity.updates;
  }

  if (requirements.minReleaseAge) {
    const age = checkReleaseAge(
      assessment.bundles,
      judged.publishedAt,
      requirements.minReleaseAge,
      requirements.unsignedTimeFallback,
      now,
    );
    if (age.time) {
      decision.releaseTime = age.time;
      if (!age.time.signed) {
        reasons.push({
          code: 'release-time-unsigned',
          severity: 'info',
          message:
            'release age from the registry publish time, which is UNSIGNED (no transparency-log time available)',
          actual: age.time.at,
        });
      }
    }
    if (age.violation) reasons.push({ severity: 'violation', ...age.violation });
  }

  checkKnownBad(input.package, judged, decision);
  const finished = finish(input, judged, decision, mode, modeFrom);
  finished.scripts = judgeScripts({
    policy,
    package: input.package,
    judged,
    bundles: assessment.bundles,
    ruleTrust: requirements.trust,
    verdict: finished.verdict,
    satisfied: assessment.satisfied,
    ...(input.modeOverride ? { modeOverride: input.modeOverride } : {}),
  });
  return finished;
}

/** Known-bad records naming the release, and known-bad sources that could not be consulted for it. */
function checkKnownBad(pkg: PackageFacts, judged: PackageFacts, decision: Decision) {
  const levels = judged === pkg ? [pkg] : [pkg, judged];
  const seen = new Set<string>();
  for (const match of levels.flatMap((f) => f.knownBad ?? [])) {
    const key = `${match.id}\0${match.by}\0${match.source}`;
    if (seen.has(key)) continue;
    seen.add(key);
    decision.reasons.push({
      code: 'known-bad',
      severity: 'violation',
      message: `${match.id}${match.summary ? `: ${match.summary}` : ''}${match.link ? ` (${match.link})` : ''}`,
      expected: 'a release no known-bad record names',
      actual: match.detail,
      evidence: match.source,
    });
  }
  for (const gap of levels.flatMap((f) => f.knownBadUnchecked ?? [])) {
    const key = `${gap.code}\0${gap.source}`;
    if (seen.has(key)) continue;
    seen.add(key);
    decision.reasons.push({
      code: 'known-bad-unchecked',
      severity: 'violation',
      message: `the known-bad sources could not be consulted (${gap.code}): ${gap.message}`,
      evidence: gap.source,
      failure: gap.code,
    });
  }
}

/** Exceptions, then the verdict the mode gives the remaining violations. */
function finish(
  input: EvaluationInput,
  judged: PackageFacts,
  decision: Decision,
  mode: Mode,
  modeFrom: Decision['modeFrom'],
): Decision {
  const { policy, now } = input;
  const reasons = decision.reasons;
  // Before any bytes, only what needs none can deny: an expired exception waives nothing either way,
  // and is reported with the full decision.
  applyException(
    policy,
    judged,
    decision,
    now,
    input.stage !== 'prefetch',
    judged.integrity ?? input.package.integrity,
  );

  const remaining = violations(decision);
  if (mode === 'off') {
    reasons.push({
      code: 'mode-off',
      severity: 'info',
      message: `mode is off (${modeFrom}): nothing is enforced`,
    });
    decision.verdict = 'allow';
    decision.pinUpdates = [];
  } else if (remaining.length) {
    // Warn mode reports policy violations without blocking; bytes that are not what was published
    // are blocked in any mode that checks at all, as Yarn itself refuses a checksum mismatch.
    const tampered = remaining.some((r) => isTamperingCode(r.code));
    // Code a known-bad record names is not installed in warn mode either: warn mode rolls a policy
    // out without breaking builds, it is not a way to run known malware.
    const knownBad = remaining.some((r) => r.code === 'known-bad');
    decision.verdict = mode === 'enforce' || tampered || knownBad ? 'deny' : 'warn';
    decision.pinUpdates = [];
    // Bytes that do not match what was published and signed are never a policy question: offering a
    // waiver would teach people to accept a swapped tarball or archive (and none would work).
    if (!tampered && !input.evidence?.failures.some((f) => NO_SNIPPET_FAILURES.has(f.code))) {
      // A source Yarn has not read yet has no version to pin an exception to.
      const versions = judged.source !== 'npm' && judged.version === '0.0.0' ? '*' : judged.version;
      const snippet = exceptionSnippet(
        judged.name,
        versions,
        remaining,
        now,
        judged.integrity ?? input.package.integrity,
      );
      if (snippet) decision.exceptionSnippet = snippet;
    }
  }
  for (const update of decision.pinUpdates) {
    reasons.push({
      code: update.kind === 'first-use' ? 'pin-first-use' : 'pin-evidence-upgrade',
      severity: 'info',
      message:
        update.kind === 'first-use'
          ? `first use of release line ${update.line}: pinning ${update.signer ? 'the signer identity' : ''}${update.signer && update.evidence ? ' and ' : ''}${update.evidence ? `evidence level ${update.evidence}` : ''}`
          : `evidence for release line ${update.line} rose to ${update.evidence}: pinning it`,
    });
  }
  return decision;
}

function effectiveMode(
  policy: Policy,
  rule: Rule,
  override: Mode | undefined,
): { mode: Mode; modeFrom: Decision['modeFrom'] } {
  if (override) return { mode: override, modeFrom: 'override' };
  if (rule.mode) return { mode: rule.mode, modeFrom: 'rule' };
  return { mode: policy.mode, modeFrom: 'policy' };
}

function checkRegistryBinding(policy: Policy, judged: PackageFacts, decision: Decision) {
  const binding = allowedRegistries(policy, judged.name);
  if (!binding) return;
  const actual = judged.source === 'npm' ? normalizeRegistryOrUndefined(judged.registry) : undefined;
  const tarballOrigin = judged.tarballUrl ? originOf(judged.tarballUrl) : undefined;
  const tarballAllowed =
    judged.tarballUrl === undefined ||
    (tarballOrigin !== undefined && binding.registries.some((r) => originOf(r) === tarballOrigin));
  const allowed = judged.source === 'npm' && isRegistryAllowed(binding, judged.registry) && tarballAllowed;
  decision.registryBinding = { ...binding, allowed, ...(actual ? { actual } : {}) };
  if (allowed) return;
  if (judged.source === 'npm' && isRegistryAllowed(binding, judged.registry)) {
    decision.reasons.push({
      code: 'registry-not-allowed',
      severity: 'violation',
      message: `${judged.name} is protected by ${binding.rule.id}, and its registry is allowed, but its tarball is fetched from another origin (${tarballOrigin ?? 'an unparsable URL'})`,
      expected: `a tarball URL on ${binding.registries.map((r) => originOf(r)).join(', ')}`,
      actual: judged.tarballUrl!,
    });
    return;
  }
  const expected = `one of ${binding.registries.join(', ')} (${binding.rule.id}, ${binding.rule.location.file}:${binding.rule.location.line})`;
  if (judged.source === 'npm' && judged.registry === undefined) {
    decision.reasons.push({
      code: 'registry-unknown',
      severity: 'violation',
      message: `${judged.name} is bound to registries, but the registry it came from is unknown`,
      expected,
      actual: 'unknown registry',
    });
    return;
  }
  decision.reasons.push({
    code: 'registry-not-allowed',
    severity: 'violation',
    message:
      judged.source === 'npm'
        ? `${judged.name} is protected by ${binding.rule.id} but came from another registry (dependency confusion)`
        : `${judged.name} is protected by ${binding.rule.id} but came from a ${judged.source} source`,
    expected,
    actual:
      judged.source === 'npm'
        ? (actual ?? String(judged.registry))
        : `${judged.source}: ${judged.locator ?? ''}`.trim(),
  });
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function summarizeEvidence(assessment: EvidenceAssessment, decision: Decision) {
  decision.evidence = {
    observed: assessment.observed,
    satisfied: assessment.satisfied,
    registrySignatures: assessment.verifiedRegistrySignatures,
    bundles: assessment.bundles.map((b) => {
      const summary: BundleSummary = {
        kind: b.bundle.kind,
        source: b.bundle.source,
        trustRoot: b.bundle.trustRoot,
        trusted: b.trusted,
        satisfies: b.satisfies,
      };
      if (b.bundle.signer) summary.signer = `${b.bundle.signer.subject} (${b.bundle.signer.issuer})`;
      if (b.bundle.integratedTime !== undefined)
        summary.integratedTime = new Date(b.bundle.integratedTime * 1000).toISOString();
      return summary;
    }),
  };
  const primary = assessment.primary;
  if (primary) {
    const identity: ObservedIdentitySummary = { claims: {}, evidence: primary.bundle.source };
    if (primary.identity.issuer !== undefined) identity.issuer = primary.identity.issuer;
    if (primary.identity.subject !== undefined) identity.subject = primary.identity.subject;
    for (const field of [...CLAIM_FIELDS, 'builder'] as const) {
      const claim = primary.identity[field];
      if (claim) identity.claims[field] = claim;
    }
    decision.identity = identity;
  }
}

function checkEvidence(
  evidence: VerifiedEvidence | undefined,
  assessment: EvidenceAssessment,
  rule: Rule,
  judged: PackageFacts,
  decision: Decision,
) {
  const { reasons } = decision;
  const requirements = rule.requirements;
  if (evidence && (evidence.package.name !== judged.name || evidence.package.version !== judged.version)) {
    reasons.push({
      code: 'evidence-invalid',
      severity: 'violation',
      message: 'the evidence is for another package',
      expected: `${judged.name}@${judged.version}`,
      actual: `${evidence.package.name}@${evidence.package.version}`,
    });
  }
  const seen = new Set<string>();
  for (const failure of evidence?.failures ?? []) {
    const tampering = tamperingCodeOf(failure.code);
    const key = `${tampering ?? 'evidence-invalid'}\0${failure.code}\0${failure.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    reasons.push(failureReason(failure, tampering));
  }
  for (const b of assessment.bundles) {
    for (const conflict of b.conflicts) {
      if (!b.trusted) continue;
      reasons.push({
        code: 'provenance-mismatch',
        severity: 'violation',
        message: `the provenance's ${conflict.field} contradicts the signing certificate`,
        expected: `${conflict.certificate} (certificate)`,
        actual: `${conflict.provenance} (provenance)`,
        evidence: b.bundle.source,
      });
    }
  }
  // Listed signers are the only identities allowed to sign the package: a trusted signature by
  // anyone else is a violation whatever level is required.
  const mismatched = assessment.bundles.filter((b) => b.trusted && b.signerMatch && !b.signerMatch.ok);
  for (const b of mismatched) {
    const failed = b.signerMatch!.checks.filter((c) => !c.ok);
    reasons.push({
      code: 'signer-mismatch',
      severity: 'violation',
      message: `signed by an identity ${rule.id} does not list (closest: signers[${b.signerMatch!.signerIndex}], differs in ${failed.map((c) => c.field).join(', ')})`,
      expected: failed.map((c) => `${c.field}=${c.expected}`).join(' '),
      actual: failed.map((c) => `${c.field}=${c.actual ?? '(absent)'}`).join(' '),
      checks: b.signerMatch!.checks,
      evidence: b.bundle.source,
    });
  }
  const untrusted = assessment.bundles.filter((b) => !b.trusted);
  const required = requirements.require;
  const short = evidenceRank(assessment.satisfied) < evidenceRank(required);
  if (untrusted.length) {
    reasons.push({
      code:
        short && assessment.satisfied === 'none' ? 'trust-root-not-allowed' : 'untrusted-evidence-ignored',
      severity: short && assessment.satisfied === 'none' ? 'violation' : 'info',
      message: `evidence verified by a trust root ${rule.id} does not allow was ignored`,
      expected: `trust roots ${requirements.trust.join(', ')}`,
      actual: [...new Set(untrusted.map((b) => b.bundle.trustRoot))].join(', '),
      evidence: untrusted.map((b) => b.bundle.source).join(', '),
    });
  }
  if (!short || mismatched.length || (untrusted.length && assessment.satisfied === 'none')) return;
  const nothing = assessment.observed === 'none' && assessment.verifiedRegistrySignatures === 0;
  reasons.push({
    code: nothing ? 'evidence-missing' : 'evidence-insufficient',
    severity: 'violation',
    message: nothing
      ? `${rule.id} requires ${required}, and no verified evidence was found${judged.source !== 'npm' ? ` (a ${judged.source} source carries none)` : ''}`
      : `${rule.id} requires ${required}; the evidence proves only ${assessment.satisfied}`,
    expected: required,
    actual: assessment.satisfied,
  });
}

function failureReason(failure: EvidenceFailure, tampering: TamperingCode | undefined): Reason {
  if (tampering) {
    return {
      code: tampering,
      severity: 'violation',
      message: `tampering (${failure.code}): ${failure.message}`,
      evidence: failure.source,
      failure: failure.code,
    };
  }
  if (UNAVAILABLE_FAILURES.has(failure.code)) {
    return {
      code: 'evidence-unavailable',
      severity: 'violation',
      message: `evidence could not be checked (${failure.code}): ${failure.message}`,
      evidence: failure.source,
      failure: failure.code,
    };
  }
  return {
    code: 'evidence-invalid',
    severity: 'violation',
    message: `evidence did not verify (${failure.code}): ${failure.message}`,
    evidence: failure.source,
    failure: failure.code,
  };
}

function applyException(
  policy: Policy,
  judged: PackageFacts,
  decision: Decision,
  now: Date,
  reportExpired: boolean,
  integrity: string | undefined,
) {
  const found = findException(policy, judged.name, judged.version, now, integrity);
  if (!found) return;
  const { exception, expired } = found;
  if (expired && !reportExpired) return;
  const applied: AppliedException = {
    index: exception.index,
    location: exception.location,
    reason: exception.reason,
    expires: exception.expires,
    expired,
    waived: [],
  };
  if (exception.ticket !== undefined) applied.ticket = exception.ticket;
  decision.exception = applied;
  if (expired) {
    decision.reasons.push({
      code: 'exception-expired',
      severity: 'violation',
      message: `the exception for ${exception.package.pattern} expired on ${exception.expires}; renew it with a new reason or fix the package`,
      expected: `expires after ${now.toISOString().slice(0, 10)}`,
      actual: exception.expires,
    });
    return;
  }
  for (const reason of decision.reasons) {
    if (reason.severity !== 'violation' || !waives(exception, reason.code)) continue;
    reason.waivedBy = { exception: exception.index, location: exception.location };
    applied.waived.push(reason.code);
  }
  if (applied.waived.length) {
    decision.reasons.push({
      code: 'exception-applied',
      severity: 'info',
      message: `exceptions[${exception.index}] waived ${[...new Set(applied.waived)].join(', ')}: ${exception.reason}${exception.ticket ? ` (${exception.ticket})` : ''}, until ${exception.expires}`,
    });
  }
}
