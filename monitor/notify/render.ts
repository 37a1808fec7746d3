// A run's report as text for people, NDJSON for machines, and Markdown ready to be the body of a
// GitHub issue. All three say the same things; only new findings are shown in full (known ones were
// reported by the run that first saw them).
import { type Finding, isInconsistency } from '../findings';
import type { RunReport } from '../report';

const TITLES: Record<Finding['kind'], string> = {
  'unexpected-signing': 'unexpected signing event',
  'version-unsigned': 'unsigned version',
  'version-other-identity': 'version signed by another identity',
  'version-unexpected-build': 'version built unexpectedly',
  'version-policy-violation': 'version violates the policy',
  'log-inconsistent': 'LOG INCONSISTENT',
  'log-rollback': 'LOG ROLLED BACK',
  'split-view': 'SPLIT VIEW',
};

function factLines(finding: Finding): string[] {
  const lines: string[] = [];
  if (finding.entry && finding.log) {
    lines.push(
      `log: ${finding.log.name} (${finding.log.url}), index ${finding.entry.logIndex}, uuid ${finding.entry.uuid}`,
      `time: ${finding.entry.integratedTime} (${finding.entry.timeVerified ? 'signed by the log' : 'NOT verified: the log gave no valid signed entry timestamp'})`,
    );
  } else if (finding.log) {
    lines.push(`log: ${finding.log.name} (${finding.log.url}), log id ${finding.log.logId}`);
  }
  if (finding.identity) {
    const claims = Object.entries(finding.identity.claims).map(([k, v]) => `${k}=${v}`);
    lines.push(
      `identity: ${finding.identity.subject} (issuer ${finding.identity.issuer}), watched as ${finding.identity.watched.join(', ')}`,
      ...(claims.length ? [`claims: ${claims.join(', ')}`] : []),
    );
  }
  for (const subject of finding.subjects ?? []) {
    const digests = Object.entries(subject.digest).map(([alg, value]) => `${alg}:${value.slice(0, 16)}…`);
    lines.push(
      `subject: ${subject.name}${digests.length ? ` (${digests.join(', ')})` : ''}, from ${subject.from}`,
    );
  }
  if (finding.package)
    lines.push(`package: ${finding.package.name}@${finding.package.version} on ${finding.package.registry}`);
  for (const checkpoint of finding.checkpoints ?? []) {
    lines.push(
      `checkpoint from ${checkpoint.observedFrom}: size ${checkpoint.size}, root ${checkpoint.rootHash}`,
    );
  }
  return lines;
}

export function renderText(report: RunReport): string {
  const out: string[] = [];
  for (const note of report.notes) out.push(`· ${note}`);
  for (const event of report.expected) out.push(`✓ ${event.summary}`);
  for (const finding of report.findings) {
    const mark = isInconsistency(finding) ? '✗✗' : '✗';
    if (!finding.isNew) {
      out.push(`${mark} still: ${finding.summary} (reported before: ${finding.id})`);
      continue;
    }
    out.push(`${mark} ${TITLES[finding.kind]}: ${finding.summary}`);
    for (const line of [...factLines(finding), ...finding.details]) out.push(`    ${line}`);
    for (const checkpoint of finding.checkpoints ?? []) {
      out.push(`    signed note (${checkpoint.observedFrom}):`);
      for (const line of checkpoint.note.trimEnd().split('\n')) out.push(`      | ${line}`);
    }
  }
  for (const problem of report.problems)
    out.push(`! ${problem.code} (${problem.source}): ${problem.message}`);
  for (const delivery of report.deliveries) {
    out.push(
      delivery.status === 'delivered'
        ? `→ webhook: delivered ${delivery.id} (attempt ${delivery.attempts}, HTTP ${delivery.httpStatus})`
        : `! webhook: ${delivery.id} not delivered after ${delivery.attempts} attempt(s): ${delivery.error}; retried next run`,
    );
  }
  for (const log of report.logs) {
    const rate =
      log.seconds > 0
        ? ` (${Math.round(log.entriesRead / log.seconds)} entries/s, ${log.readMode} reads)`
        : '';
    out.push(
      `log ${log.name}: ${log.halted ? 'HALTED at' : 'verified up to'} ${log.verifiedSize} of ${log.checkpointSize} entries; ${log.entriesRead} read in ${log.seconds.toFixed(2)} s${rate}`,
    );
  }
  const fresh = report.findings.filter((f) => f.isNew);
  const inconsistencies = report.findings.filter(isInconsistency).length;
  out.push(
    `tollgate-monitor: ${fresh.length} new finding(s), ${inconsistencies} log inconsistenc${inconsistencies === 1 ? 'y' : 'ies'}, ${report.expected.length} expected signing event(s), ${report.problems.length} problem(s); exit ${report.exitCode}`,
  );
  return `${out.join('\n')}\n`;
}

