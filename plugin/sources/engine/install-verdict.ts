// The install-level verdict cache: when nothing that a decision depends on has changed since the last
// install that passed on this machine, its decisions stand, and a warm `yarn install` costs a few file
// hashes instead of re-verifying every package.
//
// The key covers every input of the decisions: the plugin version, the settings that change them
// (Tollgate's and Yarn's checksum behaviour), the policy, pins, evidence file and trust-root files
// (their bytes), and the resolved graph as Yarn holds it (install-graph.ts: every package with the
// checksum Yarn validated its archive against in this process, or the archive's own hash where Yarn
// does not validate, and every descriptor → locator edge), so the archives are covered. Decisions also
// depend on the clock (exception expiry, release age): an entry is valid until the earliest exception
// expiry and at most 12 hours. Entries are authenticated (authenticated-store.ts); an entry that does
// not authenticate, parse or match is ignored and everything is checked again.
//
// Two stages are keyed apart. `after-fetch` holds what an unchanged install needs of the decisions.
// `before-fetch` says only that the checks that need no bytes (stage 1) allowed every package of this
// graph, before Yarn's fetch step: it is keyed on the same inputs with yarn.lock's checksums in place
// of the linked archives, and lets a warm install skip stage 1; the decisions are still only taken
// from an `after-fetch` entry.
//
// An unchanged install says again only what warned or broke a rule, and reports builds; every other
// decision is a line of `--json` output at most. So the `after-fetch` entry holds the tally, those
// decisions and the locators whose builds may run (tens of kB where the full list is megabytes), and
// the full list is a second entry of the same key, written by an install that reports JSON and read
// only by one.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Decision } from '../../../policy';
import type { TollgateSettings } from '../settings';
import { TOLLGATE_VERSION } from '../version';
import { AuthenticatedStore } from './authenticated-store';
import type { Tally } from './tally';

const FORMAT = 'tollgate-install-verdict-v5';
const MAX_AGE_MS = 12 * 3600_000;

export type VerdictStage = 'before-fetch' | 'after-fetch';

/** What an unchanged install needs of the decisions an install that passed took. */
export interface RememberedDecisions {
  tally: Tally;
  /** the decisions it says again or whose builds it reports, in the order they were taken */
  said: Decision[];
  /** locators of the packages whose builds the decisions allow */
  buildable: string[];
}

export interface InstallVerdict extends RememberedDecisions {
  format: typeof FORMAT;
  stage: VerdictStage;
  key: string;
  createdAt: string;
  validUntil: string;
}

interface EveryDecision {
  format: typeof FORMAT;
  key: string;
  createdAt: string;
  decisions: Decision[];
}

const NOTHING_REMEMBERED: RememberedDecisions = {
  tally: { allowed: 0, warned: 0, denied: 0, verified: 0 },
  said: [],
  buildable: [],
};

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** What a verdict depends on besides the graph. */
export interface VerdictInputs {
  settings: TollgateSettings;
  pinsPath: string;
  /** the registry every scope (and the default, under "") resolves from */
  registries: Record<string, string>;
  /** Yarn settings that change which archive gets linked or what its checksum means */
  yarnSettings: Record<string, unknown>;
  /** other inputs of the decisions, by name (the known-bad database's state, the project's list) */
  inputs: Record<string, string>;
  /** the trust-root files and TUF roots the policy names (its summary, policy-load.ts): their bytes */
  trustRootFiles: readonly string[];
}

/** The digest of everything the install's decisions depend on; null when an input cannot be read. */
export function installVerdictKey(
  stage: VerdictStage,
  { settings, pinsPath, registries, yarnSettings, inputs, trustRootFiles }: VerdictInputs,
  /** install-graph.ts: graphBeforeFetch or graphAfterFetch, as the stage says */
  graph: readonly string[],
): string | null {
  if (!settings.policyPath) return null;
  const policyText = readOrNull(settings.policyPath);
  if (policyText === null) return null;
  const hash = createHash('sha256');
  const add = (label: string, value: string | null) => {
    hash.update(`${label}\0${value === null ? '\u0001absent' : value}\0`);
  };
  add('format', FORMAT);
  add('stage', stage);
  add('version', TOLLGATE_VERSION);
  add(
    'settings',
    JSON.stringify([
      settings.modeOverride,
      settings.attestationStores,
      settings.offline,
      settings.evidenceFile,
    ]),
  );
  add('yarn', JSON.stringify(Object.entries(yarnSettings).sort()));
  add('registries', JSON.stringify(Object.entries(registries).sort()));
  add('inputs', JSON.stringify(Object.entries(inputs).sort()));
  add('policy', `${settings.policyPath}\n${policyText}`);
  add('pins', readOrNull(pinsPath));
  add('evidence', readOrNull(settings.evidenceFile));
  for (const file of trustRootFiles) {
    const text = readOrNull(file);
    if (text === null) return null;
    add(`trust-root ${file}`, text);
  }
  add('graph', graph.join('\n'));
  return hash.digest('hex');
}

