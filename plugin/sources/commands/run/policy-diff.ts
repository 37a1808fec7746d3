import { Configuration, StreamReport } from '@yarnpkg/core';
import { type AuditFormat, changesJson, renderGithubChanges, renderSarif } from '../../audit-formats';
import { ConfigurationProblem } from '../../engine/context';
import { messageName, TollgateMessage } from '../../messages';
import { type Review, reviewAgainst } from '../../review/compare';
import { ReviewProblem } from '../../review/git';
import { reportReview } from '../../review/report';
import { readSettings } from '../../settings';
import { EXIT } from '../command-support';
import type PolicyDiffCommand from '../policy-diff';

export async function execute(this: PolicyDiffCommand) {
  const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
  const settings = readSettings(configuration);
  const format = this.format as AuditFormat;
  const machine = format !== 'text';
  let review: Review | undefined;
  let problem: string | undefined;
  await StreamReport.start(
    {
      configuration,
      stdout: machine ? process.stderr : this.context.stdout,
      json: this.json,
      includeFooter: false,
    },
    async (report) => {
      try {
        review = await reviewAgainst(settings, this.base);
      } catch (err) {
        if (!(err instanceof ReviewProblem || err instanceof ConfigurationProblem)) throw err;
        problem = [err.message, ...(err instanceof ConfigurationProblem ? err.details : [])].join('\n');
        report.reportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${err.message}`);
        if (err instanceof ConfigurationProblem)
          for (const line of err.details) report.reportError(messageName(TollgateMessage.POLICY_ERROR), line);
        return;
      }
      if (!machine) reportReview(report, { ...review, accepted: this.acceptRelaxations });
    },
  );
  const relaxed = review?.changes.some((c) => c.relaxation) ?? false;
  const exit =
    review === undefined ? EXIT.USAGE : relaxed && !this.acceptRelaxations ? EXIT.VIOLATIONS : EXIT.OK;
  const reviewed = review
    ? { ref: review.ref, changes: review.changes, accepted: this.acceptRelaxations }
    : undefined;
  if (format === 'sarif') {
    this.context.stdout.write(
      renderSarif(
        [],
        'yarn.lock',
        new Map(),
        { exitCode: exit, ...(problem ? { error: problem } : {}) },
        reviewed,
      ),
    );
  } else if (reviewed && format === 'json') {
    this.context.stdout.write(
      `${JSON.stringify({ format: 'tollgate.policy-diff/v1', commit: review!.commit, notes: review!.notes, ...changesJson(reviewed) }, null, 2)}\n`,
    );
  } else if (reviewed && format === 'github') {
    const lines = renderGithubChanges(reviewed);
    const n = reviewed.changes.filter((c) => c.relaxation).length;
    lines.push(
      `Tollgate policy diff against ${reviewed.ref}: ${n} relaxation(s)${n && reviewed.accepted ? ' (acknowledged)' : ''}`,
    );
    this.context.stdout.write(`${lines.join('\n')}\n`);
  }
  return exit;
}
