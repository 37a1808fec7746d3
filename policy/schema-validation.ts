// Runs a JSON Schema (the single source of truth for the file formats) over parsed data and turns
// ajv's errors into located diagnostics with the expected shape and a did-you-mean. The validators
// are compiled ahead of time (schema/generated) or by schema-compile.ts, which loads ajv itself.
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Diagnostic, PathSegment } from './diagnostics';
import { formatField } from './diagnostics';
import type { ParsedSource } from './source';
import { closestMatch } from './suggest';

export function validateAgainstSchema(validate: ValidateFunction, source: ParsedSource): Diagnostic[] {
  if (validate(source.data)) return [];
  const errors = validate.errors ?? [];
  // A failed propertyNames check reports once per name and once for the object; keep the named ones.
  const relevant = errors.filter((e) => e.keyword !== 'propertyNames');
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const error of relevant) {
    const diagnostic = toDiagnostic(error, source);
    const key = `${diagnostic.line}:${diagnostic.column}:${diagnostic.code}:${diagnostic.field}:${diagnostic.found}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push(diagnostic);
  }
  return diagnostics;
}

function pathOf(instancePath: string): PathSegment[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : segment));
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (empty value)';
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length ? `a mapping with keys ${keys.slice(0, 6).join(', ')}` : 'an empty mapping';
  }
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  return `${typeof value} ${String(value)}`;
}

function expectedOf(error: ErrorObject): string | undefined {
  const parent = error.parentSchema as Record<string, unknown> | undefined;
  const hint = parent?.['x-expected'];
  return typeof hint === 'string' ? hint : undefined;
}

/** A value the schema refuses on purpose, with the reason (`x-refused: {pattern, reason}` beside an enum). */
function refusedValue(error: ErrorObject): string | undefined {
  const refused = (error.parentSchema as Record<string, unknown> | undefined)?.['x-refused'] as
    | { pattern?: string; reason?: string }
    | undefined;
  if (!refused?.pattern || typeof error.data !== 'string') return undefined;
  return new RegExp(refused.pattern).test(error.data) ? refused.reason : undefined;
}

function toDiagnostic(error: ErrorObject, source: ParsedSource): Diagnostic {
  const path = pathOf(error.instancePath);
  const base = { severity: 'error' as const };
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const parent = error.parentSchema as { properties?: Record<string, unknown> } | undefined;
      const allowed = Object.keys(parent?.properties ?? {}).filter((k) => k !== '$schema');
      const guess = closestMatch(key, allowed);
      return {
        ...base,
        ...source.locateKey(path, key),
        code: 'unknown-key',
        field: formatField([...path, key]),
        message: `unknown key "${key}"${path.length ? ` in ${formatField(path)}` : ''}`,
        expected: allowed.length ? `one of ${allowed.join(', ')}` : 'no keys',
        found: JSON.stringify(key),
        suggestion: guess
          ? `did you mean "${guess}"?`
          : 'remove it; unknown keys are refused so typos never weaken a policy',
      };
    }
    case 'required': {
      const missing = String(params['missingProperty']);
      return {
        ...base,
        ...source.locate(path),
        code: 'missing-key',
        field: formatField([...path, missing]),
        message: `"${missing}" is required${path.length ? ` in ${formatField(path)}` : ''}`,
        expected: `a "${missing}" key`,
        found: describeValue(error.data),
        suggestion: `add ${missing}: ...`,
      };
    }
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map(String);
      const refused = refusedValue(error);
      const guess =
        refused ?? (typeof error.data === 'string' ? closestMatch(error.data, allowed) : undefined);
      return {
        ...base,
        ...source.locate(path),
        code: 'invalid-value',
        field: formatField(path),
        message: `${formatField(path)} must be one of ${allowed.join(', ')}`,
        expected: `one of ${allowed.join(', ')}`,
        found: describeValue(error.data),
        ...(refused ? { suggestion: refused } : guess ? { suggestion: `did you mean "${guess}"?` } : {}),
      };
    }
    case 'type': {
      const expected = expectedOf(error) ?? `a ${String(params['type']).replace(',', ' or a ')}`;
      return {
        ...base,
        ...source.locate(path),
        code: 'wrong-type',
        field: formatField(path),
        message: `${formatField(path)} has the wrong type`,
        expected,
        found: describeValue(error.data),
      };
    }
    default: {
      const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
      const location =
        propertyName !== undefined ? source.locateKey(path, propertyName) : source.locate(path);
      const field = formatField(propertyName !== undefined ? [...path, propertyName] : path);
      return {
        ...base,
        ...location,
        code: 'invalid-value',
        field,
        message: `${field} ${error.message ?? 'is invalid'}`,
        expected: expectedOf(error) ?? error.message ?? 'a valid value',
        found: describeValue(propertyName ?? error.data),
      };
    }
  }
}
