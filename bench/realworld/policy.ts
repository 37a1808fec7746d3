import { stringify } from 'yaml';
import type { YarnProjectOptions } from '../../test/harness/yarn-project';

/**
 * Tollgate on the real-world project, in enforce mode, with a policy that checks what real packages
 * have, since they carry no signature from our tollgate-server (and the mirror here strips
 * dist.signatures and dist.attestations, so npm's own signatures and provenance are absent too):
 * - `require: none`: no evidence level is required; evidence that is present must still verify;
 * - every package bound to the registry it comes from (`registries:` on `**`): a name from any other
 *   registry or source, or a tarball URL on another origin, is denied;
 * - trust continuity on (`continuity: package`): the evidence level (and signer, if any) accepted per
 *   release line is pinned in .tollgate.pins.json, which the project commits;
 * - integrity and tampering checks, which need no policy: each tarball's sha512 against the registry's
 *   dist.integrity, the archive Yarn links against the tarball, the tarball's package.json against its
 *   name and version, the lockfile entries against their ranges;
 * - scripts: `default: allow` — every build runs, as with plain Yarn, so both sides do the same work
 *   (Tollgate still reads each package's build steps to judge them);
 * - known-bad off: no `knownBad` section, no database imported, no project list, no verdict service;
 * - one exception per npm alias in the lockfile (`aliases`), waiving only `alias-of-protected-name` for
 *   that exact version: binding `**` protects every name, and a protected name must resolve to its own
 *   package, so without them the aliases real projects carry (jest's `@jest/react-is-18` ->
 *   `react-is`, `@isaacs/cliui`'s `string-width-cjs` -> `string-width`) are denied. These are the
 *   exceptions the denials themselves print.
 */
export function tollgateRealworldProject(
  registryUrl: string,
  aliases: readonly { name: string; version: string; aliases: string[] }[],
): Omit<YarnProjectOptions, 'registry' | 'dependencies'> {
  const expires = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  const policy = {
    version: 1,
    mode: 'enforce',
    defaults: { require: 'none', continuity: 'package' },
    rules: [{ name: 'registry-bound', packages: ['**'], registries: [registryUrl] }],
    scripts: { default: 'allow' },
    ...(aliases.length > 0
      ? {
          exceptions: aliases.map((alias) => ({
            package: alias.name,
            versions: alias.version,
            reason: `installed as ${alias.aliases.join(', ')} (npm alias in the lockfile)`,
            expires,
            waive: ['alias-of-protected-name'],
          })),
        }
      : {}),
  };
  return {
    withPlugin: true,
    yarnrc: { tollgatePolicyPath: '.tollgate.yml' },
    files: { '.tollgate.yml': stringify(policy) },
  };
}

export const realworldPolicyDescription =
  'the built Tollgate plugin in enforce mode; policy: require none, every package bound to the mirror ' +
  "registry (registries: ['**']) with one exception per npm alias (alias-of-protected-name only), trust " +
  'continuity on (package), scripts allowed (as plain Yarn), no known-bad database; integrity and ' +
  'tampering checks as always';
