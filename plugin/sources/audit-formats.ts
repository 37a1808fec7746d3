import { type Decision, violations } from '../../policy';
import { violationLines } from './report';
import { TOLLGATE_VERSION } from './version';

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

export function renderJson(decisions: readonly Decision[], offline: boolean): string {
  return `${JSON.stringify({ format: 'tollgate.audit/v1', offline, summary: summarize(decisions), decisions }, null, 2)}\n`;
}

export function renderSarif(
  decisions: readonly Decision[],
  lockfilePath: string,
  lines: Map<string, number>,
): string {
  const findings = decisions.filter((d) => d.verdict !== 'allow');
  const ruleIds = [...new Set(findings.flatMap((d) => violations(d).map((r) => r.code)))].sort();
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Tollgate',
            version: TOLLGATE_VERSION,
            rules: ruleIds.map((id) => ({
              id,
              shortDescription: { text: `Tollgate policy violation: ${id}` },
            })),
          },
        },
        results: findings.flatMap((d) =>
          violations(d).map((reason) => ({
            ruleId: reason.code,
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
            properties: { package: d.package, rule: d.rule.id },
          })),
        ),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
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
  const s = summarize(decisions);
  out.push(
    `Tollgate audit: ${s.verified} verified, ${s.warned} warned, ${s.denied} denied, ${s.skipped} skipped`,
  );
  return `${out.join('\n')}\n`;
}
