// String patterns for signer identities (subject, workflow, ref, builder): exact, anchored glob or
// anchored regular expression. Identity matching is anchored by construction: sigstore-js matches
// identities as unanchored regexes, which is how "acme" ends up accepting "evil-acme".

export type PatternKind = 'exact' | 'glob' | 'regex';

export interface StringPattern {
  kind: PatternKind;
  source: string;
  test(value: string): boolean;
}

export type PatternSpec = string | { exact?: string; glob?: string; regex?: string };

export interface PatternProblem {
  code: 'regex-invalid' | 'regex-unanchored' | 'regex-root-alternation';
  message: string;
  suggestion: string;
}

export function describePattern(pattern: StringPattern): string {
  return pattern.kind === 'exact' ? pattern.source : `${pattern.kind} ${pattern.source}`;
}

export function compilePattern(spec: PatternSpec): StringPattern | PatternProblem {
  if (typeof spec === 'string') return exactPattern(spec);
  if (spec.exact !== undefined) return exactPattern(spec.exact);
  if (spec.glob !== undefined) {
    const expression = globToRegExp(spec.glob);
    return { kind: 'glob', source: spec.glob, test: (value) => expression.test(value) };
  }
  const source = spec.regex ?? '';
  const problem = regexProblem(source);
  if (problem) return problem;
  const expression = new RegExp(source, 'u');
  return { kind: 'regex', source, test: (value) => expression.test(value) };
}

export function isPatternProblem(value: StringPattern | PatternProblem): value is PatternProblem {
  return 'code' in value;
}

function exactPattern(source: string): StringPattern {
  return { kind: 'exact', source, test: (value) => value === source };
}

/**
 * Anchored glob: `*` matches any run of characters except `/`, `**` any run including `/`,
 * `?` one character except `/`; everything else is literal. `/` is never collapsed or normalised.
 */
export function globToRegExp(glob: string): RegExp {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '*') {
      if (glob[i + 1] === '*') {
        out += '.*';
        i++;
      } else {
        out += '[^/]*';
      }
    } else if (char === '?') {
      out += '[^/]';
    } else {
      // Only syntax characters and `/` may be escaped under the `u` flag (`\-` is a SyntaxError there;
      // outside a class `-` is literal anyway).
      out += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`${out}$`, 'su');
}

export function looksLikeGlob(value: string): boolean {
  return /[*?]/.test(value);
}

/** Why a regex is unsafe as an identity pattern, or undefined when it is anchored and valid. */
export function regexProblem(source: string): PatternProblem | undefined {
  try {
    new RegExp(source, 'u');
  } catch (error) {
    return {
      code: 'regex-invalid',
      message: `invalid regular expression: ${error instanceof Error ? error.message : String(error)}`,
      suggestion: 'fix the expression, or use { glob: ... } which needs no escaping',
    };
  }
  if (!source.startsWith('^') || !endsWithUnescapedDollar(source)) {
    return {
      code: 'regex-unanchored',
      message: 'regular expression is not anchored at both ends, so it matches inside longer identities',
      suggestion: `anchor it: ^${source.replace(/^\^/, '').replace(/\$$/, '')}$`,
    };
  }
  if (hasRootAlternation(source)) {
    return {
      code: 'regex-root-alternation',
      message: 'root-level | splits the anchors: ^a|b$ means (^a) or (b$), which matches unanchored text',
      suggestion: `group the alternatives: ^(?:${source.slice(1, -1)})$`,
    };
  }
  return undefined;
}

function endsWithUnescapedDollar(source: string): boolean {
  if (!source.endsWith('$')) return false;
  let backslashes = 0;
  for (let i = source.length - 2; i >= 0 && source[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 0;
}

function hasRootAlternation(source: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === '\\') {
      i++;
    } else if (inClass) {
      if (char === ']') inClass = false;
    } else if (char === '[') {
      inClass = true;
    } else if (char === '(') {
      depth++;
    } else if (char === ')') {
      depth = Math.max(0, depth - 1);
    } else if (char === '|' && depth === 0) {
      return true;
    }
  }
  return false;
}

/** A quantified group that itself contains a quantifier: the classic catastrophic-backtracking shape. */
export function hasNestedQuantifier(source: string): boolean {
  return /\((?:[^()\\]|\\.)*[+*](?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})/u.test(source);
}
