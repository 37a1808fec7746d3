import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

// `yarn tollgate db status`: what the known-bad database holds, how old it is, and what the policy says of that.
export default class DbStatusCommand extends BaseCommand {
  static override paths = [['tollgate', 'db', 'status']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'show the known-bad database: sources, record counts, age',
    details: `
      Lists every source of the known-bad database (\`yarn tollgate db update\`) with its record counts, when it was imported, how fresh it is (the signed time of a signed snapshot, else the import time) and who signed it; the project's \`.tollgate.known-bad.yml\`; the verdict service; and whether the database is older than the policy's \`knownBad.maxAge\`.

      Exit codes: 0 usable (a stale database under \`stale: warn\` is a warning), 1 stale or absent under \`stale: deny\` (installs would be denied), 2 configuration error.
    `,
    examples: [['Show the database', 'yarn tollgate db status']],
  });

  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/db-status');
    return execute.call(this);
  }
}
