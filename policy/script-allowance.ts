// The `scripts` section's allowances for code that runs while Yarn fetches a source. Yarn fetches a
// git dependency by cloning it and running `yarn pack` (or npm/pnpm) inside it, which runs the
// repository's prepare/prepack scripts and honours its own .yarnrc.yml (yarnPath, plugins); an exec:
// dependency is a script by definition. Allowing the source is not allowing that code: the policy
// must say so for the package, and for git, for the repository it comes from.
import type { FetchScriptSource, Policy, ScriptAllowance } from './model';
import { normalizeRepository } from './repository';

export function isFetchScriptSource(source: string): source is FetchScriptSource {
  return source === 'git' || source === 'exec';
}

/**
 * The remote URL of a git source as allowances compare it: host/owner/name when it has that shape,
 * else the URL without Yarn's `git+` prefix and `#ref` fragment.
 */
export function comparableRemote(url: string): string {
  const bare = url.split('#')[0]!.replace(/^git\+/, '');
  return normalizeRepository(bare) ?? bare;
}

export function findScriptAllowance(
  policy: Policy,
  name: string,
  source: FetchScriptSource,
  sourceUrl: string | undefined,
): ScriptAllowance | undefined {
  return policy.scripts.allow.find((allowance) => {
    if (allowance.source !== source || !allowance.package.test(name)) return false;
    if (!allowance.repository) return true;
    return sourceUrl !== undefined && allowance.repository.test(comparableRemote(sourceUrl));
  });
}
