// How a review against a base ref is printed: one line per relaxation (YN9150, an error unless
// acknowledged), each with where it is, what it was and the fix; tightenings as information.
import type { StreamReport } from '@yarnpkg/core';
import { formatLocation, POLICY_CHANGE_HELP } from '../../../policy';
import type { ReviewedChanges } from '../audit-formats';
import { messageName, TollgateMessage } from '../messages';

export function reportReview(report: StreamReport, review: ReviewedChanges & { notes: string[] }): void {
  const code = messageName(TollgateMessage.POLICY_REVIEW);
  for (const note of review.notes) report.reportInfo(code, `Tollgate: ${note}`);
  const relaxations = review.changes.filter((c) => c.relaxation);
  for (const c of relaxations) {
    const lines = [
      `${formatLocation(c.location)}: relaxation ${c.code}: ${c.message}`,
      ...(c.baseLocation ? [`  was: ${formatLocation(c.baseLocation)} at ${review.ref}`] : []),
      `  fix: ${POLICY_CHANGE_HELP[c.code].fix}`,
    ];
    for (const line of lines) {
      if (review.accepted) report.reportWarning(code, line);
      else report.reportError(code, line);
    }
    report.reportJson({
      type: 'tollgate-policy-change',
      base: review.ref,
      acknowledged: review.accepted,
      ...c,
    });
  }
  for (const c of review.changes.filter((x) => !x.relaxation)) {
    report.reportInfo(code, `${formatLocation(c.location)}: tightening: ${c.message}`);
    report.reportJson({ type: 'tollgate-policy-change', base: review.ref, ...c });
  }
  const tightenings = review.changes.length - relaxations.length;
  report.reportInfo(
    code,
    relaxations.length === 0
      ? `Tollgate: against ${review.ref}: no relaxation${tightenings ? `, ${tightenings} tightening(s)` : ''}`
      : `Tollgate: against ${review.ref}: ${relaxations.length} relaxation(s)${review.accepted ? ', acknowledged (--accept-relaxations)' : ', not acknowledged: get them reviewed, then re-run with --accept-relaxations (see "Policy review" in the README)'}${tightenings ? `; ${tightenings} tightening(s)` : ''}`,
  );
}
