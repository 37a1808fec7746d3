// Stage 4: verify every gathered piece of evidence against the bound integrity, and the package.json
// of what gets installed against the package's name and version (manifest confusion). Verification
// itself does no I/O; this stage only decides which bytes or manifest it is handed.
import type { EvidenceFailure, VerifiedEvidence } from '../../../../policy/evidence';
import type { EngineContext } from '../context';
import { fetchTarball } from '../fetching';
import type { Binding } from './bind';
import type { Classified } from './classify';
import type { Gathered } from './gather';
import { fetchFailure, type Sources } from './sources';
import type { UnpackedManifest } from './types';

export async function verify(
  ctx: EngineContext,
  c: Classified,
  sources: Sources,
  binding: Extract<Binding, { ok: true }>,
  gathered: Gathered,
): Promise<VerifiedEvidence> {
  const npm = c.npm!;
  const { check } = c;
  const failures: EvidenceFailure[] = [...gathered.failures];
  let tarball = binding.tarball;
  let unpackedManifest: UnpackedManifest | undefined;
  // A message-signature bundle signs the tarball's own bytes (npm's attestations are DSSE statements
  // naming its digest): only then are the bytes needed again.
  const signsBytes = gathered.bundles.some(
    (b) => typeof b.json === 'string' && b.json.includes('"messageSignature"'),
  );
  if (!tarball && signsBytes && sources.online) {
    try {
      tarball = await fetchTarball(npm.locator, c.registry!, npm.archiveUrl, ctx.net);
    } catch (err) {
      failures.push(fetchFailure(err, c.registry!));
    }
  }
  if (!tarball && check.installedHere) {
    unpackedManifest = (await check.readUnpackedManifest?.()) ?? undefined;
    if (!unpackedManifest && sources.online) {
      // Not in the cache (yarn.lock checked on a fresh checkout): the registry's tarball, which the
      // verifier checks against the bound integrity, shows what package.json gets installed.
      try {
        tarball = await fetchTarball(npm.locator, c.registry!, npm.archiveUrl, ctx.net);
      } catch (err) {
        failures.push(fetchFailure(err, c.registry!));
      }
    }
    // Offline the committed record is all there is; what it says the tarball's package.json held stands.
    if (!unpackedManifest && !tarball && !sources.online && sources.record?.manifest) {
      unpackedManifest = sources.record.manifest;
    }
  }
  const verified = await ctx.verifier.verify({
    name: npm.name,
    version: npm.version!,
    integrity: binding.integrity,
    ...(tarball ? { tarball } : {}),
    ...(unpackedManifest ? { unpackedManifest } : {}),
    notInstalled: !check.installedHere,
    bundles: gathered.bundles,
    registrySignatures: gathered.registrySignatures,
    // The registry key must have been valid when the version was published; only a time read from the
    // registry in this run may say when that was (a committed time could be backdated).
    registrySignatureTime: sources.registry?.publishedAt ?? ctx.now,
  });
  verified.failures.push(...failures);
  return verified;
}
