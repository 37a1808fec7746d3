// The Yarn settings that decide what Tollgate can protect, read from .yarnrc.yml text (either version:
// the working tree's or the base ref's), and what changed between two versions of them.
import { createHash } from 'node:crypto';
import type { PolicyChange, SourceLocation } from '../../../policy';
import { parseYamlSource } from '../../../policy/source';

/** Yarn 4.18's defaults for the settings compared (enableScripts: false since 4.14; the age gate 1d). */
export const YARN_DEFAULTS = {
  enableScripts: false,
  npmMinimalAgeGate: '1d',
  approvedGitRepositories: [] as string[],
  checksumBehavior: 'throw',
};

export interface PluginEntry {
  path: string;
  checksum?: string;
  spec?: string;
}

export interface YarnrcView {
  file: string;
  data: Record<string, unknown>;
  locate(path: Array<string | number>): SourceLocation;
}

export function readYarnrc(text: string | null, file = '.yarnrc.yml'): YarnrcView | null {
  if (text === null) return null;
  const source = parseYamlSource(text, file);
  const data = source.data && typeof source.data === 'object' ? (source.data as Record<string, unknown>) : {};
  return { file, data, locate: (path) => source.locate(path) };
}

/** Yarn's duration setting, in milliseconds (a bare number is minutes, as Yarn reads it). */
export function yarnDurationMs(value: unknown): number | null {
  if (typeof value === 'number') return value * 60_000;
  if (typeof value !== 'string') return null;
  const m = /^(\d*\.?\d+)(ms|s|m|h|d|w)?$/.exec(value.trim());
  if (!m) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] ?? 'm']!;
  return Number.parseFloat(m[1]!) * unit;
}

export function tollgatePlugin(view: YarnrcView | null): PluginEntry | null {
  const plugins = view?.data.plugins;
  if (!Array.isArray(plugins)) return null;
  for (const entry of plugins) {
    const path = typeof entry === 'string' ? entry : (entry as { path?: unknown })?.path;
    if (typeof path !== 'string' || !/plugin-tollgate/.test(path)) continue;
    const e = typeof entry === 'string' ? {} : (entry as Record<string, unknown>);
    return {
      path,
      ...(typeof e.checksum === 'string' ? { checksum: e.checksum } : {}),
      ...(typeof e.spec === 'string' ? { spec: e.spec } : {}),
    };
  }
  return null;
}

export function pluginIndex(view: YarnrcView): number {
  const plugins = view.data.plugins as unknown[];
  return plugins.findIndex((entry) => {
    const path = typeof entry === 'string' ? entry : (entry as { path?: unknown })?.path;
    return typeof path === 'string' && /plugin-tollgate/.test(path);
  });
}

export function sha512Hex(bytes: Buffer): string {
  return createHash('sha512').update(bytes).digest('hex');
}

const MODE_RANK: Record<string, number> = { off: 0, warn: 1, enforce: 2 };

/** Age gates of the defaults, every scope and every registry: `where` → milliseconds. */
function ageGates(view: YarnrcView | null): Map<string, { ms: number; path: Array<string | number> }> {
  const out = new Map<string, { ms: number; path: Array<string | number> }>();
  const top = view?.data.npmMinimalAgeGate ?? YARN_DEFAULTS.npmMinimalAgeGate;
  out.set('npmMinimalAgeGate', { ms: yarnDurationMs(top) ?? 0, path: ['npmMinimalAgeGate'] });
  for (const section of ['npmScopes', 'npmRegistries'] as const) {
    const entries = view?.data[section];
    if (!entries || typeof entries !== 'object') continue;
    for (const [name, value] of Object.entries(entries as Record<string, Record<string, unknown>>)) {
      if (value && typeof value === 'object' && value.npmMinimalAgeGate !== undefined)
        out.set(`${section}.${name}.npmMinimalAgeGate`, {
          ms: yarnDurationMs(value.npmMinimalAgeGate) ?? 0,
          path: [section, name, 'npmMinimalAgeGate'],
        });
    }
  }
  return out;
}

