// One package's check, as a pipeline every path goes through in order:
//   1. classify   what needs no bytes (source, scripts of sources, registry binding, link names,
//                 lockfile tampering); a denial ends the check here, before any byte is fetched
//   2. bind       the bytes Yarn links, tied to one registry tarball (check/bind.ts)
//   3. gather     every piece of evidence for that tarball, from every source
//   4. verify     each piece against the bound integrity, and the installed package.json
//   5. decide     the policy's verdict; the records left for next time
// Local sources (this machine's bindings, the committed record) are tried first and stand when they
// allow the package; offline they are all there is. Otherwise the same stages run on what the registry
// says now. Never throws for a package-level problem: every failure becomes a reason.
import type { EvidenceFailure, VerifiedEvidence } from '../../../policy/evidence';
import { bind } from './check/bind';
import { type Classified, classify } from './check/classify';
import { decide, decideWith } from './check/decide';
import { gather } from './check/gather';
import { fetchPublishTime, localSources, onlineSources, type Sources } from './check/sources';
import type { PackageCheck, PackageOutcome } from './check/types';
import { verify } from './check/verify';
import type { EngineContext } from './context';
import { recordKey } from './evidence-file';
import { knownBadOf, withAnswer } from './known-bad';
import { NOT_INSTALLED_HERE } from './local-bindings';
import { sameChecksum } from './tarball-binding';

export type { PackageCheck, PackageOutcome, UnpackedManifest } from './check/types';

export async function checkPackage(ctx: EngineContext, check: PackageCheck): Promise<PackageOutcome> {
  return askVerdictService(ctx, await checkLocally(ctx, check));
}

/**
 * The verdict service (knownBad.verdictService) is one more known-bad source, asked about the bound
 * tarball once the rest allowed it: a no-go denies, an answer that is missing or does not verify is
 * known-bad-unchecked (a denial in enforce mode). Offline it is not asked.
 */
async function askVerdictService(ctx: EngineContext, outcome: PackageOutcome): Promise<PackageOutcome> {
  const judged = outcome.judged;
  if (!ctx.knownBad.service || ctx.settings.offline || !judged?.facts || outcome.decision.verdict === 'deny')
    return outcome;
  const { name, version, integrity } = judged.evidence.package;
  const answer = await ctx.knownBad.ask(name, version, integrity === 'sha512-' ? undefined : integrity);
  if (!answer.knownBad && !answer.knownBadUnchecked) return outcome;
  const facts = { ...judged.facts, ...withAnswer(judged.facts, answer) };
  return { ...outcome, decision: decideWith(ctx, facts, judged.evidence), judged: { ...judged, facts } };
}

/** What Yarn would run to build the package, from the archive it links: the facts script approvals judge. */
async function addBuildSteps(c: Classified): Promise<Classified> {
  const steps = await c.check.readBuildSteps?.();
  if (steps) c.facts.buildSteps = steps;
  return c;
}

async function checkLocally(ctx: EngineContext, check: PackageCheck): Promise<PackageOutcome> {
  const classified = classify(ctx, check);
  if (classified.prefetch.verdict === 'deny') return { decision: classified.prefetch, bundles: [] };
  const c = await addBuildSteps(classified);
  // git, http, file and other sources carry no evidence: the policy judges them by source alone.
  if (!c.npm) return { decision: decideWith(ctx, c.facts), bundles: [] };
  if (check.classified.kind === 'patch') return deniedPatch(ctx, c);
  const local = localSources(ctx, c);
  if (ctx.settings.offline || hasLocalBinding(ctx, check)) {
    const outcome = await judge(ctx, c, local);
    if (ctx.settings.offline) return outcome;
    // A local allowance stands only where the evidence file already records the package: otherwise
    // the file would lack it on this machine alone (bound here by `init` or an earlier install) and a
    // CI checkout, judging online, would find it incomplete under --immutable.
    if (outcome.decision.verdict === 'allow' && local.record) return outcome;
  }
  return judge(ctx, c, await onlineSources(ctx, c));
}

async function judge(ctx: EngineContext, c: Classified, sources: Sources): Promise<PackageOutcome> {
  const binding = await bind(ctx, c, sources);
  if (!binding.ok) return decide(ctx, c, sources, binding);
  const evidence = gather(ctx, c, sources, binding);
  let verified = await verify(ctx, c, sources, binding, evidence);
  let outcome = decide(ctx, c, sources, binding, evidence, verified);
  // The registry's publish time is only in the full packument: fetched when this decision needs it.
  if (
    sources.online &&
    sources.registry &&
    !sources.registry.publishedAt &&
    needsPublishTime(outcome, verified)
  ) {
    const publishedAt = await fetchPublishTime(ctx.net, c.npm!.locator, c.npm!.version!, c.registry!);
    if (publishedAt) {
      sources.registry.publishedAt = publishedAt;
      verified = await verify(ctx, c, sources, binding, evidence);
      outcome = decide(ctx, c, sources, binding, evidence, verified);
    }
  }
  return outcome;
}

/** The unsigned release-age fallback, or a registry key that may have been valid when it was published. */
function needsPublishTime(outcome: PackageOutcome, verified: VerifiedEvidence): boolean {
  const d = outcome.decision;
  return (
    verified.failures.some((f) => f.code === 'REGISTRY_KEY_EXPIRED') ||
    (d.requirements.unsignedTimeFallback === true && d.reasons.some((r) => r.code === 'release-age-unknown'))
  );
}

/** True when judging from local sources can stand without the network (a binding derived here). */
export function hasLocalBinding(ctx: EngineContext, check: PackageCheck): boolean {
  if (check.captured) return false;
  const npm = check.classified.kind === 'npm' ? check.classified : null;
  const archive = check.installedHere ? check.archive.checksum : NOT_INSTALLED_HERE;
  return npm !== null && archive !== null && ctx.bindings.lookup(recordKey(npm.locator), archive) !== null;
}

