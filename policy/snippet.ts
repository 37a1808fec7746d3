// A ready-to-paste exception for a denied package: narrow (exact version, only the codes that fired)
// and short-lived, so the easy fix is also a reviewable one.
import { stringify } from 'yaml';
import type { Reason } from './decision';

const SNIPPET_LIFETIME_MS = 30 * 86_400_000;

export function exceptionSnippet(
  name: string,
  version: string,
  reasons: readonly Reason[],
  now: Date,
  /** the tarball's sha512 SRI: a known-bad waiver names the exact bytes */
  integrity?: string,
): string | undefined {
  const codes = [...new Set(reasons.map((r) => r.code))].filter(
    (c) => c !== 'exception-expired' && c !== 'known-bad-unchecked' && (c !== 'known-bad' || !!integrity),
  );
  // Only an expired exception is wrong: renewing it is a decision, not a snippet.
  if (codes.length === 0) return undefined;
  const expires = new Date(now.getTime() + SNIPPET_LIFETIME_MS).toISOString().slice(0, 10);
  const entry = {
    package: name,
    versions: version,
    reason: 'TODO: why this is acceptable, who checked it',
    expires,
    ticket: 'TODO',
    waive: codes,
    ...(codes.includes('known-bad') && integrity ? { integrity } : {}),
  };
  const notes: string[] = [];
  if (codes.includes('identity-changed') || codes.includes('evidence-downgrade')) {
    notes.push(
      `# a legitimate identity change or downgrade is better approved: yarn tollgate approve ${name}@${version}`,
    );
  }
  if (codes.includes('known-bad')) {
    notes.push(
      '# waive known-bad only when this exact tarball is a false positive of the record, checked and written down',
    );
  }
  if (codes.includes('registry-not-allowed')) {
    notes.push('# waiving registry-not-allowed switches off the dependency-confusion guard for this package');
  }
  const body = stringify(
    { exceptions: [entry] },
    { lineWidth: 0, defaultStringType: 'PLAIN', flowCollectionPadding: false },
  );
  return [...notes, body.trimEnd()].join('\n');
}
