import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

// `yarn tollgate monitor ...`: the identity monitor (monitor/), the same engine and options as the
// `tollgate-monitor` executable; every argument is passed through.
export default class MonitorCommand extends BaseCommand {
  static override paths = [['tollgate', 'monitor']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'watch transparency logs and registries for releases you did not make',
    details: `
      Reads new entries of the configured transparency logs (verified against signed checkpoints, with consistency proofs between runs), reports every signing event by a watched identity that no expected release accounts for, judges new versions of watched packages against the project's policy, and notifies a webhook. Configuration: .tollgate-monitor.yml (see monitor/README.md). \`yarn tollgate monitor --help\` lists the options.

      Exit codes: 0 nothing unexpected, 1 unexpected events, 2 usage or configuration error, 3 a log is inconsistent, 4 a source could not be checked.
    `,
    examples: [
      ['Check once (a scheduled CI job)', 'yarn tollgate monitor --once'],
      ['Run as a service', 'yarn tollgate monitor --interval 60s'],
      ['Validate the configuration', 'yarn tollgate monitor check'],
    ],
  });

  args = Option.Proxy();

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/monitor');
    return execute.call(this);
  }
}
