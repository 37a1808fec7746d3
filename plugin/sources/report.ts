import type { Report } from '@yarnpkg/core';
import { type Decision, type Reason, violations } from '../../policy/decision';
import { formatLocation } from '../../policy/diagnostics';
import { remedyLines } from '../../policy/render';
import { messageName, TollgateMessage } from './messages';
import { packageListLines, type RootCause, unexplained } from './root-causes';

type Code = (typeof TollgateMessage)[keyof typeof TollgateMessage];

function origin(decision: Decision): string {
  const p = decision.package;
  return p.source === 'npm' ? (p.registry ? ` from ${p.registry}` : '') : ` (${p.source})`;
}

function ruleLabel(decision: Decision): string {
  return `rule ${decision.rule.id} (${formatLocation(decision.rule.location)})`;
}

function reasonLines(reason: Reason): string[] {
  const lines = [`  ✗ ${reason.code}: ${reason.message}`];
  if (reason.expected !== undefined) lines.push(`      expected: ${reason.expected}`);
  if (reason.actual !== undefined) lines.push(`      actual:   ${reason.actual}`);
  for (const check of reason.checks ?? []) {
    if (!check.ok)
      lines.push(`      ${check.field}: expected ${check.expected}, got ${check.actual ?? '(absent)'}`);
  }
  if (reason.evidence !== undefined) lines.push(`      evidence: ${reason.evidence}`);
  return lines;
}

/**
 * How a package is named to people: name@version for registry packages; for other sources, before
 * Yarn has read them the version is not known, so the source stands in for it.
 */
export function packageLabel(decision: Decision): string {
  const p = decision.package;
  if (p.source === 'npm' || p.source === 'patch' || p.version !== '0.0.0' || !p.locator)
    return `${p.name}@${p.version}${origin(decision)}`;
  const reference = p.locator.slice(p.locator.indexOf('@', 1) + 1).split('::')[0]!;
  const shown = reference.startsWith(`${p.source}:`)
    ? reference.slice(p.source.length + 1)
    : reference.replace(/^git\+/, '');
  return `${p.name} (${p.source}: ${shown.split('#')[0]})`;
}

/** The lines a person needs to act on a warning or a denial: what, which rule, why, how to fix. */
export function violationLines(
  decision: Decision,
  reasons: readonly Reason[] = violations(decision),
): string[] {
  const verb = decision.verdict === 'deny' ? 'denied' : 'violates the policy (warn mode)';
  const lines = [`${packageLabel(decision)} ${verb} by ${ruleLabel(decision)}`];
  for (const reason of reasons) lines.push(...reasonLines(reason));
  lines.push(...remedyLines(decision));
  return lines;
}

export function verifiedLine(decision: Decision): string {
  const p = decision.package;
  const evidence = decision.evidence;
  const signer = decision.identity?.subject ? ` by ${decision.identity.subject}` : '';
  const logged = decision.releaseTime?.signed ? `, logged ${decision.releaseTime.at}` : '';
  return `✓ ${p.name}@${p.version}: ${evidence.satisfied}${signer}${logged} (${ruleLabel(decision)})`;
}

export function reportLines(
  report: Report,
  code: Code,
  lines: string[],
  level: 'info' | 'warning' | 'error',
) {
  for (const line of lines) {
    if (level === 'error') report.reportError(messageName(code), line);
    else if (level === 'warning') report.reportWarning(messageName(code), line);
    else report.reportInfo(messageName(code), line);
  }
}

/**
 * Reports one decision: denials as errors, warnings as warnings, verified packages as one info line.
 * `reasons` are the violations to print (those no root cause already explained); when a root cause
 * explains them all, the package is listed under that cause instead.
 */
export function reportDecision(
  report: Report,
  decision: Decision,
  reasons: readonly Reason[] = violations(decision),
): void {
  report.reportJson({ type: 'tollgate-decision', ...decision });
  if (decision.verdict !== 'allow' && reasons.length === 0) return;
  if (decision.verdict === 'deny') {
    const dependencyConfusion = reasons.some((r) => r.code === 'registry-not-allowed');
    reportLines(
      report,
      dependencyConfusion ? TollgateMessage.REGISTRY_BINDING : TollgateMessage.DENIED,
      violationLines(decision, reasons),
      'error',
    );
  } else if (decision.verdict === 'warn') {
    reportLines(report, TollgateMessage.WARNED, violationLines(decision, reasons), 'warning');
  } else if (decision.evidence.satisfied === 'signature' || decision.evidence.satisfied === 'provenance') {
    reportLines(report, TollgateMessage.ALLOWED, [verifiedLine(decision)], 'info');
  }
}

/** Whether an unchanged install says the decision again (more than its `--json` line). */
export function saidAgain(decision: Decision, reasons: readonly Reason[] = violations(decision)): boolean {
  return decision.verdict !== 'allow' || reasons.length > 0;
}

/** Whether the report writes JSON lines (`--json`); a report that does not say is taken to. */
export function reportsJson(report: Report): boolean {
  return (report as unknown as { json?: unknown }).json !== false;
}

/**
 * A decision an install verdict remembers: said again when it warns, but a package allowed on its
 * verified evidence is not listed on every unchanged install (the install that took the decision said
 * it, and `yarn tollgate audit` or `explain` say it again); `--json` still carries every decision.
 */
export function reportRememberedDecision(report: Report, decision: Decision): void {
  const reasons = violations(decision);
  if (!saidAgain(decision, reasons)) {
    report.reportJson({ type: 'tollgate-decision', ...decision });
    return;
  }
  reportDecision(report, decision, reasons);
}

/** Every decision, with what many share said once (root-causes.ts) before the packages it affects. */
export function reportDecisions(
  report: Report,
  decisions: readonly Decision[],
  causes: readonly RootCause[],
): void {
  for (const cause of causes) {
    const denied = cause.packages.some((p) =>
      decisions.some((d) => d.verdict === 'deny' && `${d.package.name}@${d.package.version}` === p),
    );
    const lines = [...cause.lines];
    if (cause.packages.length) {
      lines.push(`  affects ${cause.packages.length} package${cause.packages.length === 1 ? '' : 's'}:`);
      lines.push(...packageListLines(cause.packages));
    }
    report.reportJson({
      type: 'tollgate-root-cause',
      id: cause.id,
      lines: cause.lines,
      packages: cause.packages,
    });
    reportLines(report, TollgateMessage.ROOT_CAUSE, lines, denied ? 'error' : 'warning');
  }
  for (const decision of decisions) reportDecision(report, decision, unexplained(decision, causes));
}
