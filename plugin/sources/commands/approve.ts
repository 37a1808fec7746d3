import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

// `yarn tollgate approve <package>[@version] --reason "..."`: accept an identity change or downgrade.
export default class ApproveCommand extends BaseCommand {
  static override paths = [['tollgate', 'approve']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'accept a signer-identity change or an evidence downgrade into the pins file',
    details: `
      When a package's signer identity changed (another repository, workflow, owner or issuer) or its evidence got weaker within a release line, the gate refuses it until someone approves the change. This command re-checks the package, shows the change and records it in the pins file with the required reason, the time and who approved it (\`--by\`, else the git author from the environment).

      Exit codes: 0 approved, or nothing needed approving; 1 the package is still denied for reasons an approval cannot accept; 2 usage or configuration error.
    `,
    examples: [
      [
        'Approve a move of the release workflow',
        'yarn tollgate approve acme-utils@2.1.0 --reason "release moved to the monorepo (SEC-42)"',
      ],
    ],
  });

  query = Option.String({ name: 'package' });

  reason = Option.String('--reason', {
    required: true,
    description: 'Why the change is acceptable (recorded)',
  });

  by = Option.String('--by', {
    description: 'Who approves (recorded); defaults to GIT_AUTHOR_EMAIL or USER',
  });

  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/approve');
    return execute.call(this);
  }
}
