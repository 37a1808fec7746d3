import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

// `yarn tollgate scripts approve <package> --reason "..."`: let a package's build run, bound to who signs it.
export default class ScriptsApproveCommand extends BaseCommand {
  static override paths = [['tollgate', 'scripts', 'approve']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: "approve a package's install scripts, bound to the identity that signs it now",
    details: `
      Checks the package's yarn.lock entries as the gate does and writes an allowance to the policy's \`scripts.allow\`, bound to the verified identity that signs it now (a CI identity by its repository, ids, workflow and ref kind; a person by issuer and subject). Later versions signed by the same identity run their scripts with no new approval; a version signed by anyone else, or unsigned, does not. The allowance is shown before it is written; on a terminal you are asked to confirm (\`--yes\` skips that).

      A package that carries no verified signature has no identity to approve: \`--digest\` approves exactly its tarball instead (every new version then needs a new approval). Packages from git, exec, file or http sources are approved by their source.

      Exit codes: 0 written (or already approved), 1 the package is denied by the policy, so approving its scripts would change nothing, 2 usage or configuration error, or nothing that could be approved.
    `,
    examples: [
      [
        'Approve esbuild for the identity that publishes it',
        'yarn tollgate scripts approve esbuild --reason "downloads its platform binary; reviewed"',
      ],
      [
        'Approve one unsigned tarball',
        'yarn tollgate scripts approve legacy-native --digest --reason "SEC-118: reviewed"',
      ],
    ],
  });

  query = Option.String({ name: 'package' });

  reason = Option.String('--reason', { required: true, description: 'Why its code may run (recorded)' });

  digest = Option.Boolean('--digest', false, {
    description: 'Approve exactly this tarball, not who signs it',
  });

  yes = Option.Boolean('--yes', false, { description: 'Write without asking for confirmation' });

  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/scripts-approve');
    return execute.call(this);
  }
}
