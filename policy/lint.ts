// Lint: things that are valid but probably not what the author meant, or unsafe. Some findings are
// errors (an expired exception); the rest are warnings. Regex anchoring is enforced while compiling.
import type { Diagnostic, PathSegment } from './diagnostics';
import { formatField } from './diagnostics';
import { isExpired } from './exceptions';
import type { Policy, Rule, Signer } from './model';
import { isPlausiblePackagePattern, rangesIntersect } from './package-selector';
import { hasNestedQuantifier, looksLikeGlob, type StringPattern } from './patterns';

export interface LintOptions {
  /** Enables the date checks (expired and long-lived exceptions). */
  now?: Date;
}

type Locate = (path: readonly PathSegment[]) => { file: string; line: number; column: number };

const LONG_LIVED_MS = 366 * 86_400_000;

export function lintPolicy(policy: Policy, locate: Locate, options: LintOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (
    severity: Diagnostic['severity'],
    path: PathSegment[],
    code: string,
    message: string,
    extra: Partial<Diagnostic> = {},
  ) => out.push({ ...locate(path), severity, code, field: formatField(path), message, ...extra });
  const rulePath = (rule: Rule): PathSegment[] => (rule.index < 0 ? ['defaults'] : ['rules', rule.index]);

  const usedTrustRoots = new Set<string>();
  // Signed known-bad snapshots are verified against the roots their source names.
  for (const source of policy.knownBad?.sources ?? [])
    for (const name of source.trust) usedTrustRoots.add(name);
  // So are signed bases: the referencing policy's own roots verify them.
  for (const reference of policy.extends ?? [])
    for (const name of reference.signature?.trust ?? []) usedTrustRoots.add(name);
  for (const rule of [policy.defaults, ...policy.rules]) {
    const path = rulePath(rule);
    for (const name of rule.requirements.trust) usedTrustRoots.add(name);
    if (rule.index >= 0) {
      rule.packages.forEach((selector, i) => {
        if (!isPlausiblePackagePattern(selector.pattern)) {
          report(
            'warning',
            [...path, 'packages', i],
            'package-pattern-suspicious',
            `"${selector.pattern}" cannot match an npm package name`,
            {
              found: JSON.stringify(selector.pattern),
              expected: 'a lower-case name or glob such as @scope/*, name-*, or ** for every package',
            },
          );
        }
      });
    }
    if (rule.registries && rule.versions !== undefined) {
      report(
        'warning',
        [...path, 'versions'],
        'registry-binding-ignores-versions',
        'registries bind every version of the names, not only this range',
        {
          suggestion:
            'registry binding is decided before the version is known; move registries to a rule without versions',
        },
      );
    }
    rule.registries?.forEach((url, i) => {
      // Plain http to this very machine never crosses a network: nothing to subvert.
      if (url.startsWith('http://') && !isLoopbackUrl(url)) {
        report('warning', [...path, 'registries', i], 'registry-insecure', `registry ${url} is plain http`, {
          suggestion: 'use https so that the binding cannot be subverted on the network',
        });
      }
    });
    const offSources = rule.requirements.sources.filter((s) => s !== 'npm');
    if (offSources.length && rule.requirements.require !== 'none' && rule.explicit.includes('sources')) {
      report(
        'warning',
        [...path, 'sources'],
        'sources-without-evidence',
        `${offSources.join(', ')} sources carry no evidence, so require: ${rule.requirements.require} always fails for them`,
        {
          suggestion: 'give those packages their own rule with require: none',
        },
      );
    }
    if (rule.requirements.signers !== 'any' && rule.explicit.includes('signers')) {
      for (const signer of rule.requirements.signers)
        lintSigner(signer, [...path, 'signers', signer.index], report);
    }
  }

  policy.trustRoots.forEach((root) => {
    if (!root.builtin && !usedTrustRoots.has(root.name)) {
      report(
        'warning',
        ['trustRoots', root.name],
        'trust-root-unused',
        `trust root "${root.name}" is declared but no rule uses it`,
        {
          suggestion: `add trust: [${root.name}] to the rules it verifies, or remove it`,
        },
      );
    }
  });

  lintOverlaps(policy, report);
  lintExceptions(policy, report, options);
  return out;
}

type Report = (
  severity: Diagnostic['severity'],
  path: PathSegment[],
  code: string,
  message: string,
  extra?: Partial<Diagnostic>,
) => void;

function isWildcard(pattern: StringPattern | undefined): boolean {
  if (!pattern) return true;
  if (pattern.kind === 'glob') return /^[*?]*$/.test(pattern.source);
  if (pattern.kind === 'regex') return /^\^\.[*+]\$$/.test(pattern.source);
  return false;
}

