// Stage 5: the policy's verdict on the facts and the verified evidence, and what the check leaves
// behind for next time: the evidence-file record (committed, reviewed like yarn.lock) and the local
// binding (this machine's own, authenticated). Both are written only for a binding the registry
// confirmed in this run, so a tampered download never becomes a trusted shortcut.
import { type Decision, evaluate, type PackageFacts } from '../../../../policy';
import { bundleDigestOf, type EvidenceFailure, type VerifiedEvidence } from '../../../../policy/evidence';
import type { EngineContext } from '../context';
import { type EvidenceRecord, recordKey } from '../evidence-file';
import { NOT_INSTALLED_HERE } from '../local-bindings';
import type { Binding } from './bind';
import type { Classified } from './classify';
import type { Gathered } from './gather';
import type { Sources } from './sources';
import type { PackageOutcome } from './types';

export function decideWith(ctx: EngineContext, facts: PackageFacts, evidence?: VerifiedEvidence): Decision {
  return evaluate({
    policy: ctx.policy,
    package: facts,
    ...(evidence ? { evidence } : {}),
    pins: ctx.pins,
    now: ctx.now,
    modeOverride: ctx.modeOverride ?? undefined,
  });
}

function failedEvidence(c: Classified, integrity: string, failures: EvidenceFailure[]): VerifiedEvidence {
  return {
    package: { name: c.npm!.name, version: c.npm!.version!, integrity },
    registrySignatures: [],
    bundles: [],
    failures,
  };
}

export function decide(
  ctx: EngineContext,
  c: Classified,
  sources: Sources,
  binding: Binding,
  gathered?: Gathered,
  verified?: VerifiedEvidence,
): PackageOutcome {
  const npm = c.npm!;
  const publishedAt = sources.registry?.publishedAt;
  const facts: PackageFacts = {
    ...c.facts,
    ...(publishedAt ? { publishedAt } : {}),
    // Known-bad records naming this release: by version always, by digest and bundles once bound.
    ...ctx.knownBad.facts({
      name: npm.name,
      version: npm.version!,
      registry: c.registry,
      ...(binding.ok ? { integrity: binding.integrity } : {}),
      ...(binding.ok && verified ? { bundles: verified.bundles } : {}),
    }),
  };
  const evidence =
    binding.ok && verified
      ? verified
      : failedEvidence(
          c,
          sources.registry?.integrity ?? 'sha512-',
          binding.ok ? [...sources.failures] : [...sources.failures, ...binding.failures],
        );
  const decision = decideWith(ctx, facts, evidence);
  const outcome: PackageOutcome = {
    decision,
    judged: { registry: c.registry!, ...(publishedAt ? { publishedAt } : {}), evidence, facts },
    bundles: [],
  };
  if (!binding.ok || !gathered || !verified) return outcome;

  const base = binding.tarball
    ? { tarball: binding.tarball }
    : c.check.archive.path
      ? { archivePath: c.check.archive.path }
      : undefined;
  if (base) outcome.judged!.base = base;
  if (c.check.archive.checksum) outcome.judged!.boundArchive = c.check.archive.checksum;
  const verifiedDigests = new Set(verified.bundles.map((b) => b.bundleDigest));
  const kept = gathered.bundles
    .map((b) => ({ json: b.json as string, digest: bundleDigestOf(b.json) }))
    .filter((b) => verifiedDigests.has(b.digest));
  outcome.bundles = kept.map((b) => b.json);

  const archive = c.check.archive.checksum;
  const key = recordKey(npm.locator);
  if (!sources.online) {
    // Offline nothing new is learnt; the record stays, with the descriptors that resolve to it now, so
    // that under --immutable an edited yarn.lock shows as an evidence file that would change.
    if (gathered.failures.length === 0 && sources.record)
      outcome.record = { key, value: { ...sources.record, descriptors: c.check.descriptors } };
    return outcome;
  }
  const confirmed = sources.registry?.integrity === binding.integrity;
  if (!confirmed || gathered.failures.length > 0) return outcome;
  if (archive && (binding.how === 'downloaded' || binding.how === 'rederived'))
    ctx.bindings.record(key, archive, binding.integrity);
  if (!c.check.installedHere) ctx.bindings.record(key, NOT_INSTALLED_HERE, binding.integrity);
  // Installed here and no manifest failure: the verifier read the tarball's or the archive's
  // package.json and found this package in it.
  const manifestChecked =
    c.check.installedHere &&
    !verified.failures.some((f) => f.code.startsWith('MANIFEST') || f.code === 'TARBALL_REQUIRED');
  const record: EvidenceRecord = {
    checksum: archive,
    integrity: binding.integrity,
    registry: c.registry!,
    bundles: kept.map((b) => b.digest),
    descriptors: c.check.descriptors,
    ...(sources.registry?.signatures.length ? { signatures: sources.registry.signatures } : {}),
    ...(manifestChecked ? { manifest: { name: npm.name, version: npm.version! } } : {}),
  };
  outcome.record = { key, value: record };
  return outcome;
}
