// `policy diff` / `audit --base`: the repository's Tollgate configuration now (the working tree) and at
// a base ref (read with git), each policy merged with its bases, compared: policy, pins, trust-root
// contents, .yarnrc.yml and the plugin bundle.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import {
  diffKnownBadLists,
  KNOWN_BAD_LIST_FILE,
  type KnownBadList,
  loadKnownBadList,
} from '../../../knownbad';
import {
  diffPins,
  diffPolicies,
  formatDiagnostic,
  loadPins,
  loadPolicyTree,
  type Pins,
  type Policy,
  type PolicyChange,
  type SourceLocation,
} from '../../../policy';
import { ConfigurationProblem } from '../engine/context';
import { type FileReader, policyBaseResolver, prefetchPolicyBases } from '../engine/policy-bases';
import { pinsPathFor, type TollgateSettings } from '../settings';
import { type GitBase, openGitBase } from './git';
import { diffYarnrc, readYarnrc, tollgatePlugin } from './yarnrc';

export interface Review {
  ref: string;
  commit: string;
  changes: PolicyChange[];
  /** things said about the comparison itself (no policy at the base, an invalid base) */
  notes: string[];
}

function enoent(path: string): Error {
  return Object.assign(new Error(`ENOENT: ${path} does not exist at the base ref`), { code: 'ENOENT' });
}

/** Reads the base version: files inside the repository from git, others (outside it) from disk. */
function baseReader(git: GitBase): FileReader {
  return (path) => {
    const inside = !relative(git.root, resolve(path)).startsWith('..');
    if (!inside) return readFileSync(path);
    const content = git.read(path);
    if (content === null) throw enoent(path);
    return content;
  };
}

