import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';
import * as t from 'typanion';
import { AUDIT_FORMATS } from '../audit-formats';

// `yarn tollgate audit`: the gate's checks over yarn.lock, without installing anything.
export default class AuditCommand extends BaseCommand {
  static override paths = [['tollgate', 'audit']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'check every yarn.lock entry against the policy without installing',
    details: `
      Runs the same checks as the install gate over every package in yarn.lock (all workspaces): registry binding, tarball integrity, the lockfile checksum, signatures, provenance and pins.

      Online (the default) it fetches packuments, tarballs and attestations as the gate does. With \`--offline\` it uses only the committed evidence file (and its bundles) and the verification cache, and says which packages it could not check; those count as denied in enforce mode.

      With \`--base <git ref>\` it also compares the policy, pins and Tollgate-relevant Yarn settings with that ref, as \`yarn tollgate policy diff\` does, and reports every relaxation as its own finding (and SARIF rule); a relaxation fails the audit unless \`--accept-relaxations\` says it was reviewed.

      Exit codes: 0 no violation (warnings allowed), 1 at least one package denied or an unacknowledged relaxation against --base, 2 usage or configuration error.
    `,
    examples: [
      ['Audit the lockfile', 'yarn tollgate audit'],
      ['Audit offline, from the committed evidence only', 'yarn tollgate audit --offline'],
      ['Write SARIF for code scanning', 'yarn tollgate audit --format sarif > tollgate.sarif'],
      ['Annotate a GitHub Actions run', 'yarn tollgate audit --format github'],
      [
        'Audit a pull request: the lockfile, and what it relaxes',
        'yarn tollgate audit --base origin/main --format sarif',
      ],
    ],
  });

  offline = Option.Boolean('--offline', false, { description: 'Use only the evidence file and caches' });

  json = Option.Boolean('--json', false, {
    description: 'Format the output as an NDJSON stream (Yarn report)',
  });

  base = Option.String('--base', {
    description: 'Also report every relaxation of the policy and Yarn settings against this git ref',
  });

  acceptRelaxations = Option.Boolean('--accept-relaxations', false, {
    description: 'With --base: the relaxations were reviewed (reported as warnings, exit 0 for them)',
  });

  format = Option.String('--format', 'text', {
    description: 'Output format: text, json, sarif or github',
    validator: t.isEnum(AUDIT_FORMATS),
  });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/audit');
    return execute.call(this);
  }
}
