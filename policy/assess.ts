// What the verified evidence proves under one rule: which bundles count (their trust root is allowed,
// their signer is listed), the evidence level observed and the level satisfied.
import { type ClaimConflict, type ObservedIdentity, observeBundle } from './claims';
import type { BundleKind, VerifiedBundle, VerifiedEvidence } from './evidence/types';
import { type EvidenceLevel, evidenceRank, type Requirements } from './model';
import { completeIdentity, type PinnedIdentity } from './pins';
import { bestSignerMatch, type PackageCoordinates, type SignerMatch } from './signer-match';

export interface BundleAssessment {
  bundle: VerifiedBundle;
  /** its trust root is one the rule allows */
  trusted: boolean;
  identity: ObservedIdentity;
  conflicts: ClaimConflict[];
  /** against the rule's signers, when it lists them and the bundle has a signer */
  signerMatch?: SignerMatch;
  /** what the bundle proves, whoever signed it (trusted bundles only) */
  observed: EvidenceLevel;
  /** what it proves for this rule (listed signer, consistent claims) */
  satisfies: EvidenceLevel;
}

export interface EvidenceAssessment {
  bundles: BundleAssessment[];
  verifiedRegistrySignatures: number;
  observed: EvidenceLevel;
  satisfied: EvidenceLevel;
  /** the bundle whose signer speaks for the package (provenance first), for identity and pins */
  primary?: BundleAssessment;
}

const KIND_LEVEL: Record<BundleKind, EvidenceLevel> = {
  'publish-attestation': 'registry-signature',
  signature: 'signature',
  provenance: 'provenance',
};

function max(a: EvidenceLevel, b: EvidenceLevel): EvidenceLevel {
  return evidenceRank(a) >= evidenceRank(b) ? a : b;
}

export function assessEvidence(
  evidence: VerifiedEvidence | undefined,
  requirements: Requirements,
  pkg: PackageCoordinates,
): EvidenceAssessment {
  const verifiedRegistrySignatures = evidence?.registrySignatures.filter((s) => s.verified).length ?? 0;
  let observed: EvidenceLevel = verifiedRegistrySignatures ? 'registry-signature' : 'none';
  let satisfied: EvidenceLevel = observed;
  const bundles = (evidence?.bundles ?? []).map((bundle): BundleAssessment => {
    const { identity, conflicts } = observeBundle(bundle);
    const trusted = requirements.trust.includes(bundle.trustRoot);
    const assessment: BundleAssessment = {
      bundle,
      trusted,
      identity,
      conflicts,
      observed: 'none',
      satisfies: 'none',
    };
    if (!trusted) return assessment;
    let level = KIND_LEVEL[bundle.kind];
    // Keyless or key-signed: a bundle with neither proves nothing about who signed.
    if (level !== 'registry-signature' && !bundle.signer && !bundle.keyId) level = 'none';
    // A provenance statement that contradicts its own certificate is still a signature, not provenance.
    if (level === 'provenance' && conflicts.length) level = 'signature';
    assessment.observed = level;
    assessment.satisfies = level;
    if (level !== 'registry-signature' && level !== 'none' && requirements.signers !== 'any') {
      const match = bundle.signer ? bestSignerMatch(requirements.signers, identity, pkg) : undefined;
      if (match) assessment.signerMatch = match;
      if (!match?.ok) assessment.satisfies = 'none';
    }
    observed = max(observed, assessment.observed);
    satisfied = max(satisfied, assessment.satisfies);
    return assessment;
  });
  const signed = bundles.filter((b) => b.trusted && b.bundle.signer);
  const primary = signed.sort(
    (a, b) =>
      evidenceRank(b.satisfies) - evidenceRank(a.satisfies) ||
      evidenceRank(b.observed) - evidenceRank(a.observed),
  )[0];
  const result: EvidenceAssessment = { bundles, verifiedRegistrySignatures, observed, satisfied };
  if (primary) result.primary = primary;
  return result;
}

/**
 * The identity pinned for trust continuity: issuer, subject and every certificate claim. A CI subject
 * is pinned without the `@<ref>` it ends with, and a tag ref as `refs/tags/*`, so that a new release
 * tag is the same identity while another branch, ref kind, workflow, trigger or runner is not.
 */
export function pinnedIdentityOf(identity: ObservedIdentity): PinnedIdentity | undefined {
  if (identity.issuer === undefined) return undefined;
  const ref = identity.ref?.value;
  let subject = identity.subject ?? null;
  if (subject !== null && ref !== undefined && subject.endsWith(`@${ref}`)) {
    subject = subject.slice(0, -(ref.length + 1));
  }
  return completeIdentity({
    issuer: identity.issuer,
    subject,
    repository: identity.repository?.value ?? null,
    repositoryId: identity.repositoryId?.value ?? null,
    ownerId: identity.ownerId?.value ?? null,
    workflow: identity.workflow?.value ?? null,
    ref: ref === undefined ? null : ref.startsWith('refs/tags/') ? 'refs/tags/*' : ref,
    event: identity.event?.value ?? null,
    runner: identity.runner?.value ?? null,
  });
}
