// Located problems in a policy or pins file. Codes are stable: tools and tests key on them.

export type Severity = 'error' | 'warning';

export interface SourceLocation {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
}

export interface Diagnostic extends SourceLocation {
  code: string;
  severity: Severity;
  /** The field, as a path into the document, e.g. `rules[1].signers[0].subject`. */
  field: string;
  message: string;
  expected?: string;
  found?: string;
  /** A concrete fix, e.g. a did-you-mean. */
  suggestion?: string;
}

export type PathSegment = string | number;

export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}

export function formatField(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out || '(document)';
}

export function formatDiagnostic(d: Diagnostic): string {
  const lines = [`${formatLocation(d)}: ${d.severity} ${d.code}: ${d.message}`];
  if (d.field !== '(document)') lines.push(`  field:      ${d.field}`);
  if (d.expected !== undefined) lines.push(`  expected:   ${d.expected}`);
  if (d.found !== undefined) lines.push(`  found:      ${d.found}`);
  if (d.suggestion !== undefined) lines.push(`  suggestion: ${d.suggestion}`);
  return lines.join('\n');
}

export function formatDiagnostics(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.map(formatDiagnostic).join('\n');
}

/** Sorts by position so that reports read top to bottom. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

/** A failure the loader did not foresee, reported at the top of the file instead of thrown. */
export function internalError(file: string, what: string, error: unknown): Diagnostic {
  return {
    file,
    line: 1,
    column: 1,
    code: 'internal-error',
    severity: 'error',
    field: '(document)',
    message: `${what}: ${error instanceof Error ? error.message : String(error)}`,
  };
}