function deniedPatch(ctx: EngineContext, c: Classified): PackageOutcome {
  const failure: EvidenceFailure = {
    code: 'PATCH_BASE_MISSING',
    message: `the package ${c.facts.locator} patches is not in the lockfile, so the patch cannot be judged on it`,
    source: 'yarn.lock',
  };
  return {
    decision: decideWith(ctx, c.facts, {
      package: { name: c.npm!.name, version: c.npm!.version!, integrity: 'sha512-' },
      registrySignatures: [],
      bundles: [],
      failures: [failure],
    }),
    bundles: [],
  };
}

/**
 * A patch (user patches, Yarn's builtin compat patches) is judged as its base package, on the evidence
 * verified for that base in this run, and only when the patched archive Yarn links is exactly what
 * Yarn's own patch code makes of that verified base: rebuilt and compared, or bound so on this machine
 * before (or, offline, by the committed record). Anything else is an altered archive.
 */
export async function judgePatch(
  ctx: EngineContext,
  check: PackageCheck,
  base: PackageOutcome,
): Promise<PackageOutcome> {
  const classified = classify(ctx, check);
  if (classified.prefetch.verdict === 'deny') return { decision: classified.prefetch, bundles: [] };
  const c = await addBuildSteps(classified);
  if (!base.judged) return { decision: decideWith(ctx, c.facts), bundles: [] };
  const { registry, publishedAt, evidence } = base.judged;
  const facts = { ...c.facts, ...(publishedAt ? { publishedAt } : {}), ...knownBadOf(base.judged.facts) };
  const failure = await patchArchiveFailure(ctx, check, base);
  const judged = failure ? { ...evidence, failures: [...evidence.failures, failure] } : evidence;
  const outcome: PackageOutcome = { decision: decideWith(ctx, facts, judged), bundles: [] };
  const archive = check.archive.checksum;
  if (!failure && archive && base.decision.verdict !== 'deny') {
    outcome.record = {
      key: recordKey(check.classified.locator),
      value: {
        checksum: archive,
        integrity: evidence.package.integrity,
        registry,
        bundles: [],
        descriptors: check.descriptors,
      },
    };
  }
  return outcome;
}

async function patchArchiveFailure(
  ctx: EngineContext,
  check: PackageCheck,
  base: PackageOutcome,
): Promise<EvidenceFailure | undefined> {
  const label = `${check.classified.name} (${recordKey(check.classified.locator)})`;
  const archive = check.archive.checksum;
  const baseIntegrity = base.judged!.evidence.package.integrity;
  const key = recordKey(check.classified.locator);
  const mismatch = (message: string): EvidenceFailure => ({
    code: 'PATCH_ARCHIVE_MISMATCH',
    message,
    source: check.archive.source === 'linked' ? (check.archive.path ?? 'cache') : 'yarn.lock',
  });
  if (!check.installedHere) return undefined;
  if (archive === null) {
    return {
      code: 'TARBALL_UNBOUND',
      message: `no archive of the patched ${label} is known, so nothing ties it to its verified base`,
      source: 'yarn.lock',
    };
  }
  if (ctx.bindings.lookup(key, archive) === baseIntegrity) return undefined;
  // proven Yarn's patch of the verified base: bound so on this machine (unless the base was denied)
  const proven = () => {
    if (base.decision.verdict !== 'deny') ctx.bindings.record(key, archive, baseIntegrity);
    return undefined;
  };
  if (builtHereFromBase(check, base)) return proven();
  if (ctx.settings.offline) {
    const record = ctx.evidenceFile.packages[key];
    if (record?.checksum && sameChecksum(record.checksum, archive) && record.integrity === baseIntegrity)
      return undefined;
    return {
      code: 'TARBALL_UNBOUND',
      message: `the patched ${label} has no record in ${ctx.settings.evidenceFile} tying its archive (${archive}) to its base, and offline mode cannot rebuild it`,
      source: ctx.settings.evidenceFile,
    };
  }
  const from = base.judged!.base;
  if (!check.rebuildPatch || !from) {
    return mismatch(
      `the patched ${label} cannot be rebuilt from its verified base here, so its archive is not proven to be Yarn's patch of it`,
    );
  }
  let rebuilt: string;
  try {
    rebuilt = await check.rebuildPatch(from);
  } catch (err) {
    return mismatch(
      `rebuilding the patched ${label} from its verified base failed (${(err as Error).message.split('\n')[0]}), so its archive is not proven to be Yarn's patch of it`,
    );
  }
  if (!sameChecksum(rebuilt, archive)) {
    return mismatch(
      `the archive of the patched ${label} (checksum ${archive}) is not what Yarn's patch code makes of its verified base (${rebuilt}): the lockfile or the cache was altered`,
    );
  }
  return proven();
}

/**
 * Yarn's own patch code made the archive it links in this very install, from the base archive whose
 * bytes this run bound to the verified tarball (both checksums are the ones Yarn computed of those
 * files: gate/patch-builds.ts). Rebuilding would run the same code on the same bytes.
 */
function builtHereFromBase(check: PackageCheck, base: PackageOutcome): boolean {
  const built = check.patchBuiltHere;
  const baseLocator = check.classified.base?.locator;
  const boundBase = base.judged?.boundArchive;
  if (!built || !baseLocator || !boundBase || check.archive.checksum === null) return false;
  const input = built.inputs.get(baseLocator.locatorHash);
  return (
    sameChecksum(built.archive, check.archive.checksum) &&
    input !== undefined &&
    sameChecksum(input, boundBase)
  );
}
