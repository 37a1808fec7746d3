// The facts `yarn tollgate doctor` judges, read without changing the project (the network only for URL
// bases the policy extends, as every command loads its policy): the
// effective Yarn settings and where each came from, every settings file's plugin entry and bundle bytes,
// the policy (with its bases), pins, yarn.lock's packages, and the trust roots in use — files as
// committed, TUF roots as their authenticated cache holds them (a missing cache is not refreshed here).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { Configuration, folderUtils, Project, structUtils } from '@yarnpkg/core';
import { npath, type PortablePath } from '@yarnpkg/fslib';
import { trustRootsToLoad } from '../../../policy';
import {
  checkExceptions,
  checkStalePins,
  checkTrustedRootExpiry,
  checkTufMetadata,
  type DoctorFinding,
} from '../../../policy/doctor';
import { embeddedPublicGoodTrustedRoot } from '../../../policy/evidence';
import { embeddedPublicGoodTufRoot } from '../../../policy/evidence/trust/seeds';
import { inspectTufCache } from '../../../policy/evidence/trust/tuf-cache';
import { emptyPins, formatDiagnostic, loadPins, type Pins, type Policy } from '../../../policy/index';
import { ConfigurationProblem, loadConfiguredPolicy, openCacheKey } from '../engine/context';
import { prefetchPolicyBases } from '../engine/policy-bases';
import { pinsPathFor, readSettings, type TollgateSettings } from '../settings';
import { checkYarnSettings, type PluginFact, type YarnSettingFacts } from './settings-checks';

export interface DoctorResult {
  findings: DoctorFinding[];
  /** what was looked at, for the summary line */
  checked: string[];
  /** the policy, pins, trust roots or project could not be read: only the settings were checked */
  problem?: ConfigurationProblem;
}

interface RcFile {
  path: string;
  cwd: string;
  data: Record<string, unknown>;
}

async function settingsFiles(configuration: Configuration): Promise<RcFile[]> {
  const found = await Configuration.findRcFiles(configuration.startingCwd);
  const files: RcFile[] = found.map((f) => ({
    path: npath.fromPortablePath(f.path),
    cwd: npath.fromPortablePath(f.cwd),
    data: (f.data ?? {}) as Record<string, unknown>,
  }));
  const home = await Configuration.findFolderRcFile(folderUtils.getHomeFolder());
  if (home && !files.some((f) => f.path === npath.fromPortablePath(home.path)))
    files.push({
      path: npath.fromPortablePath(home.path),
      cwd: npath.fromPortablePath(home.cwd),
      data: (home.data ?? {}) as Record<string, unknown>,
    });
  return files;
}

