// The doctor's checks of Yarn's own settings and of the plugin bundle Yarn loads: what makes Tollgate's
// protection weaker without anyone seeing it in an install. Pure: the facts are gathered by gather.ts
// (from Yarn's configuration, the settings files and the bundle bytes), so the tests need no Yarn.
import type { DoctorFinding } from '../../../policy/doctor';
import { sha512Hex } from '../review/yarnrc';

/** An effective setting and where Yarn took it from (a settings file, `<environment>`, `<default>`). */
export interface SettingFact<T> {
  value: T;
  source: string;
}

/** One plugins entry of a settings file that loads Tollgate. */
export interface PluginFact {
  /** the settings file that lists it */
  rcFile: string;
  /** as written in the settings file */
  path: string;
  /** the checksum the settings file records (sha512 hex, as `yarn plugin import` writes it) */
  checksum?: string;
  /** the bundle's bytes; null when the file does not exist */
  bytes: Buffer | null;
}

export interface YarnSettingFacts {
  enableScripts: SettingFact<boolean>;
  /** the default age gate and each scope's or registry's own, in minutes as Yarn reads them */
  ageGates: Array<SettingFact<number> & { setting: string }>;
  approvedGitRepositories: SettingFact<string[]>;
  checksumBehavior: SettingFact<string>;
  /** every settings file that sets tollgateMode */
  rcModes: Array<{ rcFile: string; value: string }>;
  /** YARN_TOLLGATE_MODE, when set */
  envMode?: string;
  plugins: PluginFact[];
}

/** What the policy says about builds, so that enableScripts can be judged against it. */
export interface PolicyBuildFacts {
  file: string;
  /** scripts.default */
  scriptsDefault: 'deny' | 'allow-verified' | 'allow';
  /** the mode withheld builds get: scripts.mode, else the policy's mode */
  scriptsMode: 'enforce' | 'warn' | 'off';
  /** where the scripts section is, when the policy has one */
  scriptsWhere?: string;
}

const WEAK_MODES = new Set(['warn', 'off']);

/** A pattern that approves every git repository: nothing but wildcards, separators and a scheme. */
export function approvesAnyRepository(pattern: string): boolean {
  const rest = pattern.trim().replace(/^[a-z+*]*:\/\//i, '');
  return /^[*/.:@]*$/.test(rest) && rest.includes('*');
}

const where = (source: string) => (source === '<default>' ? "Yarn's default" : source);

export function checkYarnSettings(facts: YarnSettingFacts, policy: PolicyBuildFacts | null): DoctorFinding[] {
  const out: DoctorFinding[] = [];

  if (facts.enableScripts.value === true && policy) {
    const unrestricted =
      policy.scriptsDefault === 'allow'
        ? `the policy's scripts.default is allow: every package the gate allows runs its build`
        : policy.scriptsMode === 'off'
          ? `the policy's builds are judged in mode off: no build is withheld`
          : null;
    if (unrestricted)
      out.push({
        check: 'scripts-unrestricted',
        severity: 'error',
        subject: 'enableScripts',
        where: where(facts.enableScripts.source),
        message: `enableScripts is true and ${unrestricted}, approved by no one`,
        fix: `set enableScripts: false, or scripts.default: deny in ${policy.file} and approve builds with \`yarn tollgate scripts approve\``,
      });
  }

  for (const gate of facts.ageGates) {
    if (gate.value > 0) continue;
    out.push({
      check: 'age-gate-off',
      severity: 'error',
      subject: gate.setting,
      where: where(gate.source),
      message: `${gate.setting} is 0: a release published a minute ago is installed before anyone could notice it is malicious`,
      fix: `remove ${gate.setting} (Yarn's default is 1d) or set it to at least 1d`,
    });
  }

  const any = facts.approvedGitRepositories.value.filter(approvesAnyRepository);
  if (any.length > 0)
    out.push({
      check: 'git-any-repository',
      severity: 'error',
      subject: 'approvedGitRepositories',
      where: where(facts.approvedGitRepositories.source),
      message: `approvedGitRepositories has ${any.map((p) => JSON.stringify(p)).join(', ')}: Yarn clones and packs any git repository a dependency names, running that repository's own scripts`,
      fix: 'list the exact repositories (e.g. "https://github.com/acme/lib.git") instead of a wildcard',
    });

  if (facts.checksumBehavior.value !== 'throw')
    out.push({
      check: 'checksum-behavior',
      severity: 'error',
      subject: 'checksumBehavior',
      where: where(facts.checksumBehavior.source),
      message: `checksumBehavior is ${facts.checksumBehavior.value}: Yarn accepts an archive that does not match the checksum yarn.lock records`,
      fix: 'remove checksumBehavior (the default, throw, refuses a mismatching archive)',
    });

  for (const rc of facts.rcModes) {
    if (!WEAK_MODES.has(rc.value)) continue;
    out.push({
      check: 'mode-override-rc',
      severity: 'error',
      subject: 'tollgateMode',
      where: rc.rcFile,
      message: `tollgateMode: ${rc.value} in ${rc.rcFile} overrides every mode of the policy: violations ${rc.value === 'off' ? 'are not even checked' : 'only warn'}`,
      fix: `remove tollgateMode from ${rc.rcFile}; lower a mode in the policy, per rule, where it is reviewed`,
    });
  }
  if (facts.envMode !== undefined && WEAK_MODES.has(facts.envMode))
    out.push({
      check: 'mode-override-env',
      severity: 'error',
      subject: 'YARN_TOLLGATE_MODE',
      where: '<environment>',
      message: `YARN_TOLLGATE_MODE=${facts.envMode} overrides every mode of the policy in this environment: violations ${facts.envMode === 'off' ? 'are not even checked' : 'only warn'}`,
      fix: 'unset YARN_TOLLGATE_MODE (in the shell, the CI job or its secrets)',
    });

  for (const plugin of facts.plugins) {
    const problem =
      plugin.bytes === null
        ? `the plugin bundle ${plugin.path} that ${plugin.rcFile} loads does not exist`
        : plugin.checksum === undefined
          ? `${plugin.rcFile} records no checksum for the plugin bundle ${plugin.path}: nothing says which bundle was reviewed`
          : sha512Hex(plugin.bytes) !== plugin.checksum
            ? `the plugin bundle ${plugin.path} does not match the checksum ${plugin.rcFile} records (sha512 ${sha512Hex(plugin.bytes).slice(0, 16)}…, recorded ${plugin.checksum.slice(0, 16)}…): Yarn does not check a local plugin, so this bundle runs, unguarded, in every Yarn command`
            : null;
    if (problem)
      out.push({
        check: 'plugin-bundle',
        severity: 'error',
        subject: plugin.path,
        where: plugin.rcFile,
        message: problem,
        fix: 'restore the bundle from version control, or import a signed release again with `yarn plugin import <bundle>` (which records its checksum), and find out who changed it',
      });
  }
  return out;
}
