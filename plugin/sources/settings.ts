import { dirname, resolve } from 'node:path';
import { type Configuration, SettingsType } from '@yarnpkg/core';
import { npath, type PortablePath, ppath } from '@yarnpkg/fslib';
import { DEFAULT_PINS_FILE } from '../../policy/pins-file-name';
import { PUBLIC_GOOD_FULCIO_URL, PUBLIC_GOOD_REKOR_URL } from './signing/public-good';

export type ModeOverride = 'enforce' | 'warn' | 'off';

// Declared settings. `tollgatePolicyPath` is required: the gate refuses to run without it, so a
// project that uses Tollgate always carries a Tollgate key in .yarnrc.yml, and removing the plugin
// while keeping the key makes Yarn refuse to run (unknown setting) instead of silently installing.
export const configuration = {
  tollgatePolicyPath: {
    description: 'Path of the Tollgate policy file, relative to the project root (required)',
    type: SettingsType.STRING,
    default: null,
    isNullable: true,
  },
  tollgateMode: {
    description: 'Overrides the policy mode for every rule: enforce, warn or off',
    type: SettingsType.STRING,
    default: null,
    isNullable: true,
    values: ['enforce', 'warn', 'off', null],
  },
  tollgateAttestationStores: {
    description: 'Attestation stores (npm attestations wire format) consulted in addition to each registry',
    type: SettingsType.STRING,
    isArray: true,
    default: [],
  },
  tollgateEvidenceFile: {
    description: 'Committed file binding yarn.lock checksums to registry tarballs and their evidence',
    type: SettingsType.STRING,
    default: '.tollgate.evidence.json',
  },
  tollgateCacheFolder: {
    description: 'Where verified evidence is cached between installs (defaults to <globalFolder>/tollgate)',
    type: SettingsType.ABSOLUTE_PATH,
    default: null,
    isNullable: true,
  },
  tollgateOffline: {
    description: 'Never use the network for evidence: rely on the evidence file and caches only',
    type: SettingsType.BOOLEAN,
    default: false,
  },
  tollgateConcurrency: {
    description: 'How many packages are checked at once',
    type: SettingsType.NUMBER,
    default: 16,
  },
  tollgateVerifierThreads: {
    description:
      "Worker threads verifying evidence; unset: chosen by the number of packages to verify and of cores (0: Yarn's own thread)",
    type: SettingsType.NUMBER,
    default: null,
    isNullable: true,
  },
  tollgateNetworkTimeout: {
    description:
      'Seconds one evidence or packument request may take (tarballs: four times as long); an origin that does not answer is not asked again in the same run',
    type: SettingsType.NUMBER,
    default: 30,
  },
  tollgateFulcioUrl: {
    description: 'Certificate authority (Fulcio API) used by `yarn tollgate sign` and `publish`',
    type: SettingsType.STRING,
    default: PUBLIC_GOOD_FULCIO_URL,
  },
  tollgateRekorUrl: {
    description: 'Transparency log (Rekor API) used by `yarn tollgate sign` and `publish`',
    type: SettingsType.STRING,
    default: PUBLIC_GOOD_REKOR_URL,
  },
  tollgatePublicGoodTufUrl: {
    description:
      'TUF repository `yarn tollgate trust update` refreshes the public-good trust root from (a mirror of the public one); installs never contact it',
    type: SettingsType.STRING,
    default: null,
    isNullable: true,
  },
  tollgateAttestationStoreToken: {
    description: 'Bearer token for adding bundles to the attestation stores (sign, publish)',
    type: SettingsType.SECRET,
    default: null,
    isNullable: true,
  },
} as const;

declare module '@yarnpkg/core' {
  interface ConfigurationValueMap {
    tollgatePolicyPath: string | null;
    tollgateMode: ModeOverride | null;
    tollgateAttestationStores: Array<string>;
    tollgateEvidenceFile: string;
    tollgateCacheFolder: PortablePath | null;
    tollgateOffline: boolean;
    tollgateConcurrency: number;
    tollgateVerifierThreads: number | null;
    tollgateNetworkTimeout: number;
    tollgateFulcioUrl: string;
    tollgateRekorUrl: string;
    tollgateAttestationStoreToken: string | null;
    tollgatePublicGoodTufUrl: string | null;
  }
}

export interface TollgateSettings {
  projectCwd: string;
  /** absolute native path, or null when the setting is missing */
  policyPath: string | null;
  modeOverride: ModeOverride | null;
  attestationStores: string[];
  evidenceFile: string;
  cacheFolder: string;
  offline: boolean;
  concurrency: number;
  /** null: chosen per run (engine/verifier-threads.ts) */
  verifierThreads: number | null;
  networkTimeoutMs: number;
  fulcioUrl: string;
  rekorUrl: string;
  attestationStoreToken: string | null;
  /** null: the public-good repository embedded in @sigstore/tuf's seeds */
  publicGoodTufUrl: string | null;
}

/** Reads the settings at call time (the plugin factory may run before the project's configuration exists). */
export function readSettings(configuration: Configuration): TollgateSettings {
  const projectCwd = configuration.projectCwd ?? configuration.startingCwd;
  const resolve = (p: string) => npath.fromPortablePath(ppath.resolve(projectCwd, npath.toPortablePath(p)));
  const policy = configuration.get('tollgatePolicyPath');
  const cache = configuration.get('tollgateCacheFolder');
  return {
    projectCwd: npath.fromPortablePath(projectCwd),
    policyPath: policy ? resolve(policy) : null,
    modeOverride: configuration.get('tollgateMode'),
    attestationStores: configuration.get('tollgateAttestationStores').map((s) => s.replace(/\/+$/, '')),
    evidenceFile: resolve(configuration.get('tollgateEvidenceFile')),
    cacheFolder: cache
      ? npath.fromPortablePath(cache)
      : npath.fromPortablePath(ppath.join(configuration.get('globalFolder'), 'tollgate' as PortablePath)),
    offline: configuration.get('tollgateOffline'),
    concurrency: Math.max(1, Math.floor(configuration.get('tollgateConcurrency'))),
    verifierThreads: threadsSetting(configuration.get('tollgateVerifierThreads')),
    networkTimeoutMs: Math.max(1, configuration.get('tollgateNetworkTimeout')) * 1000,
    fulcioUrl: configuration.get('tollgateFulcioUrl'),
    rekorUrl: configuration.get('tollgateRekorUrl'),
    attestationStoreToken: configuration.get('tollgateAttestationStoreToken'),
    publicGoodTufUrl: configuration.get('tollgatePublicGoodTufUrl'),
  };
}

/** At most 16 threads (more only add start-up cost); a negative count is none. */
function threadsSetting(value: number | null): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  return Math.min(16, Math.max(0, Math.floor(value)));
}

/** The pins file lives next to the policy. */
export function pinsPathFor(policyPath: string): string {
  return resolve(dirname(policyPath), DEFAULT_PINS_FILE);
}