function display(settings: TollgateSettings, path: string): string {
  const rel = relative(settings.projectCwd, path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function sourceOf(configuration: Configuration, settings: TollgateSettings, key: string): string {
  const source = configuration.sources.get(key);
  if (!source) return '<default>';
  if (source.startsWith('<')) return source;
  return display(settings, npath.fromPortablePath(source as PortablePath));
}

function yarnFacts(
  configuration: Configuration,
  settings: TollgateSettings,
  rcs: RcFile[],
): YarnSettingFacts {
  const ageGates: YarnSettingFacts['ageGates'] = [
    {
      setting: 'npmMinimalAgeGate',
      value: Number(configuration.get('npmMinimalAgeGate')),
      source: sourceOf(configuration, settings, 'npmMinimalAgeGate'),
    },
  ];
  for (const section of ['npmScopes', 'npmRegistries'] as const) {
    const entries = configuration.get(section) as Map<string, Map<string, unknown>>;
    for (const [name, entry] of entries) {
      const value = entry.get('npmMinimalAgeGate');
      if (value === null || value === undefined) continue;
      // A scope or registry repeats the setting only to differ from the default: judge it on its own.
      ageGates.push({
        setting: `${section}.${name}.npmMinimalAgeGate`,
        value: Number(value),
        source: sourceOf(configuration, settings, section),
      });
    }
  }
  const plugins: PluginFact[] = [];
  const rcModes: YarnSettingFacts['rcModes'] = [];
  for (const rc of rcs) {
    if (typeof rc.data.tollgateMode === 'string')
      rcModes.push({ rcFile: display(settings, rc.path), value: rc.data.tollgateMode });
    if (!Array.isArray(rc.data.plugins)) continue;
    for (const entry of rc.data.plugins as unknown[]) {
      const path = typeof entry === 'string' ? entry : (entry as { path?: unknown })?.path;
      if (typeof path !== 'string' || !/plugin-tollgate/.test(path)) continue;
      const checksum = typeof entry === 'object' ? (entry as { checksum?: unknown }).checksum : undefined;
      let bytes: Buffer | null = null;
      try {
        bytes = readFileSync(resolve(rc.cwd, path));
      } catch {}
      plugins.push({
        rcFile: display(settings, rc.path),
        path,
        ...(typeof checksum === 'string' ? { checksum } : {}),
        bytes,
      });
    }
  }
  const envMode = process.env.YARN_TOLLGATE_MODE;
  return {
    enableScripts: {
      value: configuration.get('enableScripts') === true,
      source: sourceOf(configuration, settings, 'enableScripts'),
    },
    ageGates,
    approvedGitRepositories: {
      value: (configuration.get('approvedGitRepositories') as string[]) ?? [],
      source: sourceOf(configuration, settings, 'approvedGitRepositories'),
    },
    checksumBehavior: {
      value: String(configuration.get('checksumBehavior')),
      source: sourceOf(configuration, settings, 'checksumBehavior'),
    },
    rcModes,
    ...(envMode ? { envMode } : {}),
    plugins,
  };
}

function readPins(settings: TollgateSettings): { pins: Pins; file: string } {
  const path = pinsPathFor(settings.policyPath!);
  const file = display(settings, path);
  if (!existsSync(path)) return { pins: emptyPins(), file };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigurationProblem(
      `the pins file ${file} cannot be read (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  const parsed = loadPins(text, file);
  if (!parsed.ok)
    throw new ConfigurationProblem(
      `the pins file ${file} is invalid; restore it from version control`,
      parsed.errors.map(formatDiagnostic),
    );
  return { pins: parsed.pins, file };
}

async function installedNames(configuration: Configuration): Promise<Set<string>> {
  try {
    const { project } = await Project.find(configuration, configuration.startingCwd);
    return new Set([...project.originalPackages.values()].map((p) => structUtils.stringifyIdent(p)));
  } catch (err) {
    throw new ConfigurationProblem(
      `the project cannot be read (${(err instanceof Error ? err.message : String(err)).split('\n')[0]}); if yarn.lock is damaged, restore it from version control`,
    );
  }
}

/** The trust roots in use, read as installs would use them, without refreshing or repairing anything. */
function trustFindings(
  settings: TollgateSettings,
  policy: Policy,
  policyFile: string,
  secret: Buffer,
  now: Date,
): DoctorFinding[] {
  const out: DoctorFinding[] = [];
  const base = dirname(settings.policyPath!);
  const tufRoot = (name: string, metadataUrl: string, anchor: Buffer, refreshedByInstalls: boolean) => {
    const url = metadataUrl.replace(/\/+$/, '');
    const cache = inspectTufCache(settings.cacheFolder, url, anchor, secret);
    // verifiedAt 0: tuf-js followed the chain once but no refresh ever completed; nothing verified is used.
    if (!cache || Date.parse(cache.state.verifiedAt) === 0) return null;
    const text = (file: string) => cache.files.get(file)?.toString('utf8');
    const metadata: Record<string, string> = {};
    for (const role of ['root', 'timestamp', 'snapshot', 'targets']) {
      const t = text(`metadata/${role}.json`);
      if (t !== undefined) metadata[role] = t;
    }
    out.push(
      ...checkTufMetadata(
        { name, metadataUrl: url, verifiedAt: new Date(cache.state.verifiedAt), metadata },
        now,
        refreshedByInstalls,
      ),
    );
    return text('targets/trusted_root.json') ?? null;
  };

  const seed = embeddedPublicGoodTufRoot();
  const publicGoodUrl = settings.publicGoodTufUrl ?? seed.metadataUrl;
  // Installs never refresh public-good (only `trust update` does); policy roots when online.
  const publicGood = tufRoot('public-good', publicGoodUrl, seed.root, false);
  out.push(
    ...checkTrustedRootExpiry(
      'public-good',
      publicGood ? publicGoodUrl : 'the copy embedded in @sigstore/tuf',
      publicGood ?? embeddedPublicGoodTrustedRoot(),
      now,
    ),
  );
  for (const root of trustRootsToLoad(policy)) {
    if (root.tuf !== undefined && root.root !== undefined) {
      let anchor: Buffer;
      try {
        anchor = readFileSync(resolve(base, root.root));
      } catch (err) {
        throw new ConfigurationProblem(
          `the TUF root.json of trust root "${root.name}" (trustRoots.${root.name}.root in ${policyFile}) cannot be read (${(err as NodeJS.ErrnoException).code})`,
        );
      }
      const json = tufRoot(root.name, root.tuf, anchor, !settings.offline);
      if (json !== null) out.push(...checkTrustedRootExpiry(root.name, root.tuf, json, now));
      continue;
    }
    const path = resolve(base, root.file!);
    let json: string;
    try {
      json = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigurationProblem(
        `the trusted root "${root.name}" ${display(settings, path)} (trustRoots.${root.name} in ${policyFile}) cannot be read (${(err as NodeJS.ErrnoException).code})`,
      );
    }
    out.push(...checkTrustedRootExpiry(root.name, display(settings, path), json, now));
  }
  return out;
}

/**
 * Every doctor check. A policy, pins file or project that cannot be read is `problem` (a
 * ConfigurationProblem); the checks of Yarn's settings and the bundle, which need none of them, are
 * still made, so a broken project still hears that its plugin bundle was replaced.
 */
export async function runDoctor(configuration: Configuration, now = new Date()): Promise<DoctorResult> {
  const settings = readSettings(configuration);
  const rcs = await settingsFiles(configuration);
  const facts = yarnFacts(configuration, settings, rcs);
  const checked = [`${rcs.length} settings file(s)`, `${facts.plugins.length} plugin bundle(s)`];
  try {
    await prefetchPolicyBases(settings);
    const loaded = loadConfiguredPolicy(settings);
    const policy = loaded.policy;
    const secret = openCacheKey(settings);
    const { pins, file: pinsFile } = readPins(settings);
    const installed = await installedNames(configuration);
    const findings: DoctorFinding[] = [
      ...checkYarnSettings(facts, {
        file: loaded.file,
        scriptsDefault: policy.scripts.default,
        scriptsMode: policy.scripts.mode ?? policy.mode,
      }),
      ...trustFindings(settings, policy, loaded.file, secret, now),
      ...checkExceptions(policy, now),
      ...checkStalePins(pins, installed, pinsFile),
    ];
    checked.push(
      loaded.file,
      pinsFile,
      `${installed.size} installed package name(s)`,
      `${trustRootsToLoad(policy).length + 1} trust root(s)`,
    );
    return { findings, checked };
  } catch (err) {
    if (!(err instanceof ConfigurationProblem)) throw err;
    return { findings: checkYarnSettings(facts, null), checked, problem: err };
  }
}
