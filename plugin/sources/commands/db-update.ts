import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

// `yarn tollgate db update [--from <OSV zip | folder | URL | source name>]`: imports the known-bad database.
export default class DbUpdateCommand extends BaseCommand {
  static override paths = [['tollgate', 'db', 'update']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'import known-bad records (OSV, signed snapshots) into the local database',
    details: `
      Imports OSV records (an osv.dev export zip, a folder such as a checkout of ossf/malicious-packages, one record, or a URL to any of these; files named \`known-bad.yml\` inside are lists in Tollgate's own format) into the known-bad database the install gate, \`audit\` and \`explain\` consult. Each source replaces its own part of the database; without \`--from\`, every source imported before is imported again.

      A snapshot signed with \`yarn tollgate db sign\` (its bundle is \`<file or URL>.sigstore.json\`, or \`--bundle\`) is verified against the policy's \`knownBad.sources\`: its trust roots and signers. A source the policy names (\`--from <name>\`, or its URL) must be signed by it; a snapshot signed by anyone else is refused. The database is kept in \`tollgateCacheFolder\`, authenticated with this user's cache key.

      Exit codes: 0 imported, 1 refused (signature missing or by the wrong signer, a download failed, nothing usable in it), 2 usage or configuration error.
    `,
    examples: [
      [
        'Import the OpenSSF malicious-packages records of a checkout',
        'yarn tollgate db update --from ../malicious-packages/osv',
      ],
      ['Import an OSV export zip', 'yarn tollgate db update --from ./npm-all.zip'],
      ['Import the company list the policy names (signed)', 'yarn tollgate db update --from acme-list'],
      ['Refresh every source imported before', 'yarn tollgate db update'],
    ],
  });

  from = Option.Array('--from', {
    description: 'OSV zip, folder, file, URL, or a knownBad.sources name (repeatable)',
  });

  bundle = Option.String('--bundle', {
    description: 'The Sigstore bundle of a signed snapshot (default <source>.sigstore.json)',
  });

  signedBy = Option.String('--signed-by', {
    description: 'Require a signature by this knownBad.sources entry',
  });

  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/db-update');
    return execute.call(this);
  }
}
