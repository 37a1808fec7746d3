// The configured policy read, merged with its bases and validated: the policy compiler, its generated
// schema validator and the YAML parser. Loaded on demand (gate-policy.ts, the commands): a Yarn command
// that is not an install never compiles it, nor does a warm install whose policy summary is
// remembered (policy-load.ts).
import { readFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { formatDiagnostic } from '../../../policy/diagnostics';
import { loadPolicyTree } from '../../../policy/extends';
import type { TollgateSettings } from '../settings';
import { policyBaseResolver } from './policy-bases';
import { ConfigurationProblem, type LoadedPolicy } from './policy-load';

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
  return { policy: loaded.policy, file, warnings: loaded.warnings, text: policyText };
}
