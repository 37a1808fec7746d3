import type { LocatorHash, Package, Project } from '@yarnpkg/core';
import { fetchRemoteEvidence, type RemoteEvidence } from '../engine/check/sources';
import { Circuits } from '../engine/circuits';
import { openCacheKey } from '../engine/context';
import { recordKey } from '../engine/evidence-file';
import type { Network } from '../engine/fetching';
import { LocalBindings, NOT_INSTALLED_HERE } from '../engine/local-bindings';
import { classifyLocator, packagesToCheck } from '../engine/locators';
import { registryFor } from '../engine/registries';
import { askStoresInBatches } from '../engine/store-batches';
import { readSettings } from '../settings';
import { gateIsOff } from './gate-policy';

/** What the gate sets up before Yarn's fetch step and hands to the checks after it. */
export interface EarlyEvidence {
  bindings: LocalBindings;
  net: Network;
  prefetched: Map<LocatorHash, Promise<RemoteEvidence>>;
}

/**
 * What the checks will ask the network depends only on the lockfile: so it is asked while Yarn is
 * still downloading tarballs, instead of after. Only for packages this machine has not bound yet (a
 * bound package is judged from local records, and a warm install asks nothing), and with the same
 * bounded concurrency and circuits the checks use. Never decides anything: the checks do.
 */
export function startEvidencePrefetch(project: Project): EarlyEvidence | null {
  const configuration = project.configuration;
  if (gateIsOff(configuration)) return null;
  const settings = readSettings(configuration);
  if (settings.offline || !settings.policyPath) return null;
  let secret: Buffer;
  try {
    secret = openCacheKey(settings);
  } catch {
    return null; // the gate reports the problem after the fetch step
  }
  const early: EarlyEvidence = {
    bindings: new LocalBindings(settings.cacheFolder, secret, settings.projectCwd),
    net: { configuration, circuits: new Circuits(), timeoutMs: settings.networkTimeoutMs },
    prefetched: new Map(),
  };
  const queue: Array<() => void> = [];
  let running = 0;
  const limit = <T>(task: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve) => {
      const start = () => {
        running++;
        task()
          .then(resolve)
          .finally(() => {
            running--;
            queue.shift()?.();
          });
      };
      if (running < settings.concurrency) start();
      else queue.push(start);
    });

  const wanted: Array<{ pkg: Package; name: string; version: string; registry: string }> = [];
  for (const pkg of packagesToCheck(project.storedPackages.values())) {
    if (project.tryWorkspaceByLocator(pkg)) continue;
    const classified = classifyLocator(pkg, pkg.version);
    if (classified.kind !== 'npm' || !classified.version) continue;
    const key = recordKey(pkg);
    const installed = !project.disabledLocators.has(pkg.locatorHash);
    const checksum = installed ? (project.storedChecksums.get(pkg.locatorHash) ?? null) : NOT_INSTALLED_HERE;
    if (checksum !== null && early.bindings.lookup(key, checksum) !== null) continue;
    // A conditional package yarn.lock pins no checksum for: its archive is hashed after the fetch step;
    // one this machine bound before is most likely that archive again (if not, the check asks then).
    if (checksum === null && early.bindings.boundAny(key)) continue;
    wanted.push({
      pkg,
      name: classified.name,
      version: classified.version,
      registry: registryFor(pkg, configuration),
    });
  }
  askStoresInBatches(early.net, settings.attestationStores, wanted);
  for (const { pkg, name, version, registry } of wanted) {
    early.prefetched.set(
      pkg.locatorHash,
      limit(() => fetchRemoteEvidence(early.net, settings.attestationStores, pkg, name, version, registry)),
    );
  }
  return early;
}