function human(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of [
    ['w', 604_800_000],
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/**
 * What changed in .yarnrc.yml between the base and the head. `bundles` gives the plugin bundle's bytes
 * at each version (null: absent) so that a bundle that no longer matches its recorded checksum shows.
 */
export function diffYarnrc(
  base: YarnrcView | null,
  head: YarnrcView,
  policyMode: string,
  bundles: { base: Buffer | null; head: Buffer | null },
): PolicyChange[] {
  const out: PolicyChange[] = [];
  const at = (path: Array<string | number>) => head.locate(path);
  const value = (view: YarnrcView | null, key: string) => view?.data[key];
  const add = (change: Omit<PolicyChange, 'location'> & { path: Array<string | number> }) => {
    const { path, ...rest } = change;
    out.push({ ...rest, location: at(path) });
  };

  const scriptsBefore = value(base, 'enableScripts') ?? YARN_DEFAULTS.enableScripts;
  const scriptsAfter = value(head, 'enableScripts') ?? YARN_DEFAULTS.enableScripts;
  if (scriptsBefore !== scriptsAfter)
    add({
      code: scriptsAfter === true ? 'yarnrc-enable-scripts' : 'policy-tightened',
      relaxation: scriptsAfter === true,
      subject: 'enableScripts',
      message: `enableScripts ${String(scriptsBefore)} → ${String(scriptsAfter)}${scriptsAfter === true ? ": dependency builds run wherever the policy's scripts section lets them" : ''}`,
      before: String(scriptsBefore),
      after: String(scriptsAfter),
      path: ['enableScripts'],
    });

  const gatesBefore = ageGates(base);
  for (const [where, after] of ageGates(head)) {
    const before = gatesBefore.get(where) ?? gatesBefore.get('npmMinimalAgeGate')!;
    if (before.ms === after.ms) continue;
    const lowered = after.ms < before.ms;
    add({
      code: lowered ? 'yarnrc-age-gate-lowered' : 'policy-tightened',
      relaxation: lowered,
      subject: where,
      message: `${where} ${human(before.ms)} → ${human(after.ms)}${lowered && after.ms === 0 ? ': releases published a minute ago are installed' : ''}`,
      before: human(before.ms),
      after: human(after.ms),
      path: after.path,
    });
  }

  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const gitBefore = list(value(base, 'approvedGitRepositories'));
  const gitAfter = list(value(head, 'approvedGitRepositories'));
  const gitAdded = gitAfter.filter((g) => !gitBefore.includes(g));
  if (gitAdded.length)
    add({
      code: 'yarnrc-git-repositories-widened',
      relaxation: true,
      subject: 'approvedGitRepositories',
      message: `approvedGitRepositories adds ${gitAdded.map((g) => JSON.stringify(g)).join(', ')}${gitAdded.some((g) => g.includes('**') || g === '*') ? ': every git repository may be cloned and packed' : ''}`,
      before: JSON.stringify(gitBefore),
      after: JSON.stringify(gitAfter),
      path: ['approvedGitRepositories'],
    });

  const checksumBefore = value(base, 'checksumBehavior') ?? YARN_DEFAULTS.checksumBehavior;
  const checksumAfter = value(head, 'checksumBehavior') ?? YARN_DEFAULTS.checksumBehavior;
  if (checksumBefore !== checksumAfter)
    add({
      code: checksumAfter === 'throw' ? 'policy-tightened' : 'yarnrc-checksum-behavior',
      relaxation: checksumAfter !== 'throw',
      subject: 'checksumBehavior',
      message: `checksumBehavior ${String(checksumBefore)} → ${String(checksumAfter)}`,
      before: String(checksumBefore),
      after: String(checksumAfter),
      path: ['checksumBehavior'],
    });

  const modeBefore = (value(base, 'tollgateMode') as string | undefined) ?? null;
  const modeAfter = (value(head, 'tollgateMode') as string | undefined) ?? null;
  if (modeBefore !== modeAfter) {
    const effective = (m: string | null) => MODE_RANK[m ?? policyMode] ?? 2;
    const lowered = effective(modeAfter) < effective(modeBefore);
    add({
      code: lowered ? 'yarnrc-mode-override' : 'policy-tightened',
      relaxation: lowered,
      subject: 'tollgateMode',
      message: `tollgateMode ${modeBefore ?? '(unset: the policy decides)'} → ${modeAfter ?? '(unset: the policy decides)'}${lowered ? ` overrides every mode of the policy with ${modeAfter}` : ''}`,
      before: modeBefore ?? '(unset)',
      after: modeAfter ?? '(unset)',
      path: ['tollgateMode'],
    });
  }

  const pluginBefore = tollgatePlugin(base);
  const pluginAfter = tollgatePlugin(head);
  const policyPathBefore = value(base, 'tollgatePolicyPath');
  const policyPathAfter = value(head, 'tollgatePolicyPath');
  if ((pluginBefore && !pluginAfter) || (policyPathBefore !== undefined && policyPathAfter === undefined))
    add({
      code: 'yarnrc-plugin-removed',
      relaxation: true,
      subject: pluginAfter ? 'tollgatePolicyPath' : 'plugins',
      message: pluginAfter
        ? 'tollgatePolicyPath was removed: Tollgate has no policy to judge with'
        : 'the Tollgate plugin was removed from .yarnrc.yml: installs are no longer guarded',
      path: pluginAfter ? [] : ['plugins'],
    });
  else if (typeof policyPathBefore === 'string' && policyPathAfter !== policyPathBefore)
    add({
      code: 'yarnrc-policy-path-changed',
      relaxation: true,
      subject: 'tollgatePolicyPath',
      message: `tollgatePolicyPath ${policyPathBefore} → ${String(policyPathAfter)}: another policy file decides`,
      before: policyPathBefore,
      after: String(policyPathAfter),
      path: ['tollgatePolicyPath'],
    });
  if (pluginAfter) {
    const index = pluginIndex(head);
    const path = ['plugins', index];
    if (
      pluginBefore &&
      (pluginBefore.path !== pluginAfter.path || pluginBefore.checksum !== pluginAfter.checksum)
    )
      add({
        code: 'yarnrc-plugin-changed',
        relaxation: true,
        subject: 'plugins',
        message: `the Tollgate plugin changed: ${pluginBefore.path !== pluginAfter.path ? `${pluginBefore.path} → ${pluginAfter.path}` : `checksum ${pluginBefore.checksum?.slice(0, 16) ?? '(none)'}… → ${pluginAfter.checksum?.slice(0, 16) ?? '(none)'}…`}`,
        before: pluginBefore.checksum ?? pluginBefore.path,
        after: pluginAfter.checksum ?? pluginAfter.path,
        path,
      });
    const recorded = pluginAfter.checksum;
    const actual = bundles.head ? sha512Hex(bundles.head) : null;
    if (actual === null || (recorded !== undefined && actual !== recorded))
      add({
        code: 'yarnrc-plugin-changed',
        relaxation: true,
        subject: 'plugins',
        message:
          actual === null
            ? `the plugin bundle ${pluginAfter.path} is missing`
            : `the plugin bundle ${pluginAfter.path} does not match the checksum .yarnrc.yml records (sha512 ${actual.slice(0, 16)}…, recorded ${recorded!.slice(0, 16)}…): Yarn does not check it, so the replaced bundle would run`,
        path,
      });
    else if (
      pluginBefore &&
      bundles.base &&
      bundles.head &&
      pluginBefore.checksum === pluginAfter.checksum &&
      !bundles.base.equals(bundles.head)
    )
      add({
        code: 'yarnrc-plugin-changed',
        relaxation: true,
        subject: 'plugins',
        message: `the plugin bundle ${pluginAfter.path} changed while .yarnrc.yml records the same checksum`,
        path,
      });
  }

  const yarnPathBefore = value(base, 'yarnPath');
  const yarnPathAfter = value(head, 'yarnPath');
  if (yarnPathAfter !== undefined && yarnPathAfter !== yarnPathBefore)
    add({
      code: 'yarnrc-yarn-path-changed',
      relaxation: true,
      subject: 'yarnPath',
      message: `yarnPath ${String(yarnPathBefore ?? '(unset)')} → ${String(yarnPathAfter)}: another Yarn release runs every command`,
      path: ['yarnPath'],
    });

  for (const [key, weaker] of [
    ['tollgateOffline', (b: unknown, a: unknown) => a === true && b !== true],
    ['tollgateEvidenceFile', (b: unknown, a: unknown) => a !== b],
    ['tollgateCacheFolder', (b: unknown, a: unknown) => a !== b],
  ] as const) {
    const before = value(base, key);
    const after = value(head, key);
    if (weaker(before, after))
      add({
        code: 'yarnrc-tollgate-setting',
        relaxation: true,
        subject: key,
        message: `${key} ${String(before ?? '(unset)')} → ${String(after ?? '(unset)')}`,
        path: [key],
      });
  }
  diffOtherPlugins(base, head, add);
  diffRegistries(base, head, add);
  diffTransport(base, head, add);
  return out;
}

type AddChange = (change: Omit<PolicyChange, 'location'> & { path: Array<string | number> }) => void;

/** Every plugins entry but Tollgate's: path → a description of what is recorded for it. */
function otherPlugins(view: YarnrcView | null): Map<string, { text: string; index: number }> {
  const out = new Map<string, { text: string; index: number }>();
  const plugins = view?.data.plugins;
  if (!Array.isArray(plugins)) return out;
  plugins.forEach((entry, index) => {
    const fields = typeof entry === 'string' ? { path: entry } : ((entry ?? {}) as Record<string, unknown>);
    if (typeof fields.path !== 'string' || /plugin-tollgate/.test(fields.path)) return;
    out.set(fields.path, {
      text: JSON.stringify([fields.path, fields.checksum ?? null, fields.spec ?? null]),
      index,
    });
  });
  return out;
}

function diffOtherPlugins(base: YarnrcView | null, head: YarnrcView, add: AddChange): void {
  const before = otherPlugins(base);
  for (const [path, after] of otherPlugins(head)) {
    const was = before.get(path);
    if (was?.text === after.text) continue;
    add({
      code: 'yarnrc-plugin-added',
      relaxation: true,
      subject: `plugins: ${path}`,
      message: was
        ? `the Yarn plugin ${path} changed (checksum or spec): its code runs inside every Yarn command`
        : `a Yarn plugin was added (${path}): its code runs inside every Yarn command, before and around the gate`,
      path: ['plugins', after.index],
    });
  }
}

/** Registry URLs Yarn resolves packages from: setting path → URL. */
function registryUrls(view: YarnrcView | null): Map<string, { url: string; path: Array<string | number> }> {
  const out = new Map<string, { url: string; path: Array<string | number> }>();
  const top = view?.data.npmRegistryServer;
  if (typeof top === 'string') out.set('npmRegistryServer', { url: top, path: ['npmRegistryServer'] });
  const scopes = view?.data.npmScopes;
  if (scopes && typeof scopes === 'object')
    for (const [scope, value] of Object.entries(scopes as Record<string, unknown>)) {
      const url = (value as Record<string, unknown> | null)?.npmRegistryServer;
      if (typeof url === 'string')
        out.set(`npmScopes.${scope}.npmRegistryServer`, {
          url,
          path: ['npmScopes', scope, 'npmRegistryServer'],
        });
    }
  return out;
}

function diffRegistries(base: YarnrcView | null, head: YarnrcView, add: AddChange): void {
  const before = registryUrls(base);
  for (const [where, after] of registryUrls(head)) {
    const was = before.get(where)?.url;
    if (was === after.url) continue;
    add({
      code: 'yarnrc-registry-changed',
      relaxation: true,
      subject: where,
      message: `${where} ${was ?? "(unset: Yarn's default)"} → ${after.url}: packages it covers now come from another server`,
      before: was ?? '(unset)',
      after: after.url,
      path: after.path,
    });
  }
}

function diffTransport(base: YarnrcView | null, head: YarnrcView, add: AddChange): void {
  const value = (view: YarnrcView | null, key: string) => view?.data[key];
  if (value(head, 'enableStrictSsl') === false && value(base, 'enableStrictSsl') !== false)
    add({
      code: 'yarnrc-tls-weakened',
      relaxation: true,
      subject: 'enableStrictSsl',
      message: 'enableStrictSsl false: registry certificates are no longer checked',
      path: ['enableStrictSsl'],
    });
  for (const key of ['caFilePath', 'httpsCaFilePath', 'httpProxy', 'httpsProxy']) {
    const after = value(head, key);
    if (after === undefined || after === value(base, key)) continue;
    add({
      code: 'yarnrc-tls-weakened',
      relaxation: true,
      subject: key,
      message: `${key} ${String(value(base, key) ?? '(unset)')} → ${String(after)}: ${key.endsWith('Proxy') ? 'every request goes through this proxy' : 'a certificate authority this file names can answer for any registry'}`,
      path: [key],
    });
  }
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const plainBefore = list(value(base, 'unsafeHttpWhitelist'));
  const plainAdded = list(value(head, 'unsafeHttpWhitelist')).filter((host) => !plainBefore.includes(host));
  if (plainAdded.length)
    add({
      code: 'yarnrc-tls-weakened',
      relaxation: true,
      subject: 'unsafeHttpWhitelist',
      message: `unsafeHttpWhitelist adds ${plainAdded.map((h) => JSON.stringify(h)).join(', ')}: plain http is allowed to ${plainAdded.length === 1 ? 'that host' : 'those hosts'}`,
      path: ['unsafeHttpWhitelist'],
    });
}
