// Where a check's facts come from. Online: the registry's document for the version, fetched in this
// run (its integrity, signatures, attestations URL and publish time). Always: the committed evidence
// record for the locator, which is a claim to be checked, never a source of times.
import type { EvidenceFailure, RegistrySignature } from '../../../../policy/evidence';
import type { EngineContext } from '../context';
import { type EvidenceRecord, recordKey } from '../evidence-file';
import { FetchFailure, fetchPackument } from '../fetching';
import type { Classified } from './classify';

export interface RegistryVersion {
  /** dist.integrity when it is a sha512 SRI */
  integrity?: string;
  signatures: RegistrySignature[];
  attestationsUrl?: string;
  /** the packument's `time[version]`, read in this run: unsigned */
  publishedAt?: Date;
}

export interface Sources {
  online: boolean;
  registry?: RegistryVersion;
  /** what went wrong reading the registry (each one a reason in the decision) */
  failures: EvidenceFailure[];
  /** the evidence file's record for this locator, if any */
  record?: EvidenceRecord;
}

export function fetchFailure(err: unknown, source: string): EvidenceFailure {
  if (err instanceof FetchFailure)
    return { code: 'EVIDENCE_UNAVAILABLE', message: err.message, source: err.url };
  return { code: 'EVIDENCE_UNAVAILABLE', message: (err as Error)?.message ?? String(err), source };
}

/** What this machine and the repository hold: no network. */
export function localSources(ctx: EngineContext, c: Classified): Sources {
  const record = c.npm ? ctx.evidenceFile.packages[recordKey(c.npm.locator)] : undefined;
  return { online: false, failures: [], ...(record ? { record } : {}) };
}

/** Adds the registry's document for the version, fetched now. */
export async function onlineSources(ctx: EngineContext, c: Classified): Promise<Sources> {
  const sources: Sources = { ...localSources(ctx, c), online: true };
  const npm = c.npm!;
  const registry = c.registry!;
  const version = npm.version!;
  const label = `${npm.name}@${version}`;
  try {
    const packument = await fetchPackument(npm.locator, registry, ctx.net);
    const doc = packument.versions?.[version];
    if (!doc) {
      sources.failures.push({
        code: 'VERSION_NOT_IN_PACKUMENT',
        message: `${label} is not listed by ${registry}: it may have been unpublished or the lockfile points elsewhere`,
        source: registry,
      });
      return sources;
    }
    const integrity = doc.dist?.integrity;
    const time = packument.time?.[version];
    sources.registry = {
      signatures: Array.isArray(doc.dist?.signatures) ? doc.dist.signatures : [],
      ...(typeof integrity === 'string' && integrity.startsWith('sha512-') ? { integrity } : {}),
      ...(typeof doc.dist?.attestations?.url === 'string'
        ? { attestationsUrl: doc.dist.attestations.url }
        : {}),
      ...(typeof time === 'string' && !Number.isNaN(Date.parse(time)) ? { publishedAt: new Date(time) } : {}),
    };
    if (!sources.registry.integrity) {
      sources.failures.push({
        code: 'INTEGRITY_MISSING',
        message: `${registry} gives no sha512 integrity for ${label}, so its tarball cannot be bound to any evidence`,
        source: registry,
      });
    }
  } catch (err) {
    sources.failures.push(fetchFailure(err, registry));
  }
  return sources;
}
