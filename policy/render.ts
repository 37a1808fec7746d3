// Explanations as text (for terminals; plain, the caller may colour) and as JSON.
import type { Decision, Reason } from './decision';
import { formatLocation } from './diagnostics';

export const DECISION_JSON_FORMAT = 'tollgate.decision/v1';

function packageLabel(p: Decision['package']): string {
  const origin = p.source === 'npm' ? (p.registry ? `npm from ${p.registry}` : 'npm') : p.source;
  return `${p.name}@${p.version} (${origin})`;
}

function reasonLines(reason: Reason): string[] {
  const marker = reason.severity === 'info' ? 'note' : reason.waivedBy ? 'waived' : 'violation';
  const lines = [`  - [${marker}] ${reason.code}: ${reason.message}`];
  if (reason.expected !== undefined) lines.push(`      expected: ${reason.expected}`);
  if (reason.actual !== undefined) lines.push(`      actual:   ${reason.actual}`);
  for (const check of reason.checks ?? []) {
    const from = check.from ? ` (from ${check.from})` : '';
    lines.push(
      `      ${check.ok ? 'ok  ' : 'FAIL'} ${check.field}: expected ${check.expected}, actual ${check.actual ?? '(absent)'}${from}`,
    );
  }
  if (reason.evidence !== undefined) lines.push(`      evidence: ${reason.evidence}`);
  if (reason.waivedBy)
    lines.push(
      `      waived by exceptions[${reason.waivedBy.exception}] at ${formatLocation(reason.waivedBy.location)}`,
    );
  return lines;
}

/** How to get past a denial: the approve command for continuity changes, then the exception snippet. */
export function remedyLines(decision: Decision, indent = '  '): string[] {
  const lines: string[] = [];
  if (decision.approval) {
    const { package: name, version } = decision.approval;
    lines.push(`${indent}to accept the change: yarn tollgate approve ${name}@${version} --reason "..."`);
  }
  if (decision.exceptionSnippet) {
    lines.push(`${indent}or add an exception to the policy:`);
    for (const line of decision.exceptionSnippet.split('\n')) lines.push(`${indent}  ${line}`);
  }
  return lines;
}

export function renderDecisionText(decision: Decision): string {
  const lines: string[] = [];
  lines.push(`${decision.verdict.toUpperCase()} ${packageLabel(decision.package)}`);
  if (
    decision.judged.name !== decision.package.name ||
    decision.judged.version !== decision.package.version
  ) {
    lines.push(`  judged as: ${packageLabel(decision.judged)}`);
  }
  lines.push(
    `  rule: ${decision.rule.id} at ${formatLocation(decision.rule.location)}; mode ${decision.mode} (from ${decision.modeFrom})`,
  );
  lines.push(`  precedence: ${decision.precedence}`);
  const r = decision.requirements;
  lines.push(
    `  requires: ${r.require}; trust roots ${r.trust.join(', ')}; signers ${r.signers === 'any' ? 'any' : `${r.signers} listed`}${r.minReleaseAge ? `; min release age ${r.minReleaseAge}` : ''}${r.continuity ? '; continuity on' : ''}`,
  );
  if (decision.registryBinding) {
    const b = decision.registryBinding;
    lines.push(
      `  registry binding: ${b.registries.join(', ')} (${b.rule.id} at ${formatLocation(b.rule.location)}): ${b.allowed ? 'satisfied' : `VIOLATED by ${b.actual ?? decision.judged.source}`}`,
    );
  }
  const e = decision.evidence;
  lines.push(
    `  evidence: satisfies ${e.satisfied}, observed ${e.observed}; ${e.registrySignatures} verified registry signature(s), ${e.bundles.length} bundle(s)`,
  );
  for (const b of e.bundles) {
    lines.push(
      `    ${b.kind} from ${b.source} [trust root ${b.trustRoot}${b.trusted ? '' : ', NOT ALLOWED'}] -> ${b.satisfies}${b.signer ? `; signer ${b.signer}` : ''}${b.integratedTime ? `; logged ${b.integratedTime}` : ''}`,
    );
  }
  if (decision.identity) {
    const id = decision.identity;
    lines.push(`  identity: ${id.subject ?? '(no subject)'} via ${id.issuer ?? '(no issuer)'}`);
    for (const [field, claim] of Object.entries(id.claims))
      lines.push(`    ${field}: ${claim.value} (from ${claim.from})`);
  }
  if (decision.releaseTime) {
    const t = decision.releaseTime;
    lines.push(
      `  released: ${t.at} (${t.signed ? 'signed transparency-log time' : 'UNSIGNED registry publish time'}; ${t.from})`,
    );
  }
  if (decision.exception) {
    const x = decision.exception;
    lines.push(
      `  exception: exceptions[${x.index}] at ${formatLocation(x.location)}${x.expired ? ' (EXPIRED)' : ''}: ${x.reason}${x.ticket ? ` [${x.ticket}]` : ''}, expires ${x.expires}`,
    );
  }
  if (decision.scripts) {
    const x = decision.scripts;
    const steps =
      x.steps === undefined
        ? 'build steps not read here'
        : x.steps.length
          ? x.steps.join(', ')
          : 'no build steps';
    const where = x.allowance
      ? ` (scripts.allow[${x.allowance.index}] at ${formatLocation(x.allowance.location)})`
      : '';
    lines.push(
      `  build: ${steps}; ${x.verdict === 'run' ? 'may run' : 'WITHHELD'} (scripts mode ${x.mode}): ${x.message}${where}`,
    );
    for (const check of x.checks ?? []) {
      lines.push(
        `      ${check.ok ? 'ok  ' : 'FAIL'} ${check.field}: expected ${check.expected}, actual ${check.actual ?? '(absent)'}`,
      );
    }
  }
  if (decision.reasons.length) lines.push('  reasons:');
  for (const reason of decision.reasons) lines.push(...reasonLines(reason));
  lines.push(...remedyLines(decision));
  return lines.join('\n');
}

/** A stable JSON document; the format tag lets consumers detect changes. */
export function renderDecisionJson(decision: Decision): string {
  return JSON.stringify({ format: DECISION_JSON_FORMAT, ...decision }, null, 2);
}

export function renderDecisionsText(decisions: readonly Decision[]): string {
  const counts = { allow: 0, warn: 0, deny: 0 };
  for (const d of decisions) counts[d.verdict]++;
  const shown = decisions.filter((d) => d.verdict !== 'allow');
  return [
    ...shown.map(renderDecisionText),
    `${counts.deny} denied, ${counts.warn} warned, ${counts.allow} allowed`,
  ].join('\n\n');
}