function lintSigner(signer: Signer, path: PathSegment[], report: Report) {
  for (const field of ['subject', 'workflow', 'ref', 'builder'] as const) {
    const pattern = signer[field];
    if (pattern?.kind === 'exact' && looksLikeGlob(pattern.source)) {
      report(
        'warning',
        [...path, field],
        'exact-looks-like-glob',
        `${field} is matched exactly, but contains * or ?`,
        {
          found: JSON.stringify(pattern.source),
          suggestion: `if a pattern was meant, write ${field}: { glob: ${JSON.stringify(pattern.source)} }`,
        },
      );
    }
    if (pattern?.kind === 'regex' && hasNestedQuantifier(pattern.source)) {
      report(
        'warning',
        [...path, field],
        'regex-backtracking',
        'nested quantifiers can backtrack catastrophically',
        {
          found: JSON.stringify(pattern.source),
          suggestion: 'simplify the expression, or use a glob',
        },
      );
    }
  }
  const pinsSomething =
    !isWildcard(signer.subject) ||
    signer.repository !== undefined ||
    signer.repositoryId !== undefined ||
    signer.ownerId !== undefined;
  if (!pinsSomething) {
    report(
      'warning',
      path,
      'signer-unconstrained',
      `accepts any identity the issuer ${signer.issuer} vouches for`,
      {
        suggestion:
          'add subject, repository or repositoryId: for a CI issuer, anyone with a repository can get such a certificate',
      },
    );
  }
  if (
    signer.tag !== undefined &&
    signer.ref?.kind === 'exact' &&
    !signer.ref.source.startsWith('refs/tags/')
  ) {
    report(
      'warning',
      [...path, 'tag'],
      'tag-contradicts-ref',
      `tag requires a refs/tags/ ref, but ref is ${signer.ref.source}: nothing can match`,
      {
        suggestion: 'remove ref, or use ref: { glob: refs/tags/* }',
      },
    );
  }
  if (/\/$/.test(signer.issuer)) {
    report(
      'warning',
      [...path, 'issuer'],
      'issuer-trailing-slash',
      'issuers are compared exactly and rarely end with /',
      {
        found: JSON.stringify(signer.issuer),
        suggestion: `issuer: ${signer.issuer.replace(/\/+$/, '')}`,
      },
    );
  }
}

function lintOverlaps(policy: Policy, report: Report) {
  const key = (rule: Rule) => [...new Set(rule.packages.map((p) => p.pattern))].sort().join('\n');
  for (let j = 0; j < policy.rules.length; j++) {
    const later = policy.rules[j]!;
    for (let i = 0; i < j; i++) {
      const earlier = policy.rules[i]!;
      if (key(earlier) !== key(later) || (earlier.versions === undefined) !== (later.versions === undefined))
        continue;
      if (!rangesIntersect(earlier.versions, later.versions)) continue;
      const whole = earlier.versions === undefined || earlier.versions === later.versions;
      report(
        'warning',
        ['rules', j],
        whole ? 'rule-shadowed' : 'rule-overlap',
        whole
          ? `${later.id} selects the same packages as ${earlier.id}, which comes first and always wins: ${later.id} never decides`
          : `${later.id} and ${earlier.id} select the same packages with overlapping versions; ${earlier.id} wins where both match`,
        {
          suggestion: whole ? `merge it into ${earlier.id} or delete it` : 'make the version ranges disjoint',
        },
      );
      break;
    }
    if (later.registries) {
      for (const selector of later.packages.filter((p) => p.exact)) {
        const other = policy.rules.find(
          (r, i) =>
            i < j &&
            r.registries &&
            r.packages.some((p) => p.pattern === selector.pattern) &&
            r.registries.join() !== later.registries!.join(),
        );
        if (other) {
          report(
            'warning',
            ['rules', j, 'registries'],
            'registry-binding-conflict',
            `${selector.pattern} is bound to different registries by ${other.id} and ${later.id}; ${other.id} wins`,
            {
              suggestion: 'bind each name to its registries in one rule',
            },
          );
        }
      }
    }
  }
}

function lintExceptions(policy: Policy, report: Report, options: LintOptions) {
  policy.exceptions.forEach((exception, index) => {
    const path: PathSegment[] = ['exceptions', index];
    if (options.now && isExpired(exception, options.now)) {
      report(
        'error',
        [...path, 'expires'],
        'exception-expired',
        `the exception for ${exception.package.pattern} expired on ${exception.expires}`,
        {
          found: exception.expires,
          expected: `a date on or after ${options.now.toISOString().slice(0, 10)}`,
          suggestion: 'fix the package and delete the exception, or renew it with a fresh reason',
        },
      );
    } else if (options.now && exception.expiresAt.getTime() - options.now.getTime() > LONG_LIVED_MS) {
      report(
        'warning',
        [...path, 'expires'],
        'exception-long-lived',
        'the exception lasts more than a year',
        {
          found: exception.expires,
          suggestion: 'exceptions are for the time it takes to fix something; prefer weeks or months',
        },
      );
    }
    const previous = policy.exceptions.findIndex(
      (e, i) =>
        i < index &&
        e.package.pattern === exception.package.pattern &&
        rangesIntersect(e.versions, exception.versions),
    );
    if (previous >= 0) {
      report(
        'warning',
        path,
        'exception-overlap',
        `overlaps exceptions[${previous}], which is used first for the same packages`,
        {
          suggestion: 'merge the two exceptions',
        },
      );
    }
    if (exception.waive && exception.package.exact) {
      const rules = [
        policy.defaults,
        ...policy.rules.filter((r) => r.packages.some((p) => p.test(exception.package.pattern))),
      ];
      const possible = (code: string) =>
        rules.some((rule) => {
          const r = rule.requirements;
          switch (code) {
            case 'registry-not-allowed':
            case 'registry-unknown':
              return policy.rules.some(
                (x) => x.registries && x.packages.some((p) => p.test(exception.package.pattern)),
              );
            case 'release-too-new':
            case 'release-age-unknown':
              return r.minReleaseAge !== undefined;
            case 'signer-mismatch':
              return r.signers !== 'any';
            case 'identity-changed':
            case 'evidence-downgrade':
              return r.continuity;
            default:
              return true;
          }
        });
      exception.waive.forEach((code, i) => {
        if (!possible(code)) {
          report(
            'warning',
            [...path, 'waive', i],
            'exception-no-effect',
            `no rule for ${exception.package.pattern} can raise ${code}`,
            {
              suggestion: `remove ${code} from waive`,
            },
          );
        }
      });
    }
  });
}

function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}
