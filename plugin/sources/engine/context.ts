import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Configuration, LocatorHash } from '@yarnpkg/core';
import {
  type Diagnostic,
  emptyPins,
  formatDiagnostic,
  loadPins,
  type Pins,
  type Policy,
} from '../../../policy';
import {
  createVerifierPool,
  loadTrustRoots,
  type TrustContext,
  type VerifierPool,
} from '../../../policy/evidence';
import { pinsPathFor, readSettings, type TollgateSettings } from '../settings';
import { ArchiveDigests } from './archive-digests';
import type { RemoteEvidence } from './check/sources';
import { Circuits } from './circuits';
import { loadConfiguredPolicy } from './configured-policy';
import { type EvidenceFile, readEvidenceFile } from './evidence-file';
import type { Network } from './fetching';
import { type KnownBadContext, KnownBadProblem, openKnownBad } from './known-bad';
import { LocalBindings } from './local-bindings';
import { prefetchPolicyBases } from './policy-bases';
import { ConfigurationProblem, type LoadedPolicy, openCacheKey } from './policy-load';
import { loadTrustRootsFor, TrustRootProblem, type TrustRootsLoad } from './trust-roots';
import { verifierThreads, verifierWorkerSource } from './verifier-threads';

export { loadConfiguredPolicy } from './configured-policy';
export { ConfigurationProblem, type LoadedPolicy, openCacheKey } from './policy-load';

/** What deciding without bytes needs: the policy, the clock and the mode override. */
export interface PolicyView {
  configuration: Configuration;
  policy: Policy;
  now: Date;
  modeOverride: TollgateSettings['modeOverride'];
}

export interface EngineContext extends PolicyView {
  settings: TollgateSettings;
  /** the policy path as shown to people: relative to the project root */
  policyFile: string;
  policyWarnings: Diagnostic[];
  pins: Pins;
  pinsPath: string;
  trust: TrustContext;
  /** where each trust root came from, and what to say about stale copies (trust-roots.ts) */
  trustRoots: TrustRootsLoad;
  verifier: VerifierPool;
  /** Sizes the verifier for a run: worker threads (both cores) when there are enough packages. */
  prepareVerifier(packages: number): Promise<void>;
  /** how many worker threads verify (0: the calling thread) */
  readonly verifierThreads: number;
  evidenceFile: EvidenceFile;
  /** lockfile bindings this machine derived itself */
  bindings: LocalBindings;
  /** what earlier runs read from the cache's archives, by file identity (archive-digests.ts) */
  archiveDigests: ArchiveDigests;
  /** the per-user key authenticating every cache (see cache-secret.ts) */
  cacheSecret: Buffer;
  /** the network, bounded: one circuit per origin, a timeout per request */
  net: Network;
  /** evidence requested from the network while Yarn was still fetching tarballs, per locator */
  prefetched: Map<LocatorHash, Promise<RemoteEvidence>>;
  /** configured sources found unreachable before any package needed them (reported once) */
  unreachableSources: Array<{ source: string; setting: string; cause: string }>;
  /** the known-bad database, the project's known-bad list and the verdict service (known-bad.ts) */
  knownBad: KnownBadContext;
  close(): Promise<void>;
}

