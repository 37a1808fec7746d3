import { TOLLGATE_VERSION } from '../../version';
import type TollgateCommand from '../tollgate';

export async function execute(this: TollgateCommand) {
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
