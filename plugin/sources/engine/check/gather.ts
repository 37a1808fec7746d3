// Stage 3: every piece of evidence for the bound tarball, from every configured source: the registry's
// attestations and signatures, the attestation stores, and the bundles recorded beside the evidence
// file. Gathered, never believed: stage 4 verifies each against the bound integrity. An unreachable
// source is a failure, never "no evidence".
import type { BundleInput, EvidenceFailure, RegistrySignature } from '../../../../policy/evidence';
import type { EngineContext } from '../context';
import { loadBundle } from '../evidence-file';
import type { Binding } from './bind';
import type { Classified } from './classify';
import type { Sources } from './sources';

export interface Gathered {
  bundles: BundleInput[];
  registrySignatures: RegistrySignature[];
  /** evidence that could not be read, and facts that contradict the binding */
  failures: EvidenceFailure[];
}

export function gather(
  ctx: EngineContext,
  c: Classified,
  sources: Sources,
  binding: Extract<Binding, { ok: true }>,
): Gathered {
  const npm = c.npm!;
  const version = npm.version!;
  const label = `${npm.name}@${version}`;
  const failures: EvidenceFailure[] = [...sources.failures];
  const bundles: BundleInput[] = [];
  const seen = new Set<string>();
  const add = (json: string, source: string) => {
    if (seen.has(json)) return;
    seen.add(json);
    bundles.push({ json, source });
  };

  const registryIntegrity = sources.registry?.integrity;
  if (registryIntegrity && registryIntegrity !== binding.integrity) {
    failures.push({
      code: 'TARBALL_INTEGRITY_MISMATCH',
      message: `the tarball of ${label} has sha512 ${binding.integrity.slice(7)}, but ${c.registry} publishes ${registryIntegrity.slice(7)}: it was replaced after publishing`,
      source: binding.url ?? c.registry ?? 'registry',
    });
  }
  const record = sources.record;
  if (record && record.integrity !== binding.integrity) {
    failures.push({
      code: 'EVIDENCE_RECORD_MISMATCH',
      message: `${ctx.settings.evidenceFile} records ${label} with integrity ${record.integrity.slice(7)}, but the tarball bound to what gets installed has ${binding.integrity.slice(7)}; if the package really moved to another registry, delete its entry so the install records it again`,
      source: ctx.settings.evidenceFile,
    });
  }

  for (const answer of sources.attestations) {
    if (answer.failure) failures.push(answer.failure);
    for (const json of answer.bundles ?? []) add(json, answer.url);
  }

  if (record && record.integrity === binding.integrity) {
    for (const digest of record.bundles) {
      const json = loadBundle(ctx.settings.evidenceFile, digest);
      if (json) add(json, `${ctx.settings.evidenceFile} (bundle ${digest.slice(0, 12)})`);
      else if (!sources.online) {
        failures.push({
          code: 'EVIDENCE_RECORD_MISSING_BUNDLE',
          message: `the bundle ${digest} recorded for ${label} is missing or altered`,
          source: ctx.settings.evidenceFile,
        });
      }
    }
  }

  const registrySignatures = sources.online
    ? (sources.registry?.signatures ?? [])
    : record && record.integrity === binding.integrity
      ? (record.signatures ?? [])
      : [];
  return { bundles, registrySignatures, failures };
}