/** Loads everything a check needs once per command: settings, policy, pins, trust roots, caches. */
export async function createEngineContext(
  configuration: Configuration,
  options: {
    now?: Date;
    offline?: boolean;
    /** judge with this policy text instead of the configured file (`yarn tollgate init` surveys with one) */
    policy?: { text: string; path: string };
    /** the policy, already loaded and validated (the install gate loads it before resolution) */
    loaded?: LoadedPolicy;
    /** what the install gate set up before Yarn's fetch step, to be shared with the checks after it */
    bindings?: LocalBindings;
    net?: Network;
    prefetched?: Map<LocatorHash, Promise<RemoteEvidence>>;
  } = {},
): Promise<EngineContext> {
  const settings = readSettings(configuration);
  if (options.offline) settings.offline = true;
  if (options.policy) settings.policyPath = options.policy.path;
  if (!options.loaded) await prefetchPolicyBases(settings, options.policy?.text);
  const loaded = options.loaded ?? loadConfiguredPolicy(settings, options.policy);
  const policy = loaded.policy;
  const policyFile = loaded.file;
  const cacheSecret = openCacheKey(settings);
  if (!settings.policyPath) throw new ConfigurationProblem('`tollgatePolicyPath` is not set');

  const pinsPath = pinsPathFor(settings.policyPath);
  let pins = emptyPins();
  let pinsText: string | null = null;
  try {
    pinsText = readFileSync(pinsPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigurationProblem(`the pins file ${pinsPath} cannot be read`);
    }
  }
  if (pinsText !== null) {
    const pinsFile = relative(settings.projectCwd, pinsPath);
    const parsed = loadPins(pinsText, pinsFile);
    if (!parsed.ok) {
      throw new ConfigurationProblem(
        `the pins file ${pinsFile} is invalid; restore it from version control`,
        parsed.errors.map(formatDiagnostic),
      );
    }
    pins = parsed.pins;
  }

  let trustRoots: TrustRootsLoad;
  try {
    trustRoots = await loadTrustRootsFor(settings, policy, policyFile, cacheSecret, {
      mode: settings.offline ? 'offline' : 'auto',
      now: options.now,
    });
  } catch (err) {
    if (err instanceof TrustRootProblem) throw new ConfigurationProblem(err.message);
    throw err;
  }
  let trust: TrustContext;
  try {
    trust = loadTrustRoots(
      trustRoots.specs,
      trustRoots.npmKeys ? { embeddedNpmKeys: false, npmKeys: trustRoots.npmKeys } : {},
    );
  } catch (err) {
    throw new ConfigurationProblem(`a trust root in ${policyFile} cannot be used: ${(err as Error).message}`);
  }

  let evidenceFile: EvidenceFile;
  try {
    evidenceFile = readEvidenceFile(settings.evidenceFile);
  } catch (err) {
    throw new ConfigurationProblem((err as Error).message);
  }

  const cacheDir = settings.cacheFolder;
  let verifier = await createVerifierPool(trust, { threads: 0, cacheDir, cacheSecret });
  let knownBad: KnownBadContext;
  try {
    knownBad = openKnownBad(
      configuration,
      settings,
      policy,
      cacheSecret,
      options.now ?? new Date(),
      settings.networkTimeoutMs,
    );
  } catch (err) {
    if (err instanceof KnownBadProblem) throw new ConfigurationProblem(err.message, err.details);
    throw err;
  }
  const bindings = options.bindings ?? new LocalBindings(cacheDir, cacheSecret, settings.projectCwd);
  const archiveDigests = new ArchiveDigests(cacheDir, cacheSecret, settings.projectCwd);
  return {
    configuration,
    settings,
    policy,
    policyFile,
    policyWarnings: loaded.warnings,
    modeOverride: settings.modeOverride,
    pins,
    pinsPath,
    trust,
    trustRoots,
    get verifier() {
      return verifier;
    },
    get verifierThreads() {
      return verifier.threads;
    },
    async prepareVerifier(packages: number) {
      const threads = packages === 0 ? 0 : (settings.verifierThreads ?? verifierThreads(packages));
      if (threads === 0) return;
      const threaded = await createVerifierPool(trust, {
        threads,
        cacheDir,
        cacheSecret,
        workerSource: verifierWorkerSource(),
      });
      await verifier.close();
      verifier = threaded;
    },
    evidenceFile,
    bindings,
    archiveDigests,
    cacheSecret,
    net: options.net ?? { configuration, circuits: new Circuits(), timeoutMs: settings.networkTimeoutMs },
    prefetched: options.prefetched ?? new Map(),
    unreachableSources: [],
    knownBad,
    now: options.now ?? new Date(),
    close: async () => {
      archiveDigests.flush();
      await Promise.all([verifier.close(), bindings.flush()]);
    },
  };
}
