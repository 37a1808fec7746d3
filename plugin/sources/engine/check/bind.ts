// Stage 2: tie the bytes Yarn links to one registry tarball, in exactly one way, or say why not. The
// integrity this stage returns is the only one the later stages verify evidence against. Nothing is
// recorded here: a binding becomes a local one (decide.ts) only once the registry confirmed it.
//
//   downloaded  Yarn downloaded this locator's tarball in this process and built the archive it links
//               from exactly those bytes (captured inside that locator's fetch);
//   elsewhere   not installed on this machine (another platform's optional package): the registry's
//               integrity, and the machines that install it check its bytes;
//   bound-here  this machine tied this archive to that tarball before (an authenticated local binding);
//   evidence-file  offline only: the committed record says which tarball the archive came from (the
//               one place a committed claim is believed; see THREAT-MODEL.md);
//   rederived   online: the registry's tarball, converted with Yarn's own code, gives this very archive.
import type { EvidenceFailure } from '../../../../policy/evidence';
import type { EngineContext } from '../context';
import { recordKey } from '../evidence-file';
import { fetchTarball } from '../fetching';
import { NOT_INSTALLED_HERE } from '../local-bindings';
import { sameChecksum, sha512Integrity, zipChecksumOf } from '../tarball-binding';
import type { Classified } from './classify';
import { fetchFailure, type Sources } from './sources';

export type BindingHow = 'downloaded' | 'elsewhere' | 'bound-here' | 'evidence-file' | 'rederived';

export type Binding =
  | { ok: true; integrity: string; how: BindingHow; tarball?: Buffer; url?: string }
  | { ok: false; failures: EvidenceFailure[] };

const unbound = (message: string, source = 'yarn.lock'): Binding => ({
  ok: false,
  failures: [{ code: 'TARBALL_UNBOUND', message, source }],
});

export async function bind(ctx: EngineContext, c: Classified, sources: Sources): Promise<Binding> {
  const { check } = c;
  const npm = c.npm!;
  const label = `${npm.name}@${npm.version}`;
  const key = recordKey(npm.locator);
  const archive = check.archive.checksum;

  if (check.captured) {
    return { ok: true, integrity: check.captured.integrity, how: 'downloaded', url: check.captured.url };
  }

  if (!check.installedHere) {
    const boundHere = ctx.bindings.lookup(key, NOT_INSTALLED_HERE);
    if (boundHere && !sources.online) return { ok: true, integrity: boundHere, how: 'bound-here' };
    const integrity = sources.online ? sources.registry?.integrity : sources.record?.integrity;
    if (integrity) return { ok: true, integrity, how: 'elsewhere' };
    return unbound(
      sources.online
        ? `${label} is not installed on this machine and its registry gives no integrity to check its evidence against`
        : `${label} is not installed on this machine and ${ctx.settings.evidenceFile} has no record of it`,
      sources.online ? (c.registry ?? 'registry') : ctx.settings.evidenceFile,
    );
  }

  if (archive === null && check.archive.source === 'lockfile') {
    // A package yarn.lock pins no archive for, and none in the cache: an install would download the
    // registry's tarball, whose bytes the install gate then binds. Its evidence is checked here against
    // the registry's integrity (offline: the record's), and its package.json from that tarball.
    const integrity = sources.online ? sources.registry?.integrity : sources.record?.integrity;
    if (integrity) return { ok: true, integrity, how: 'elsewhere' };
  }
  if (archive === null) {
    return unbound(
      check.archive.source === 'linked'
        ? `the archive Yarn would link for ${label} is not in the cache, so nothing ties it to any evidence`
        : `yarn.lock records no checksum for ${label}, so nothing ties what gets installed to any evidence`,
    );
  }

  const boundHere = ctx.bindings.lookup(key, archive);
  if (boundHere) return { ok: true, integrity: boundHere, how: 'bound-here' };

  if (!sources.online) {
    const record = sources.record;
    if (record?.checksum && sameChecksum(record.checksum, archive)) {
      return { ok: true, integrity: record.integrity, how: 'evidence-file' };
    }
    return unbound(
      `${label} has no record in ${ctx.settings.evidenceFile} matching its archive (${archive}), and offline mode forbids fetching its tarball`,
    );
  }

  let tarball: Buffer;
  try {
    tarball = await fetchTarball(npm.locator, c.registry!, npm.archiveUrl, ctx.net);
  } catch (err) {
    return { ok: false, failures: [fetchFailure(err, c.registry!)] };
  }
  const integrity = sha512Integrity(tarball);
  const derived = await zipChecksumOf(tarball, npm.locator, ctx.configuration, check.cacheKey);
  if (!sameChecksum(derived, archive)) {
    return {
      ok: false,
      failures: [
        {
          code: 'LOCKFILE_CHECKSUM_MISMATCH',
          message: `the ${check.archive.source === 'linked' ? 'archive Yarn would link' : 'archive yarn.lock records'} for ${label} (checksum ${archive}) is not the registry's tarball (which gives ${derived}): the lockfile, the cache or the mirror was altered`,
          source: check.archive.source === 'linked' ? (check.archive.path ?? 'cache') : 'yarn.lock',
        },
      ],
    };
  }
  return { ok: true, integrity, how: 'rederived', tarball };
}
