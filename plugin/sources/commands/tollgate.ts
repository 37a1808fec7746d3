import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

// `yarn tollgate` on its own: the entry point of the command group.
export default class TollgateCommand extends BaseCommand {
  static override paths = [['tollgate']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'install-time supply-chain policy guard',
    details: `
      Tollgate checks every package's signatures, transparency-log inclusion and signer identity against the repository's policy during \`yarn install\`, before any dependency code runs.
    `,
    examples: [['Print the Tollgate version', 'yarn tollgate --version']],
  });

  version = Option.Boolean('--version', false, { description: 'Print the Tollgate version' });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/tollgate');
    return execute.call(this);
  }
}
