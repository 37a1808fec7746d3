// `ApproveCommand`'s implementation, loaded when the command runs (../approve.ts declares it).
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { StreamReport } from '@yarnpkg/core';
import { approvePinChange, serializePins } from '../../../../policy';
import { lockfileChecks } from '../../engine/lockfile-checks';
import { runChecks } from '../../engine/run-checks';
import { messageName, TollgateMessage } from '../../messages';
import type ApproveCommand from '../approve';
import { type CommandProject, EXIT, openEngine, withProject } from '../command-support';
import { parsePackageQuery, selectChecks } from '../package-selection';

export async function execute(this: ApproveCommand) {
  return withProject(this.context, this.cwd, (opened) => run.call(this, opened));
}

async function run(this: ApproveCommand, { configuration, project, cache }: CommandProject): Promise<number> {
  let exit: number = EXIT.OK;
  await StreamReport.start(
    { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
    async (report) => {
      const error = (text: string, code: number) => {
        report.reportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${text}`);
        exit = code;
      };
      const query = parsePackageQuery(this.query);
      if (!query) return error(`"${this.query}" is not a package name with an optional version`, EXIT.USAGE);
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
