// Loading a policy: YAML with locations -> JSON Schema -> compile -> lint. Never throws: any input
// yields either a Policy or located errors.

import type { ValidateFunction } from 'ajv';
import { compilePolicy } from './compile';
import type { Diagnostic } from './diagnostics';
import { sortDiagnostics } from './diagnostics';
import { type LintOptions, lintPolicy } from './lint';
import { DEFAULT_POLICY_FILE, type Policy } from './model';
import validatePolicy from './schema/generated/validate-policy.cjs';
import { validateAgainstSchema } from './schema-validation';
import { parseYamlSource } from './source';

export type PolicyLoadResult =
  | { ok: true; policy: Policy; warnings: Diagnostic[] }
  | { ok: false; errors: Diagnostic[]; warnings: Diagnostic[] };

/** The policy schema's validator, compiled ahead of time (schema/generate-validators.ts). */
export function policyValidator(): ValidateFunction {
  return validatePolicy;
}

export interface LoadOptions extends LintOptions {
  /**
   * A policy that extends bases means nothing without them: by default it is refused here, so no caller
   * judges with half a policy (policy/extends.ts loads it with its bases). `ignore` compiles the file's
   * own content only, for tools that look at one file (documentation examples, editors).
   */
  extends?: 'refuse' | 'ignore';
}

export function loadPolicy(
  text: string,
  file: string = DEFAULT_POLICY_FILE,
  options: LoadOptions = {},
): PolicyLoadResult {
  try {
    if (typeof text !== 'string') return failure(file, 'the policy text is not a string');
    const source = parseYamlSource(text, file);
    if (source.errors.length)
      return { ok: false, errors: sortDiagnostics(source.errors), warnings: source.warnings };
    const schemaErrors = validateAgainstSchema(policyValidator(), source);
    if (schemaErrors.length)
      return { ok: false, errors: sortDiagnostics(schemaErrors), warnings: source.warnings };
    const compiled = compilePolicy(source);
    if (!compiled.policy)
      return { ok: false, errors: sortDiagnostics(compiled.errors), warnings: source.warnings };
    const bases = compiled.policy.extends;
    if (bases?.length && options.extends !== 'ignore') {
      return {
        ok: false,
        errors: [
          {
            ...bases[0]!.location,
            code: 'extends-unresolved',
            severity: 'error',
            field: 'extends',
            message: 'this policy extends base policies, which were not loaded',
            suggestion: 'load it with its bases (loadPolicyTree; `yarn tollgate policy check` does)',
          },
        ],
        warnings: source.warnings,
      };
    }
    const findings = lintPolicy(compiled.policy, source.locate, options);
    const errors = findings.filter((d) => d.severity === 'error');
    const warnings = sortDiagnostics([
      ...source.warnings,
      ...findings.filter((d) => d.severity === 'warning'),
    ]);
    if (errors.length) return { ok: false, errors: sortDiagnostics(errors), warnings };
    return { ok: true, policy: compiled.policy, warnings };
  } catch (error) {
    // Reaching this is a bug (the fuzz test asserts it never happens), but a caller must still get a
    // located error and fail closed rather than a stack trace.
    return failure(
      file,
      `internal error while reading the policy: ${error instanceof Error ? error.message : String(error)}`,
      'internal-error',
    );
  }
}

function failure(file: string, message: string, code = 'invalid-input'): PolicyLoadResult {
  return {
    ok: false,
    errors: [{ file, line: 1, column: 1, code, severity: 'error', field: '(document)', message }],
    warnings: [],
  };
}
