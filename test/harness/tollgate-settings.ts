import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TollgateSettings } from '../../plugin/sources/settings';
import { tempDir } from './paths';

/** Tollgate's settings for a throwaway project whose policy file holds `policyText` (no network endpoints). */
export function settingsFor(policyText: string, offline = false): TollgateSettings {
  const projectCwd = tempDir('project');
  const policyPath = join(projectCwd, '.tollgate.yml');
  writeFileSync(policyPath, policyText);
  return {
    projectCwd,
    policyPath,
    modeOverride: null,
    attestationStores: [],
    evidenceFile: join(projectCwd, '.tollgate.evidence.json'),
    cacheFolder: tempDir('cache'),
    offline,
    concurrency: 1,
    verifierThreads: null,
    networkTimeoutMs: 2_000,
    fulcioUrl: 'https://fulcio.invalid',
    rekorUrl: 'https://rekor.invalid',
    attestationStoreToken: null,
    publicGoodTufUrl: null,
  };
}
