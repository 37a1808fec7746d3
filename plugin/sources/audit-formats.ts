import { createHash } from 'node:crypto';
import { type Decision, VIOLATION_CODES, type ViolationCode, violations } from '../../policy/decision';
import { formatLocation } from '../../policy/diagnostics';
import type { PolicyChange } from '../../policy/diff';
import { POLICY_CHANGE_CODES, POLICY_CHANGE_HELP, type PolicyChangeCode } from '../../policy/diff-codes';
import { violationLines } from './report';
import { TOLLGATE_REFERENCE_URL, TOLLGATE_VERSION } from './version';
import { VIOLATION_HELP } from './violation-help';

export const AUDIT_FORMATS = ['text', 'json', 'sarif', 'github'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

export interface AuditSummary {
  verified: number;
  warned: number;
  denied: number;
  /** allowed by the policy without cryptographic evidence (e.g. `require: none`) */
  skipped: number;
}

export function summarize(decisions: readonly Decision[]): AuditSummary {
  const s: AuditSummary = { verified: 0, warned: 0, denied: 0, skipped: 0 };
  for (const d of decisions) {
    if (d.verdict === 'deny') s.denied++;
    else if (d.verdict === 'warn') s.warned++;
    else if (d.evidence.satisfied !== 'none') s.verified++;
    else s.skipped++;
  }
  return s;
}

/** Line (1-based) of each lockfile entry's header, keyed by the `resolution:` locator it resolves to. */
export function lockfileLines(lockfile: string): Map<string, number> {
  const lines = lockfile.split('\n');
  const out = new Map<string, number>();
  let header = 1;
  lines.forEach((line, i) => {
    if (line.length > 0 && !/^\s/.test(line) && line.endsWith(':')) header = i + 1;
    const m = /^\s+resolution: "?(.*?)"?$/.exec(line);
    if (m) out.set(m[1]!, header);
  });
  return out;
}

function packageId(d: Decision): string {
  return `${d.package.name}@${d.package.version}`;
}

function firstViolation(d: Decision): string {
  return violations(d)[0]?.code ?? 'policy-violation';
}

export function renderJson(
  decisions: readonly Decision[],
  offline: boolean,
  review?: ReviewedChanges,
): string {
  return `${JSON.stringify({ format: 'tollgate.audit/v1', offline, summary: summarize(decisions), decisions, ...(review ? { review: changesJson(review) } : {}) }, null, 2)}\n`;
}

/** The outcome of the run, for SARIF's invocation: the exit status and what stopped it, if anything. */
export interface AuditInvocation {
  exitCode: number;
  /** a configuration error that stopped the audit before it judged anything */
  error?: string;
}

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

/** A fingerprint that survives line moves and reruns: the finding is this code for this package. */
function fingerprint(code: string, d: Decision): string {
  return createHash('sha256')
    .update(`${code}\0${d.package.source}\0${d.package.name}\0${d.package.version}`)
    .digest('hex');
}

/** Changes against a base ref (`--base`), and whether their relaxations were acknowledged. */
export interface ReviewedChanges {
  ref: string;
  changes: readonly PolicyChange[];
  accepted: boolean;
}

function changeFingerprint(c: PolicyChange): string {
  return createHash('sha256')
    .update(`${c.code}\0${c.subject}\0${c.before ?? ''}\0${c.after ?? ''}\0${c.message}`)
    .digest('hex');
}

function changeLevel(c: PolicyChange, accepted: boolean): 'error' | 'warning' | 'note' {
  if (!c.relaxation) return 'note';
  return accepted ? 'warning' : 'error';
}

function changeRule(code: PolicyChangeCode) {
  const help = POLICY_CHANGE_HELP[code];
  return {
    id: code,
    name: code.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase()),
    shortDescription: { text: help.summary },
    fullDescription: { text: `${help.summary} ${help.fix}` },
    help: { text: help.fix, markdown: `**${code}**: ${help.summary}\n\nFix: ${help.fix}` },
    helpUri: `${TOLLGATE_REFERENCE_URL}#policy-review`,
    defaultConfiguration: { level: code === 'policy-tightened' ? 'note' : 'error' },
    properties: { tags: ['security', 'supply-chain', 'policy-review'] },
  };
}

function sarifRule(code: ViolationCode) {
  const help = VIOLATION_HELP[code];
  return {
    id: code,
    name: code.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
    shortDescription: { text: help.summary },
    fullDescription: { text: `${help.summary} ${help.fix}` },
    help: { text: help.fix, markdown: `**${code}**: ${help.summary}\n\nFix: ${help.fix}` },
    helpUri: `${TOLLGATE_REFERENCE_URL}#violation-codes`,
    defaultConfiguration: { level: 'error' },
    properties: { tags: ['security', 'supply-chain'] },
  };
}

/**
 * SARIF 2.1.0 as code scanning consumes it: every violation code is a rule with help, every finding a
 * result on its yarn.lock entry with a stable fingerprint, and the invocation says how the run ended.
 * A run stopped by a configuration error is still a valid log, with the error as a notification.
 */
