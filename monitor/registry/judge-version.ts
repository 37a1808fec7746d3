// A new version of a watched package, judged as the install gate would judge it: its tarball bound
// to the registry's integrity, every attestation (registry and stores) verified with policy/evidence,
// and the result evaluated against the project's own policy (identity, workflow, ref <-> version,
// trigger, runner). What the gate would deny becomes a finding, classified for the publisher:
// unsigned, signed by another identity, or built by the right repository in an unexpected way.
import { createHash } from 'node:crypto';
import { type Decision, type Reason, violations } from '../../policy/decision';
import { formatLocation } from '../../policy/diagnostics';
import { evaluate } from '../../policy/evaluate';
import type { RegistrySignature } from '../../policy/evidence/npm/registry-signatures';
import type { TrustContext } from '../../policy/evidence/trust/context';
import type { EvidenceFailure } from '../../policy/evidence/types';
import { verifyPackageEvidence } from '../../policy/evidence/verify-package';
import type { Policy } from '../../policy/model';
import type { PackageConfig } from '../config/model';
import { describeError, SourceError } from '../errors';
import type { Finding, FindingKind } from '../findings';
import {
  attestationStoreUrl,
  type FetchedBundle,
  type Packument,
  type RegistryReader,
} from './registry-reader';

/** Violations about when a package may be installed, not about who made it: not a publisher's alarm. */
const TIMING_CODES = new Set(['release-too-new', 'release-age-unknown']);
/** Fields that identify who signed; the others say how the build ran. */
const IDENTITY_FIELDS = new Set(['issuer', 'subject', 'repository', 'repositoryId', 'ownerId']);

export interface VersionJudgement {
  finding?: Finding;
  decision?: Decision;
  /** every bundle found (verified or not), to name the subjects of log entries */
  bundles: FetchedBundle[];
  tarballSha256?: string;
  integrity?: string;
}

export interface JudgeContext {
  policy: Policy;
  trust: TrustContext;
  reader: RegistryReader;
  now: Date;
}

export async function fetchVersionBundles(
  reader: RegistryReader,
  pkg: PackageConfig,
  version: string,
  // biome-ignore lint/suspicious/noExplicitAny: a packument version document
  manifest: Record<string, any> | undefined,
  failures: EvidenceFailure[],
): Promise<FetchedBundle[]> {
  const urls: string[] = [];
  const registryUrl = manifest?.['dist']?.['attestations']?.['url'];
  if (typeof registryUrl === 'string') urls.push(registryUrl);
  for (const store of pkg.attestationStores) urls.push(attestationStoreUrl(store, pkg.name, version));
  const results = await Promise.allSettled(urls.map((url) => reader.attestations(url)));
  const bundles: FetchedBundle[] = [];
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') bundles.push(...result.value);
    else
      failures.push({
        code: 'EVIDENCE_UNAVAILABLE',
        message: describeError(result.reason),
        source: urls[i]!,
      });
  });
  return bundles;
}

function classify(decision: Decision): FindingKind {
  const found = violations(decision).filter((r) => !TIMING_CODES.has(r.code));
  const mismatch = found.find((r) => r.code === 'signer-mismatch');
  if (mismatch) {
    const failed = (mismatch.checks ?? []).filter((c) => !c.ok).map((c) => c.field);
    return failed.some((f) => IDENTITY_FIELDS.has(f)) ? 'version-other-identity' : 'version-unexpected-build';
  }
  if (found.some((r) => r.code === 'evidence-missing' || r.code === 'evidence-insufficient'))
    return 'version-unsigned';
  return 'version-policy-violation';
}

function describeReason(reason: Reason): string[] {
  const lines = [`${reason.code}: ${reason.message}`];
  if (reason.expected !== undefined) lines.push(`  expected: ${reason.expected}`);
  if (reason.actual !== undefined) lines.push(`  actual:   ${reason.actual}`);
  if (reason.evidence !== undefined) lines.push(`  evidence: ${reason.evidence}`);
  return lines;
}

const HEADLINES: Record<FindingKind, string> = {
  'version-unsigned': 'carries no verified signature its policy accepts',
  'version-other-identity': 'is signed by an identity its policy rule does not list',
  'version-unexpected-build':
    'is signed by the expected repository, from a workflow, ref, trigger or runner its policy rule does not allow',
  'version-policy-violation': 'violates its policy',
  'unexpected-signing': '',
  'log-inconsistent': '',
  'log-rollback': '',
  'split-view': '',
};

export async function judgeVersion(
  ctx: JudgeContext,
  pkg: PackageConfig,
  version: string,
  packument: Packument,
): Promise<VersionJudgement> {
  const manifest = packument['versions']?.[version];
  const label = `${pkg.name}@${version}`;
  const failures: EvidenceFailure[] = [];
  const integrity: unknown = manifest?.['dist']?.['integrity'];
  const bundles = await fetchVersionBundles(ctx.reader, pkg, version, manifest, failures);
  if (failures.length) {
    // An unreachable source is not "no evidence": judge again on the next run.
    throw new SourceError('ATTESTATIONS_UNAVAILABLE', failures.map((f) => f.message).join('; '));
  }
  let tarball: Buffer | undefined;
  const tarballUrl: unknown = manifest?.['dist']?.['tarball'];
  if (typeof tarballUrl === 'string') tarball = await ctx.reader.tarball(tarballUrl);
  const time = packument['time']?.[version];
  const publishedAt =
    typeof time === 'string' && !Number.isNaN(Date.parse(time)) ? new Date(time) : undefined;
  const signatures: RegistrySignature[] = Array.isArray(manifest?.['dist']?.['signatures'])
    ? manifest['dist']['signatures']
    : [];
  const evidence = await verifyPackageEvidence(ctx.trust, {
    name: pkg.name,
    version,
    integrity: typeof integrity === 'string' ? integrity : 'sha512-',
    ...(tarball ? { tarball } : {}),
    bundles,
    registrySignatures: signatures,
    registrySignatureTime: publishedAt ?? ctx.now,
  });
  const decision = evaluate({
    policy: ctx.policy,
    package: {
      name: pkg.name,
      version,
      source: 'npm',
      registry: pkg.registry,
      ...(publishedAt ? { publishedAt } : {}),
    },
    evidence,
    now: ctx.now,
  });
  const judgement: VersionJudgement = { decision, bundles };
  if (tarball) judgement.tarballSha256 = createHash('sha256').update(tarball).digest('hex');
  if (typeof integrity === 'string') judgement.integrity = integrity;
  const found = violations(decision).filter((r) => !TIMING_CODES.has(r.code));
  if (found.length === 0) return judgement;
  const kind = classify(decision);
  const identity = decision.identity;
  const signer = identity
    ? ` (signer: ${[identity.subject, ...Object.entries(identity.claims).map(([k, c]) => `${k}=${c.value}`)].join(', ')})`
    : '';
  judgement.finding = {
    id: `version/${pkg.registry}/${label}`,
    kind,
    summary: `${label} on ${pkg.registry} ${HEADLINES[kind]}${signer}`,
    details: [
      `judged by rule ${decision.rule.id} (${formatLocation(decision.rule.location)}) of the project's policy`,
      ...found.flatMap(describeReason),
      publishedAt ? `published at ${publishedAt.toISOString()}` : 'no publish time in the packument',
    ],
    package: { name: pkg.name, version, registry: pkg.registry },
    violations: [...new Set(found.map((r) => r.code))],
  };
  return judgement;
}
