import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';
import * as t from 'typanion';

// `yarn tollgate init`: a starter policy from the lockfile and the evidence found for it.
export default class InitCommand extends BaseCommand {
  static override paths = [['tollgate', 'init']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'write a starter policy from yarn.lock and the evidence found',
    details: `
      Checks every package in yarn.lock for signatures and provenance (online, as the gate does) and writes a policy: scopes mapped to a private registry in .yarnrc.yml, and names declared internal with \`--internal\`, are bound to the registry they come from (and require a signature when all of them have one); packages that carry a verified signature or provenance get their current signer pinned (trust on first use); packages from git, http or file sources get explicit rules; everything else falls to defaults that require no signature. It prints every decision and why, never silently allows everything, and refuses to overwrite an existing policy without \`--force\`.

      Exit codes: 0 written, 2 usage or configuration error (including an existing policy).
    `,
    examples: [
      ['Write .tollgate.yml', 'yarn tollgate init'],
      [
        'Trust a private Sigstore instance and mark unscoped internal packages',
        'yarn tollgate init --trusted-root acme=.tollgate/acme-trusted_root.json --internal "acme-*"',
      ],
    ],
  });

  force = Option.Boolean('--force', false, { description: 'Overwrite an existing policy' });

  trustedRoots = Option.Array('--trusted-root', [], {
    description: 'A Sigstore trust root to accept, as name=path/to/trusted_root.json (repeatable)',
  });

  internal = Option.Array('--internal', [], { description: 'A name glob of internal packages (repeatable)' });

  mode = Option.String('--mode', 'enforce', { validator: t.isEnum(['enforce', 'warn'] as const) });

  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/init');
    return execute.call(this);
  }
}
