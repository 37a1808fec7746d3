// `AuditCommand`'s implementation, loaded when the command runs (../audit.ts declares it).
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { StreamReport } from '@yarnpkg/core';
import { Filename, npath } from '@yarnpkg/fslib';
import type { Decision } from '../../../../policy';
import {
  type AuditFormat,
  lockfileLines,
  type ReviewedChanges,
  renderGithub,
  renderJson,
  renderSarif,
  summarize,
} from '../../audit-formats';
import { ConfigurationProblem } from '../../engine/context';
import { knownBadReport } from '../../engine/known-bad';
import { lockfileChecks } from '../../engine/lockfile-checks';
import { runChecks } from '../../engine/run-checks';
import { trustReport } from '../../engine/trust-roots';
import { messageName, TollgateMessage } from '../../messages';
import { reportDecisions, reportLines } from '../../report';
import { type Review, reviewAgainst } from '../../review/compare';
import { ReviewProblem } from '../../review/git';
import { reportReview } from '../../review/report';
import { causeContextOf, findRootCauses } from '../../root-causes';
import { readSettings } from '../../settings';
import type AuditCommand from '../audit';
import { type CommandProject, EXIT, openEngine, withProject } from '../command-support';

export async function execute(this: AuditCommand) {
  return withProject(this.context, this.cwd, (opened) => run.call(this, opened));
}

async function run(this: AuditCommand, { configuration, project, cache }: CommandProject): Promise<number> {
  const projectCwd = npath.fromPortablePath(project.cwd);
  const lockfileAbs = join(projectCwd, Filename.lockfile);
  const format = this.format as AuditFormat;
  const machine = format !== 'text';
  let decisions: Decision[] = [];
  let configurationFailed = false;
  let firstError: string | undefined;
  let review: Review | undefined;
  let errorsBeforeReview = false;

  const report = await StreamReport.start(
    {
      configuration,
      stdout: machine ? process.stderr : this.context.stdout,
      json: this.json,
      includeFooter: false,
    },
    async (report) => {
      if (!existsSync(lockfileAbs)) {
        firstError = `no yarn.lock at ${lockfileAbs}; run \`yarn install\` first (the audit checks a lockfile)`;
        report.reportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${firstError}`);
        configurationFailed = true;
        return;
      }
      const ctx = await openEngine(configuration, report, {
        offline: this.offline,
        onProblem: (message) => {
          firstError = message;
        },
      });
      if (!ctx) {
        configurationFailed = true;
        return;
      }
      try {
        const checks = await lockfileChecks(project, cache, {
          mode: 'lockfile',
          digests: ctx.archiveDigests,
        });
        const outcomes = await report.startTimerPromise(
          `Tollgate: auditing ${checks.length} packages from yarn.lock against ${ctx.policyFile}${this.offline ? ' (offline)' : ''}`,
          () => runChecks(ctx, checks),
        );
        decisions = outcomes.map((o) => o.decision);
        if (machine) return;
        reportDecisions(report, decisions, findRootCauses(decisions, causeContextOf(ctx)));
        const s = summarize(decisions);
        reportLines(
          report,
          TollgateMessage.INFO,
          [
            `Tollgate audit: ${s.verified} verified, ${s.warned} warned, ${s.denied} denied, ${s.skipped} skipped (allowed without evidence)`,
          ],
          'info',
        );
        report.reportJson({ type: 'tollgate-audit-summary', ...s });
        for (const { level, line } of knownBadReport(ctx.knownBad, ctx.policy))
          reportLines(report, TollgateMessage.KNOWN_BAD, [line], level);
        for (const { level, line } of trustReport(ctx.trustRoots))
          reportLines(report, TollgateMessage.TRUST, [line], level);
      } finally {
        await ctx.close();
      }
    },
  );
  if (this.base !== undefined && !configurationFailed) {
    errorsBeforeReview = report.hasErrors();
    await StreamReport.start(
      {
        configuration,
        stdout: machine ? process.stderr : this.context.stdout,
        json: this.json,
        includeFooter: false,
      },
      async (reviewReport) => {
        try {
          review = await reviewAgainst(readSettings(configuration), this.base!);
        } catch (err) {
          if (!(err instanceof ReviewProblem || err instanceof ConfigurationProblem)) throw err;
          firstError = err.message;
          configurationFailed = true;
          reviewReport.reportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${err.message}`);
          return;
        }
        if (!machine) reportReview(reviewReport, { ...review, accepted: this.acceptRelaxations });
      },
    );
  } else {
    errorsBeforeReview = report.hasErrors();
  }
  const reviewed: ReviewedChanges | undefined = review
    ? { ref: review.ref, changes: review.changes, accepted: this.acceptRelaxations }
    : undefined;
  const relaxed = reviewed ? reviewed.changes.some((c) => c.relaxation) && !reviewed.accepted : false;

  const exitCode =
    configurationFailed || (errorsBeforeReview && decisions.length === 0)
      ? EXIT.USAGE
      : decisions.some((d) => d.verdict === 'deny') || relaxed
        ? EXIT.VIOLATIONS
        : EXIT.OK;
  if (format === 'sarif') {
    // Code scanning uploads whatever was written, failed runs included: always a valid log.
    const relLockfile = relative(projectCwd, lockfileAbs) || 'yarn.lock';
    const lines = existsSync(lockfileAbs) ? lockfileLines(readFileSync(lockfileAbs, 'utf8')) : new Map();
    this.context.stdout.write(
      renderSarif(
        decisions,
        relLockfile,
        lines,
        {
          exitCode,
          ...(exitCode === EXIT.USAGE
            ? { error: firstError ?? 'the audit could not run (configuration error)' }
            : {}),
        },
        reviewed,
      ),
    );
    return exitCode;
  }
  if (exitCode === EXIT.USAGE) return exitCode;
  if (machine) {
    const relLockfile = relative(projectCwd, lockfileAbs) || 'yarn.lock';
    const lines = lockfileLines(readFileSync(lockfileAbs, 'utf8'));
    this.context.stdout.write(
      format === 'json'
        ? renderJson(decisions, this.offline, reviewed)
        : renderGithub(decisions, relLockfile, lines, reviewed),
    );
  }
  return exitCode;
}
