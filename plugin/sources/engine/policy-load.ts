// The policy, read and validated, and the cache key: what the gate needs before Yarn resolves
// anything, and all a warm install with a valid verdict needs. Kept apart from context.ts, which
// loads the verifier, trust roots and stores, so that a warm install does not load them.
import { readFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { type Diagnostic, formatDiagnostic } from '../../../policy/diagnostics';
import { loadPolicyTree } from '../../../policy/extends';
import type { Policy } from '../../../policy/model';
import type { TollgateSettings } from '../settings';
import { CacheSecretProblem, isInside, loadCacheSecret } from './cache-secret';
import { policyBaseResolver } from './policy-bases';

/** A configuration problem the user must fix; rendered as one clean Yarn error, never a stack trace. */
export class ConfigurationProblem extends Error {
  constructor(
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

function readText(path: string, what: string, fix: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigurationProblem(
      code === 'ENOENT'
        ? `${what} ${path} does not exist; ${fix}`
        : `${what} ${path} cannot be read (${code})`,
    );
  }
}

export interface LoadedPolicy {
  policy: Policy;
  /** the policy path as shown to people: relative to the project root */
  file: string;
  warnings: Diagnostic[];
}

/** Reads and validates the configured policy; a ConfigurationProblem says what is wrong and how to fix it. */
export function loadConfiguredPolicy(
  settings: TollgateSettings,
  text?: { text: string; path: string },
): LoadedPolicy {
  const policyPath = text?.path ?? settings.policyPath;
  if (!policyPath) {
    throw new ConfigurationProblem(
      'Tollgate is installed but `tollgatePolicyPath` is not set in .yarnrc.yml; add `tollgatePolicyPath: .tollgate.yml` (`yarn tollgate init` writes a starter policy)',
    );
  }
  const file = relative(settings.projectCwd, policyPath) || policyPath;
  const policyText =
    text?.text ?? readText(policyPath, 'the policy file', 'run `yarn tollgate init` to write one');
  const loaded = loadPolicyTree(policyText, file, policyBaseResolver(settings), {
    dir: dirname(policyPath),
    key: policyPath,
  });
  if (!loaded.ok) {
    throw new ConfigurationProblem(
      `the policy ${file} is invalid (${loaded.errors.length} error${loaded.errors.length === 1 ? '' : 's'}); nothing was installed`,
      loaded.errors.map(formatDiagnostic),
    );
  }
  return { policy: loaded.policy, file, warnings: loaded.warnings };
}

/**
 * The cache folder and its key. A cache folder inside the project is refused: the repository (or a
 * restored CI cache of it) could fill it, and a cache is only worth keeping if it is this machine's.
 */
export function openCacheKey(settings: TollgateSettings): Buffer {
  if (isInside(settings.cacheFolder, settings.projectCwd)) {
    throw new ConfigurationProblem(
      `Tollgate's cache folder ${settings.cacheFolder} is inside the project, where the repository could fill it with verdicts of its own; set tollgateCacheFolder (or globalFolder) in .yarnrc.yml to a folder outside the project, e.g. the default <globalFolder>/tollgate`,
    );
  }
  try {
    return loadCacheSecret();
  } catch (err) {
    if (err instanceof CacheSecretProblem) throw new ConfigurationProblem(err.message);
    throw err;
  }
}