function readOrNull(read: FileReader, path: string): Buffer | null {
  try {
    return read(path);
  } catch {
    return null;
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function trustRootDigests(policy: Policy, policyPath: string, read: FileReader): Map<string, string> {
  const out = new Map<string, string>();
  for (const root of policy.trustRoots) {
    if (root.builtin) continue;
    const files = [root.file, root.root].filter((f): f is string => f !== undefined);
    const parts = files.map((f) => {
      const bytes = readOrNull(read, resolve(dirname(policyPath), f));
      return bytes ? sha256(bytes) : 'absent';
    });
    out.set(root.name, parts.join('+'));
  }
  return out;
}

async function loadVersion(
  settings: TollgateSettings,
  policyPath: string,
  read: FileReader,
  label: string,
): Promise<{ policy: Policy } | { errors: string[] } | null> {
  const text = readOrNull(read, policyPath);
  if (text === null) return null;
  const versionSettings = { ...settings, policyPath };
  await prefetchPolicyBases(versionSettings, text.toString('utf8'), read);
  const file = relative(settings.projectCwd, policyPath) || policyPath;
  const loaded = loadPolicyTree(text.toString('utf8'), file, policyBaseResolver(versionSettings, read), {
    dir: dirname(policyPath),
    key: `${label}:${policyPath}`,
  });
  if (!loaded.ok) return { errors: loaded.errors.map(formatDiagnostic) };
  return { policy: loaded.policy };
}

function pinsLocator(text: string | null, file: string): (name: string) => SourceLocation {
  const lines = (text ?? '').split('\n');
  return (name) => {
    const i = lines.findIndex((l) => l.includes(`${JSON.stringify(name)}:`));
    return { file, line: i < 0 ? 1 : i + 1, column: 1 };
  };
}

function readPins(read: FileReader, path: string): Pins | null {
  const bytes = readOrNull(read, path);
  if (bytes === null) return null;
  const loaded = loadPins(bytes.toString('utf8'));
  return loaded.ok ? loaded.pins : null;
}

function readKnownBadList(read: FileReader, path: string, file: string): KnownBadList | 'absent' | 'invalid' {
  const bytes = readOrNull(read, path);
  if (bytes === null) return 'absent';
  const loaded = loadKnownBadList(bytes.toString('utf8'), file);
  return loaded.ok ? loaded.list : 'invalid';
}

/** The project's known-bad list only denies: what it stops denying, and a verdict key that changed. */
function diffKnownBad(
  base: { policy: Policy; path: string; read: FileReader },
  head: { policy: Policy; path: string; read: FileReader },
  projectCwd: string,
  notes: string[],
): PolicyChange[] {
  const changes: PolicyChange[] = [];
  const headListPath = resolve(dirname(head.path), KNOWN_BAD_LIST_FILE);
  const file = relative(projectCwd, headListPath);
  const before = readKnownBadList(base.read, resolve(dirname(base.path), KNOWN_BAD_LIST_FILE), file);
  const after = readKnownBadList(head.read, headListPath, file);
  if (before === 'invalid') notes.push(`${file} is invalid at the base ref, so it is not compared`);
  else if (after === 'invalid')
    notes.push(`${file} is invalid in the working tree (installs refuse it), so it is not compared`);
  else if (before !== 'absent')
    changes.push(...diffKnownBadLists(before, after === 'absent' ? null : after, file));
  const keyBefore = base.policy.knownBad?.verdictService;
  const keyAfter = head.policy.knownBad?.verdictService;
  if (keyBefore && keyAfter && keyBefore.url === keyAfter.url && keyBefore.publicKey === keyAfter.publicKey) {
    const digest = (read: FileReader, policyPath: string) => {
      const bytes = readOrNull(read, resolve(dirname(policyPath), keyAfter.publicKey));
      return bytes ? sha256(bytes) : 'absent';
    };
    if (digest(base.read, base.path) !== digest(head.read, head.path))
      changes.push({
        code: 'known-bad-weakened',
        relaxation: true,
        subject: 'knownBad.verdictService.publicKey',
        message: `the key file ${keyAfter.publicKey} of the verdict service changed: answers signed by another key are believed`,
        location: keyAfter.location,
      });
  }
  return changes;
}

/** Compares the working tree with `ref`. Throws ReviewProblem (usage) or ConfigurationProblem. */
export async function reviewAgainst(settings: TollgateSettings, ref: string): Promise<Review> {
  const projectCwd = settings.projectCwd;
  const git = openGitBase(projectCwd, ref);
  const readBase = baseReader(git);
  const readHead: FileReader = (path) => readFileSync(path);
  const notes: string[] = [];
  const changes: PolicyChange[] = [];

  const yarnrcPath = resolve(projectCwd, '.yarnrc.yml');
  const headYarnrc = readYarnrc(readOrNull(readHead, yarnrcPath)?.toString('utf8') ?? '', '.yarnrc.yml')!;
  const baseYarnrcText = readOrNull(readBase, yarnrcPath);
  const baseYarnrc = readYarnrc(baseYarnrcText?.toString('utf8') ?? null, '.yarnrc.yml');

  // The head policy is the one this command runs with; an invalid one is a configuration error.
  let headPolicy: Policy | undefined;
  if (settings.policyPath) {
    const head = await loadVersion(settings, settings.policyPath, readHead, 'head');
    const file = relative(projectCwd, settings.policyPath) || settings.policyPath;
    if (head === null)
      throw new ConfigurationProblem(
        `the policy file ${file} does not exist; restore it or run \`yarn tollgate init\``,
      );
    if ('errors' in head)
      throw new ConfigurationProblem(
        `the policy ${file} is invalid (${head.errors.length} error(s))`,
        head.errors,
      );
    headPolicy = head.policy;
  }

  const basePolicyPathSetting = baseYarnrc?.data.tollgatePolicyPath;
  const basePolicyPath =
    typeof basePolicyPathSetting === 'string' ? resolve(projectCwd, basePolicyPathSetting) : undefined;
  let basePolicy: Policy | undefined;
  if (basePolicyPath) {
    const base = await loadVersion(settings, basePolicyPath, readBase, 'base');
    const file = relative(projectCwd, basePolicyPath);
    if (base === null) notes.push(`${ref} has no policy file ${file}: everything in the policy is new`);
    else if ('errors' in base)
      notes.push(`the policy ${file} at ${ref} is invalid, so the policy is not compared: ${base.errors[0]}`);
    else basePolicy = base.policy;
  } else {
    notes.push(`${ref} does not use Tollgate (no tollgatePolicyPath in its .yarnrc.yml): everything is new`);
  }

  if (headPolicy && basePolicy && settings.policyPath && basePolicyPath) {
    changes.push(
      ...diffPolicies({
        base: basePolicy,
        head: headPolicy,
        ...(basePolicy.extends ? { baseExtends: basePolicy.extends } : {}),
        ...(headPolicy.extends ? { headExtends: headPolicy.extends } : {}),
        baseTrustRootDigests: trustRootDigests(basePolicy, basePolicyPath, readBase),
        headTrustRootDigests: trustRootDigests(headPolicy, settings.policyPath, readHead),
      }),
    );
    changes.push(
      ...diffKnownBad(
        { policy: basePolicy, path: basePolicyPath, read: readBase },
        { policy: headPolicy, path: settings.policyPath, read: readHead },
        projectCwd,
        notes,
      ),
    );
    const headPinsPath = pinsPathFor(settings.policyPath);
    const basePins = readPins(readBase, pinsPathFor(basePolicyPath));
    const headPins = readPins(readHead, headPinsPath);
    if (basePins) {
      const pinsFile = relative(projectCwd, headPinsPath);
      changes.push(
        ...diffPins(
          basePins,
          headPins ?? { version: 1, packages: {} },
          pinsLocator(readOrNull(readHead, headPinsPath)?.toString('utf8') ?? null, pinsFile),
        ),
      );
    }
  } else if (basePolicy && !headPolicy) {
    changes.push({
      code: 'policy-removed',
      relaxation: true,
      subject: 'policy',
      message: 'the policy is no longer configured (tollgatePolicyPath is unset)',
      location: { file: '.yarnrc.yml', line: 1, column: 1 },
    });
  }

  const headPlugin = tollgatePlugin(headYarnrc);
  const basePlugin = tollgatePlugin(baseYarnrc);
  changes.push(
    ...diffYarnrc(baseYarnrc, headYarnrc, headPolicy?.mode ?? 'enforce', {
      head: headPlugin ? readOrNull(readHead, resolve(projectCwd, headPlugin.path)) : null,
      base: basePlugin ? readOrNull(readBase, resolve(projectCwd, basePlugin.path)) : null,
    }),
  );
  return { ref, commit: git.commit, changes, notes };
}