const verdictFolder = (cacheFolder: string) => join(cacheFolder, 'install-verdicts');

function store(cacheFolder: string, secret: Buffer): AuthenticatedStore {
  return new AuthenticatedStore(verdictFolder(cacheFolder), secret);
}

// What this module writes there: entries (by key, and the key's full list) and their temporary files.
const VERDICT_FILE = /^[0-9a-f]{64}(\.decisions)?(\.json|\.\d+\.[0-9a-z]+\.tmp)$/;

/**
 * Deletes the files of entries older than any verdict can be valid (every graph and policy an install
 * ever saw leaves one, in a folder shared by every project of this user). Judged by modification time:
 * a file whose time was set back is only deleted early, which costs a full check; reading never
 * trusts the time of a file, only the entry's own validity.
 */
function removeExpiredVerdicts(cacheFolder: string, now: Date): void {
  const dir = verdictFolder(cacheFolder);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!VERDICT_FILE.test(name)) continue;
    try {
      const path = join(dir, name);
      if (now.getTime() - statSync(path).mtimeMs > MAX_AGE_MS) unlinkSync(path);
    } catch {
      // gone already, or not ours to delete: either way nothing to do
    }
  }
}

/** The stored verdict for `key` if it authenticates, matches and is still valid at `now`. */
export function readInstallVerdict(
  cacheFolder: string,
  secret: Buffer,
  stage: VerdictStage,
  key: string,
  now: Date,
): InstallVerdict | null {
  const verdict = store(cacheFolder, secret).read<InstallVerdict>(key);
  if (
    !verdict ||
    verdict.format !== FORMAT ||
    verdict.stage !== stage ||
    verdict.key !== key ||
    typeof verdict.tally !== 'object' ||
    !Array.isArray(verdict.said) ||
    !Array.isArray(verdict.buildable)
  )
    return null;
  if (!(now.getTime() < Date.parse(verdict.validUntil))) return null;
  return verdict;
}

const everyDecisionName = (key: string) => `${key}.decisions`;

/** Every decision of the `after-fetch` verdict read before, or null when they were not stored with it. */
export function readEveryDecision(
  cacheFolder: string,
  secret: Buffer,
  verdict: InstallVerdict,
): Decision[] | null {
  const entry = store(cacheFolder, secret).read<EveryDecision>(everyDecisionName(verdict.key));
  if (
    !entry ||
    entry.format !== FORMAT ||
    entry.key !== verdict.key ||
    entry.createdAt !== verdict.createdAt ||
    !Array.isArray(entry.decisions)
  )
    return null;
  return entry.decisions;
}

/**
 * Stores what a passing install decided (`after-fetch`; with `every`, the full list too), or that its
 * stage 1 allowed everything (`before-fetch`, nothing remembered). Best effort: a failure to write
 * only costs speed next time.
 */
export function writeInstallVerdict(
  cacheFolder: string,
  secret: Buffer,
  stage: VerdictStage,
  key: string,
  remembered: RememberedDecisions | null,
  expiries: Date[],
  now: Date,
  every?: Decision[],
): void {
  const future = expiries.map((d) => d.getTime()).filter((t) => t > now.getTime());
  const createdAt = now.toISOString();
  const verdict: InstallVerdict = {
    format: FORMAT,
    stage,
    key,
    createdAt,
    validUntil: new Date(Math.min(now.getTime() + MAX_AGE_MS, ...future)).toISOString(),
    ...(remembered ?? NOTHING_REMEMBERED),
  };
  const entries = store(cacheFolder, secret);
  if (every) entries.write(everyDecisionName(key), { format: FORMAT, key, createdAt, decisions: every });
  entries.write(key, verdict);
  if (stage === 'after-fetch') removeExpiredVerdicts(cacheFolder, now);
}
