import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';
import { TOLLGATE_VERSION } from '../version';

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

  async execute() {
    if (this.version) {
      this.context.stdout.write(`${TOLLGATE_VERSION}\n`);
      return 0;
    }
    const commands = this.cli
      .definitions()
      .filter((d) => /\btollgate\s+\S/.test(d.path))
      .map((d) => ({
        path: d.path.replace(/^.*?\btollgate\b/, 'yarn tollgate'),
        description: d.description ?? '',
      }))
      .sort((a, b) => a.path.localeCompare(b.path));
    const width = Math.max(...commands.map((c) => c.path.length));
    this.context.stdout.write(
      [
        'Tollgate: install-time supply-chain policy guard. During `yarn install` every package is checked against the policy before any dependency code runs.',
        '',
        'Commands:',
        ...commands.map((c) => `  ${c.path.padEnd(width)}  ${c.description}`),
        '',
        'Run `yarn tollgate <command> --help` for one command, `yarn tollgate --version` for the version.',
        '',
      ].join('\n'),
    );
    return 0;
  }
}
