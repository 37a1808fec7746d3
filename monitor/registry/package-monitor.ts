// One run over one watched package: new versions since the last run are judged against the policy
// (the versions present at the first run are recorded as a baseline, not judged), and the payload
// hashes of their attestations are kept, so that log entries signing them can be named.
import type { EvidenceFailure } from '../../policy/evidence/types';
import type { PackageConfig } from '../config/model';
import { describeError, type SourceProblem } from '../errors';
import type { Finding } from '../findings';
import type { PackageState, VersionState } from '../state/state';
import { fetchVersionBundles, type JudgeContext, judgeVersion } from './judge-version';
import type { Packument, RegistryReader } from './registry-reader';
import { bundlePayload, type SubjectIndex } from './subjects';

export interface PackageRunResult {
  state: PackageState;
  findings: Finding[];
  problems: SourceProblem[];
  notes: string[];
  packument?: Packument;
}

export function integrityHex(integrity: unknown): string | undefined {
  if (typeof integrity !== 'string' || !integrity.startsWith('sha512-')) return undefined;
  const bytes = Buffer.from(integrity.slice(7), 'base64');
  return bytes.length === 64 ? bytes.toString('hex') : undefined;
}

/** Puts what the state knows about a package's versions into the subject index. */
export function indexPackageState(index: SubjectIndex, state: PackageState): void {
  for (const [version, known] of Object.entries(state.versions)) {
    const sha512 = integrityHex(known.integrity);
    if (sha512)
      index.addTarballDigest('sha512', sha512, state.name, version, `${state.registry} (integrity)`);
    if (known.tarballSha256)
      index.addTarballDigest(
        'sha256',
        known.tarballSha256,
        state.name,
        version,
        `${state.registry} (tarball)`,
      );
    for (const payload of known.payloads ?? [])
      index.addKnownPayload(payload, state.name, version, `attestations of ${state.name}@${version}`);
  }
}

function recordBundles(
  index: SubjectIndex,
  known: VersionState,
  bundles: { json: string; source: string }[],
): void {
  const payloads = new Set(known.payloads ?? []);
  for (const bundle of bundles) {
    const payload = bundlePayload(bundle.json);
    if (!payload) continue;
    payloads.add(payload.sha256);
    index.addPayload(payload.sha256, payload.payload, bundle.source);
  }
  known.payloads = [...payloads].sort();
}

export async function monitorPackage(input: {
  pkg: PackageConfig;
  reader: RegistryReader;
  previous?: PackageState;
  judge?: JudgeContext;
  index: SubjectIndex;
  now: Date;
}): Promise<PackageRunResult> {
  const { pkg, reader, previous, index, now } = input;
  const source = `${pkg.name} on ${pkg.registry}`;
  const state: PackageState = previous
    ? { ...previous, versions: { ...previous.versions } }
    : { name: pkg.name, registry: pkg.registry, versions: {}, updatedAt: now.toISOString() };
  const result: PackageRunResult = { state, findings: [], problems: [], notes: [] };
  let packument: Packument;
  try {
    packument = await reader.packument(pkg.registry, pkg.name);
  } catch (err) {
    result.problems.push({ code: 'REGISTRY_UNREACHABLE', source, message: describeError(err) });
    return result;
  }
  result.packument = packument;
  const versions = Object.keys(packument['versions'] ?? {});
  const fresh = versions.filter((v) => !state.versions[v]);
  if (!previous) {
    for (const version of versions) {
      const known: VersionState = { seenAt: now.toISOString(), judged: false };
      const integrity = packument['versions'][version]?.['dist']?.['integrity'];
      if (typeof integrity === 'string') known.integrity = integrity;
      state.versions[version] = known;
    }
    result.notes.push(
      `first run: ${versions.length} existing version(s) of ${source} recorded as the baseline; later versions are judged`,
    );
    state.updatedAt = now.toISOString();
    indexPackageState(index, state);
    return result;
  }
  for (const version of fresh) {
    const known: VersionState = { seenAt: now.toISOString(), judged: false };
    try {
      if (input.judge && pkg.judge) {
        const judgement = await judgeVersion(input.judge, pkg, version, packument);
        known.judged = true;
        if (judgement.integrity) known.integrity = judgement.integrity;
        if (judgement.tarballSha256) known.tarballSha256 = judgement.tarballSha256;
        recordBundles(index, known, judgement.bundles);
        if (judgement.finding) result.findings.push(judgement.finding);
        else
          result.notes.push(
            `${pkg.name}@${version}: new on ${pkg.registry}, allowed by its policy rule ${judgement.decision?.rule.id}`,
          );
      } else {
        const integrity = packument['versions'][version]?.['dist']?.['integrity'];
        if (typeof integrity === 'string') known.integrity = integrity;
        const failures: EvidenceFailure[] = [];
        recordBundles(
          index,
          known,
          await fetchVersionBundles(reader, pkg, version, packument['versions'][version], failures),
        );
        if (failures.length) throw new Error(failures.map((f) => f.message).join('; '));
        result.notes.push(`${pkg.name}@${version}: new on ${pkg.registry} (not judged: no policy)`);
      }
    } catch (err) {
      // Left unrecorded, so the next run tries again.
      result.problems.push({
        code: 'ATTESTATIONS_UNAVAILABLE',
        source: `${pkg.name}@${version}`,
        message: describeError(err),
      });
      continue;
    }
    state.versions[version] = known;
  }
  state.updatedAt = now.toISOString();
  indexPackageState(index, state);
  return result;
}

/**
 * Reads the attestations of versions the state has no payload hashes for (baseline versions), so that
 * a log entry's DSSE payload can be named. Called only when a watched identity's entry is unnamed.
 */
export async function indexRemainingAttestations(input: {
  pkg: PackageConfig;
  reader: RegistryReader;
  state: PackageState;
  packument: Packument;
  index: SubjectIndex;
}): Promise<SourceProblem[]> {
  const problems: SourceProblem[] = [];
  for (const [version, known] of Object.entries(input.state.versions)) {
    if (known.payloads) continue;
    const failures: EvidenceFailure[] = [];
    const bundles = await fetchVersionBundles(
      input.reader,
      input.pkg,
      version,
      input.packument['versions']?.[version],
      failures,
    );
    if (failures.length) {
      problems.push({
        code: 'ATTESTATIONS_UNAVAILABLE',
        source: `${input.pkg.name}@${version}`,
        message: failures.map((f) => f.message).join('; '),
      });
      continue;
    }
    recordBundles(input.index, known, bundles);
  }
  return problems;
}
