import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseCommand } from '@yarnpkg/cli';
import { StreamReport } from '@yarnpkg/core';
import { Option } from 'clipanion';
import { approvePinChange, serializePins } from '../../../policy';
import { lockfileChecks } from '../engine/lockfile-checks';
import { runChecks } from '../engine/run-checks';
import { messageName, TollgateMessage } from '../messages';
import { type CommandProject, EXIT, openEngine, withProject } from './command-support';
import { parsePackageQuery, selectChecks } from './package-selection';

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

  async execute() {
    return withProject(this.context, this.cwd, (opened) => this.run(opened));
  }

  private async run({ configuration, project, cache }: CommandProject): Promise<number> {
    let exit: number = EXIT.OK;
    await StreamReport.start(
      { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
      async (report) => {
        const error = (text: string, code: number) => {
          report.reportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${text}`);
          exit = code;
        };
        const query = parsePackageQuery(this.query);
        if (!query)
          return error(`"${this.query}" is not a package name with an optional version`, EXIT.USAGE);
        if (this.reason.trim() === '')
          return error('--reason must say why the change is acceptable', EXIT.USAGE);
        const ctx = await openEngine(configuration, report);
        if (!ctx) {
          exit = EXIT.USAGE;
          return;
        }
        try {
          const checks = selectChecks(
            await lockfileChecks(project, cache, { mode: 'lockfile', digests: ctx.archiveDigests }),
            query,
          );
          if (checks.length === 0) return error(`${this.query} is not in yarn.lock`, EXIT.USAGE);
          const outcomes = await runChecks(ctx, checks);
          let pins = ctx.pins;
          let approved = 0;
          for (const { decision } of outcomes) {
            if (!decision.approval) continue;
            const by = this.by ?? process.env.GIT_AUTHOR_EMAIL ?? process.env.USER;
            const result = approvePinChange(pins, {
              ...decision.approval,
              reason: this.reason,
              at: ctx.now,
              ...(by ? { by } : {}),
            });
            if (!result.ok) return error(`${result.code}: ${result.message}`, EXIT.USAGE);
            pins = result.pins;
            approved++;
            const change = decision.reasons.filter(
              (r) => r.code === 'identity-changed' || r.code === 'evidence-downgrade',
            );
            for (const reason of change) {
              report.reportInfo(
                messageName(TollgateMessage.INFO),
                `approved for ${decision.approval.package}@${decision.approval.version}: ${reason.code}: ${reason.expected ?? ''} -> ${reason.actual ?? ''}`,
              );
            }
            report.reportJson({
              type: 'tollgate-approval',
              approval: decision.approval,
              reason: this.reason,
            });
          }
          const stillDenied = outcomes.filter(
            ({ decision }) =>
              decision.verdict === 'deny' &&
              decision.reasons.some(
                (r) =>
                  r.severity === 'violation' &&
                  !r.waivedBy &&
                  r.code !== 'identity-changed' &&
                  r.code !== 'evidence-downgrade',
              ),
          );
          for (const { decision } of stillDenied) {
            report.reportError(
              messageName(TollgateMessage.DENIED),
              `Tollgate: ${decision.package.name}@${decision.package.version} is denied for reasons an approval cannot accept (${[
                ...new Set(
                  decision.reasons
                    .filter((r) => r.severity === 'violation' && !r.waivedBy)
                    .map((r) => r.code)
                    .filter((c) => c !== 'identity-changed' && c !== 'evidence-downgrade'),
                ),
              ].join(', ')}); see \`yarn tollgate explain ${decision.package.name}\``,
            );
          }
          if (approved === 0) {
            report.reportInfo(
              messageName(TollgateMessage.INFO),
              `Tollgate: nothing to approve for ${this.query}: no identity change or downgrade against the pins`,
            );
            exit = stillDenied.length ? EXIT.VIOLATIONS : EXIT.OK;
            return;
          }
          if (stillDenied.length) exit = EXIT.VIOLATIONS;
          writeFileSync(ctx.pinsPath, serializePins(pins));
          report.reportInfo(
            messageName(TollgateMessage.INFO),
            `recorded in ${relative(ctx.settings.projectCwd, ctx.pinsPath)}; commit it with the change`,
          );
        } finally {
          await ctx.close();
        }
      },
    );
    return exit;
  }
}
