import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

// `yarn tollgate trust update`: refreshes every TUF trust root online (public-good and the policy's
// `{ tuf, root }` roots) with the TUF client workflow, into Tollgate's cache, where installs find them.
export default class TrustUpdateCommand extends BaseCommand {
  static override paths = [['tollgate', 'trust', 'update']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'refresh the trust roots over TUF (public-good and the policy’s TUF roots)',
    details: `
      Runs the TUF client workflow for the public-good trust root (its chain starts at the root.json embedded in @sigstore/tuf; \`tollgatePublicGoodTufUrl\` names a mirror) and for every policy trust root declared as \`{ tuf: <url>, root: <committed root.json> }\`: new root versions are followed when the old root signed them, and the timestamp, snapshot and targets metadata are checked for signatures, thresholds, versions and expiry before trusted_root.json is accepted. What is verified is cached, authenticated, under Tollgate's cache folder; installs, audits and explanations use that copy (offline: the last verified copy, or for public-good the embedded one, with a notice of its age).

      Expired metadata (a freeze), a version older than one already verified (a rollback), a bad signature or a target that does not match its metadata fail the command, and nothing is replaced.

      With root names, only those are refreshed.

      Exit codes: 0 every root refreshed, 1 a root could not be refreshed (the reason is printed; the previous copy stays in use), 2 configuration error (no policy, offline).
    `,
    examples: [
      ['Refresh every trust root', 'yarn tollgate trust update'],
      ['Refresh only the policy root "acme"', 'yarn tollgate trust update acme'],
    ],
  });

  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });

  names = Option.Rest({ name: 'root names' });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/trust-update');
    return execute.call(this);
  }
}