export function renderNdjson(report: RunReport): string {
  const lines: unknown[] = [
    ...report.notes.map((message) => ({ type: 'note', message })),
    ...report.expected.map((event) => ({ type: 'expected', ...event })),
    ...report.findings.map((finding) => ({ type: 'finding', ...finding })),
    ...report.problems.map((problem) => ({ type: 'problem', ...problem })),
    ...report.deliveries.map((delivery) => ({ type: 'delivery', ...delivery })),
    ...report.logs.map((log) => ({ type: 'log', ...log })),
    {
      type: 'summary',
      config: report.config,
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      newFindings: report.findings.filter((f) => f.isNew).length,
      inconsistencies: report.findings.filter(isInconsistency).length,
      expected: report.expected.length,
      problems: report.problems.length,
      exitCode: report.exitCode,
    },
  ];
  return lines.map((line) => `${JSON.stringify(line)}\n`).join('');
}

const escapeMd = (text: string) => text.replace(/([|\\`*_[\]<>])/g, '\\$1');

export function renderFindingMarkdown(finding: Finding): string {
  const out = [`### ${TITLES[finding.kind]}: ${escapeMd(finding.summary)}`, ''];
  const facts = factLines(finding);
  if (facts.length) {
    out.push('| | |', '| --- | --- |');
    for (const line of facts) {
      const at = line.indexOf(': ');
      out.push(`| ${escapeMd(line.slice(0, at))} | ${escapeMd(line.slice(at + 2))} |`);
    }
    out.push('');
  }
  for (const detail of finding.details) out.push(`- ${escapeMd(detail)}`);
  for (const checkpoint of finding.checkpoints ?? []) {
    out.push(
      '',
      `Signed note (${escapeMd(checkpoint.observedFrom)}):`,
      '',
      '```',
      checkpoint.note.trimEnd(),
      '```',
    );
  }
  out.push('', `<sub>finding id: \`${finding.id}\`</sub>`, '');
  return out.join('\n');
}

/** The body of a GitHub issue: what was found, what to do first. */
export function renderMarkdown(report: RunReport): string {
  const shown = report.findings.filter((f) => f.isNew || isInconsistency(f));
  const out = [
    `## Tollgate monitor: ${shown.length} finding(s) need investigation`,
    '',
    `Run of \`${escapeMd(report.config)}\` from ${report.startedAt} to ${report.finishedAt} (exit ${report.exitCode}).`,
    '',
  ];
  if (shown.some((f) => f.kind === 'unexpected-signing')) {
    out.push(
      '> A watched identity signed something no expected release accounts for. If nobody on the team did, treat the identity as compromised: revoke its sessions and tokens, check the release workflow and its secrets, and deprecate or unpublish what it signed.',
      '',
    );
  }
  if (shown.some(isInconsistency)) {
    out.push(
      '> A transparency log contradicted itself. Keep both signed checkpoints below: together they prove the log misbehaved. Report them to the log operator.',
      '',
    );
  }
  for (const finding of shown) out.push(renderFindingMarkdown(finding));
  if (report.problems.length) {
    out.push('### Sources that could not be checked', '');
    for (const problem of report.problems)
      out.push(`- \`${problem.code}\` ${escapeMd(problem.source)}: ${escapeMd(problem.message)}`);
    out.push('');
  }
  return out.join('\n');
}