export function renderSarif(
  decisions: readonly Decision[],
  lockfilePath: string,
  lines: Map<string, number>,
  invocation: AuditInvocation,
  review?: ReviewedChanges,
): string {
  const findings = decisions.filter((d) => d.verdict !== 'allow');
  const rules = [...VIOLATION_CODES.map(sarifRule), ...POLICY_CHANGE_CODES.map(changeRule)];
  const index = new Map<string, number>(
    [...VIOLATION_CODES, ...POLICY_CHANGE_CODES].map((code, i) => [code, i] as [string, number]),
  );
  const changeResults = (review?.changes ?? []).map((c) => ({
    ruleId: c.code,
    ruleIndex: index.get(c.code) ?? 0,
    level: changeLevel(c, review!.accepted),
    message: {
      text: `${c.relaxation ? 'Relaxation' : 'Tightening'} against ${review!.ref}: ${c.message}${c.baseLocation ? ` (was at ${formatLocation(c.baseLocation)})` : ''}${c.relaxation && review!.accepted ? ' [acknowledged]' : ''}`,
    },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: c.location.file },
          region: { startLine: c.location.line, startColumn: c.location.column },
        },
      },
    ],
    partialFingerprints: { 'tollgate/v1': changeFingerprint(c) },
    properties: {
      subject: c.subject,
      relaxation: c.relaxation,
      acknowledged: c.relaxation && review!.accepted,
      base: review!.ref,
      ...(c.before !== undefined ? { before: c.before } : {}),
      ...(c.after !== undefined ? { after: c.after } : {}),
    },
  }));
  const sarif = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Tollgate',
            version: TOLLGATE_VERSION,
            informationUri: TOLLGATE_REFERENCE_URL,
            rules,
          },
        },
        invocations: [
          {
            executionSuccessful: invocation.error === undefined,
            exitCode: invocation.exitCode,
            ...(invocation.error
              ? {
                  toolExecutionNotifications: [
                    {
                      level: 'error',
                      message: { text: invocation.error },
                      descriptor: { id: 'configuration-error' },
                    },
                  ],
                }
              : {}),
          },
        ],
        results: [
          ...findings.flatMap((d) =>
            violations(d).map((reason) => ({
              ruleId: reason.code,
              ruleIndex: index.get(reason.code) ?? 0,
              level: d.verdict === 'deny' ? 'error' : 'warning',
              message: {
                text: `${packageId(d)}: ${reason.message}${reason.expected ? ` (expected ${reason.expected}, got ${reason.actual ?? 'nothing'})` : ''}`,
              },
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: { uri: lockfilePath },
                    region: { startLine: lines.get(d.package.locator ?? '') ?? 1 },
                  },
                },
              ],
              partialFingerprints: { 'tollgate/v1': fingerprint(reason.code, d) },
              properties: { package: d.package, rule: d.rule.id },
            })),
          ),
          ...changeResults,
        ],
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

/** GitHub Actions annotations for changes against the base: relaxations as errors (warnings once acknowledged). */
export function renderGithubChanges(review: ReviewedChanges): string[] {
  return review.changes
    .filter((c) => c.relaxation)
    .map((c) => {
      const level = review.accepted ? 'warning' : 'error';
      const title = escapeProperty(`Tollgate: ${c.code}`);
      return `::${level} file=${escapeProperty(c.location.file)},line=${c.location.line},title=${title}::${escapeAnnotation(`${c.message}\n${POLICY_CHANGE_HELP[c.code].fix}`)}`;
    });
}

export function changesJson(review: ReviewedChanges): Record<string, unknown> {
  const relaxations = review.changes.filter((c) => c.relaxation);
  return {
    base: review.ref,
    accepted: review.accepted,
    relaxations: relaxations.length,
    tightenings: review.changes.length - relaxations.length,
    changes: review.changes,
  };
}

function escapeAnnotation(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeAnnotation(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** GitHub Actions workflow commands: one annotation per violating package, on its yarn.lock entry. */
export function renderGithub(
  decisions: readonly Decision[],
  lockfilePath: string,
  lines: Map<string, number>,
  review?: ReviewedChanges,
): string {
  const out: string[] = [];
  for (const d of decisions) {
    if (d.verdict === 'allow') continue;
    const level = d.verdict === 'deny' ? 'error' : 'warning';
    const line = lines.get(d.package.locator ?? '') ?? 1;
    const title = escapeProperty(`Tollgate: ${packageId(d)} ${firstViolation(d)}`);
    out.push(
      `::${level} file=${escapeProperty(lockfilePath)},line=${line},title=${title}::${escapeAnnotation(violationLines(d).join('\n'))}`,
    );
  }
  if (review) out.push(...renderGithubChanges(review));
  const s = summarize(decisions);
  out.push(
    `Tollgate audit: ${s.verified} verified, ${s.warned} warned, ${s.denied} denied, ${s.skipped} skipped${review ? `; ${review.changes.filter((c) => c.relaxation).length} relaxation(s) against ${review.ref}${review.accepted ? ' (acknowledged)' : ''}` : ''}`,
  );
  return `${out.join('\n')}\n`;
}
