// Where a check's facts come from. Online: what the registry and the attestation stores say now,
// fetched in this run — by the install gate while Yarn is still downloading tarballs (prefetch.ts),
// else when the check needs it. Always: the committed evidence record for the locator, which is a
// claim to be checked, never a source of times.
//
// What each check needs from the registry, and from where:
//   dist.integrity          binding the tarball (stage 2)           the version's document
//   dist.signatures         registry-signature evidence (stage 4)   the version's document
//   dist.attestations.url   provenance and publish attestations     the version's document
//   time[version]           the unsigned release-age fallback, and  full packument, fetched only when
//                           a registry key's validity at publish    a decision needs it
// The version's document (GET /<name>/<version>) is a few kilobytes; even the abbreviated packument
// of a popular package is megabytes (every version's dist and dependencies): on a real 757-package
// project 153 MiB, more than its tarballs. A registry without per-version documents (404) is asked for
// the abbreviated packument instead.
import type { Ident, Locator } from '@yarnpkg/core';
import type { EvidenceFailure, RegistrySignature } from '../../../../policy/evidence';
import type { EngineContext } from '../context';
import { type EvidenceRecord, recordKey } from '../evidence-file';
import {
  attestationStoreUrl,
  FetchFailure,
  fetchAttestations,
  fetchPackument,
  fetchVersionDocument,
  type Network,
  probeStore,
} from '../fetching';
import type { Classified } from './classify';

export interface RegistryVersion {
  /** dist.integrity when it is a sha512 SRI */
  integrity?: string;
  signatures: RegistrySignature[];
  attestationsUrl?: string;
  /** the packument's `time[version]`, read in this run (only when a decision needs it): unsigned */
  publishedAt?: Date;
}

/** One attestations document: the bundles it served, or why it could not be read. */
export interface AttestationsAnswer {
  url: string;
  bundles?: string[];
  failure?: EvidenceFailure;
}

/** Everything the network says about one package version, fetched together. */
export interface RemoteEvidence {
  registry?: RegistryVersion;
  /** what went wrong reading the registry (each one a reason in the decision) */
  failures: EvidenceFailure[];
  attestations: AttestationsAnswer[];
}

export interface Sources {
  online: boolean;
  registry?: RegistryVersion;
  failures: EvidenceFailure[];
  /** online: the attestations documents of the registry and every configured store */
  attestations: AttestationsAnswer[];
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
  return { online: false, failures: [], attestations: [], ...(record ? { record } : {}) };
}

/**
 * The registry's document for the version, then every attestations document it and the configured
 * stores hold for it.
 */
export async function fetchRemoteEvidence(
  net: Network,
  stores: readonly string[],
  ident: Ident,
  name: string,
  version: string,
  registry: string,
): Promise<RemoteEvidence> {
  const remote: RemoteEvidence = { failures: [], attestations: [] };
  const label = `${name}@${version}`;
  try {
    const doc = await versionDocument(net, ident, name, version, registry);
    if (!doc) {
      remote.failures.push({
        code: 'VERSION_NOT_IN_PACKUMENT',
        message: `${label} is not listed by ${registry}: it may have been unpublished or the lockfile points elsewhere`,
        source: registry,
      });
    } else {
      const integrity = doc.dist?.integrity;
      remote.registry = {
        signatures: Array.isArray(doc.dist?.signatures) ? doc.dist.signatures : [],
        ...(typeof integrity === 'string' && integrity.startsWith('sha512-') ? { integrity } : {}),
        ...(typeof doc.dist?.attestations?.url === 'string'
          ? { attestationsUrl: doc.dist.attestations.url }
          : {}),
      };
      if (!remote.registry.integrity) {
        remote.failures.push({
          code: 'INTEGRITY_MISSING',
          message: `${registry} gives no sha512 integrity for ${label}, so its tarball cannot be bound to any evidence`,
          source: registry,
        });
      }
    }
  } catch (err) {
    remote.failures.push(fetchFailure(err, registry));
  }
  const urls: Array<{ url: string; store?: string }> = [
    ...(remote.registry?.attestationsUrl ? [{ url: remote.registry.attestationsUrl }] : []),
    ...stores.map((store) => ({ url: attestationStoreUrl(store, name, version), store })),
  ];
  remote.attestations = await Promise.all(
    urls.map(async ({ url, store }): Promise<AttestationsAnswer> => {
      try {
        const batched = store ? await net.storeBatches?.answer(store, { name, version }) : null;
        // A store is asked once whether it answers at all before any package's request goes to it:
        // a dead one costs one timeout, not one per package.
        if (store && !batched) await probeStore(store, net).catch(() => {});
        const { attestations } = batched ?? (await fetchAttestations(url, net));
        return { url, bundles: attestations.map((a) => JSON.stringify(a.bundle)) };
      } catch (err) {
        return { url, failure: fetchFailure(err, url) };
      }
    }),
  );
  return remote;
}

/**
 * The version's own document; where the registry has none (404), the version as the abbreviated
 * packument lists it, so that a registry without per-version documents still answers and "not
 * published" is never concluded from one missing route. A document naming another version (a
 * registry resolving the path as a dist-tag, say) is not this version's.
 */
async function versionDocument(
  net: Network,
  ident: Ident,
  name: string,
  version: string,
  registry: string,
): Promise<Record<string, any> | undefined> {
  const doc = await fetchVersionDocument(ident, version, registry, net);
  if (doc) {
    const names = doc.name === undefined || doc.name === name;
    return doc.version === version && names ? doc : undefined;
  }
  const packument = await fetchPackument(ident, registry, net);
  const listed = packument.versions?.[version];
  return listed && typeof listed === 'object' ? listed : undefined;
}

/** The network's evidence for the check's package: prefetched during Yarn's fetch step, or fetched now. */
export async function onlineSources(ctx: EngineContext, c: Classified): Promise<Sources> {
  const npm = c.npm!;
  const hash = npm.locator.locatorHash;
  const pending = ctx.prefetched.get(hash);
  ctx.prefetched.delete(hash);
  const remote = await (pending ??
    fetchRemoteEvidence(
      ctx.net,
      ctx.settings.attestationStores,
      npm.locator,
      npm.name,
      npm.version!,
      c.registry!,
    ));
  return {
    ...localSources(ctx, c),
    online: true,
    ...(remote.registry ? { registry: { ...remote.registry } } : {}),
    failures: [...remote.failures],
    attestations: remote.attestations,
  };
}

/**
 * The registry's (unsigned) publish time of the version, from the full packument: fetched only when a
 * decision needs it (the release-age fallback, a registry key that has expired since).
 */
export async function fetchPublishTime(
  net: Network,
  locator: Locator,
  version: string,
  registry: string,
): Promise<Date | undefined> {
  try {
    const packument = await fetchPackument(locator, registry, net, { full: true });
    const time = packument.time?.[version];
    return typeof time === 'string' && !Number.isNaN(Date.parse(time)) ? new Date(time) : undefined;
  } catch {
    return undefined;
  }
}
