// Turns a schema-valid document into a Policy: compiles selectors and patterns, normalises URLs,
// resolves trust-root names and applies the defaults. Anything the schema cannot express
// (semver ranges, regex anchoring, references between sections) is checked here, located.
import type { Diagnostic, PathSegment } from './diagnostics';
import { formatField } from './diagnostics';
import { parseDuration } from './duration';
import type { ExtendsReference, Permits } from './layers';
import {
  type AllowableSource,
  type ContinuityScope,
  DEFAULT_POLICY_FILE,
  type EvidenceLevel,
  evidenceRank,
  type KnownBadPolicy,
  type KnownBadSourcePolicy,
  type Mode,
  type Policy,
  type PolicyException,
  PUBLIC_GOOD_TRUST_ROOT,
  type Requirements,
  type Rule,
  type ScriptAllowance,
  type ScriptSource,
  type ScriptsDefault,
  type ScriptsPolicy,
  type Signer,
  type TrustRootDeclaration,
} from './model';
import { compileNameSelector, isValidRange } from './package-selector';
import { compilePattern, isPatternProblem, type PatternSpec, type StringPattern } from './patterns';
import { normalizeRegistryUrl } from './registry-url';
import { normalizeRepository } from './repository';
import { comparableRemote } from './script-allowance';
import type { ParsedSource } from './source';
import { closestMatch } from './suggest';
import { tagTemplateProblem } from './tag-template';

// Shapes guaranteed by the JSON Schema once validation has passed.
interface RawSigner {
  issuer: string;
  subject?: PatternSpec;
  repository?: string;
  repositoryId?: string | number;
  ownerId?: string | number;
  workflow?: PatternSpec;
  ref?: PatternSpec;
  tag?: string;
  events?: { allow?: string[]; deny?: string[] };
  runner?: string;
  builder?: PatternSpec;
}
interface RawRequirements {
  require?: EvidenceLevel;
  trust?: string[];
  sources?: AllowableSource[];
  signers?: 'any' | RawSigner[];
  minReleaseAge?: string;
  unsignedTimeFallback?: boolean;
  continuity?: boolean | ContinuityScope;
}
interface RawRule extends RawRequirements {
  name?: string;
  description?: string;
  packages: string | string[];
  versions?: string;
  registries?: string | string[];
  mode?: Mode;
}
interface RawException {
  package: string;
  versions?: string;
  reason: string;
  expires: string;
  ticket?: string;
  waive?: string[];
  integrity?: string;
}
interface RawKnownBad {
  maxAge?: string;
  stale?: 'warn' | 'deny';
  publicRegistries?: string[];
  sources?: Array<{ name: string; url?: string; trust?: string[]; signers: RawSigner[] }>;
  verdictService?: { url: string; publicKey: string };
}
interface RawScriptAllowance {
  package: string;
  versions?: string;
  reason: string;
  mode?: Mode;
  signers?: RawSigner[];
  trust?: string[];
  integrity?: string;
  source?: ScriptSource;
  repository?: PatternSpec;
}
interface RawPolicy {
  version: 1;
  scripts?: { default?: ScriptsDefault; mode?: Mode; allow?: RawScriptAllowance[] };
  mode?: Mode;
  trustRoots?: Record<string, { file?: string; tuf?: string; root?: string; description?: string }>;
  defaults?: RawRequirements;
  rules?: RawRule[];
  exceptions?: RawException[];
  knownBad?: RawKnownBad;
  extends?: string | Array<string | RawExtendsEntry>;
  permits?: RawPermits;
}
interface RawExtendsEntry {
  path?: string;
  url?: string;
  sha256?: string;
  signers?: RawSigner[];
  trust?: string[];
  bundle?: string;
}
interface RawPermits {
  mode?: Mode;
  exceptions?: boolean;
  scriptAllowances?: Permits['scriptAllowances'];
  scriptsDefault?: ScriptsDefault;
  packages?: string[];
}

/**
 * What a policy that extends others inherits while it is compiled (policy/extends.ts): its rules fall
 * back on the merged bases' defaults, and may name the bases' trust roots.
 */
export interface CompileBase {
  defaults: Requirements;
  defaultSignersStated: boolean;
  trustRootNames: string[];
}

const BUILTIN_REQUIREMENTS: Requirements = {
  require: 'none',
  trust: [PUBLIC_GOOD_TRUST_ROOT],
  sources: ['npm'],
  signers: 'any',
  unsignedTimeFallback: true,
  continuity: true,
  continuityScope: 'package',
};

const REQUIREMENT_KEYS = [
  'require',
  'trust',
  'sources',
  'signers',
  'minReleaseAge',
  'unsignedTimeFallback',
  'continuity',
] as const satisfies ReadonlyArray<keyof Requirements>;

/** A trust root is a file, or a TUF repository with its committed root.json: exactly one of the two. */
function trustRootShapeErrors(
  name: string,
  declaration: { file?: string; tuf?: string; root?: string },
  error: (path: PathSegment[], code: string, message: string, extra?: Partial<Diagnostic>) => void,
): void {
  const path: PathSegment[] = ['trustRoots', name];
  const hasTuf = declaration.tuf !== undefined || declaration.root !== undefined;
  if (declaration.file !== undefined && hasTuf) {
    error(path, 'invalid-value', `trust root "${name}" has both file and tuf/root`, {
      expected: '{ file: trusted_root.json } or { tuf: <repository URL>, root: <committed root.json> }',
      suggestion: 'keep one: a TUF repository keeps the trusted root fresh, a file is refreshed by hand',
    });
    return;
  }
  if (declaration.file === undefined && !hasTuf) {
    error(path, 'missing-key', `trust root "${name}" needs file, or tuf and root`, {
      expected: '{ file: trusted_root.json } or { tuf: <repository URL>, root: <committed root.json> }',
      suggestion: 'add file: path/to/trusted_root.json',
    });
    return;
  }
  if (!hasTuf) return;
  if (declaration.root === undefined || declaration.tuf === undefined) {
    const missing = declaration.root === undefined ? 'root' : 'tuf';
    const other = missing === 'root' ? 'tuf' : 'root';
    error(path, 'missing-key', `trust root "${name}": "${missing}" is required with "${other}"`, {
      expected:
        missing === 'root'
          ? "root: the repository's root.json, committed beside the policy (the TUF chain starts there)"
          : 'tuf: the URL of the TUF repository (the folder holding timestamp.json)',
      suggestion: `add ${missing}: ...`,
    });
    return;
  }
  let url: URL | null = null;
  try {
    url = new URL(declaration.tuf);
  } catch {}
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) {
    error([...path, 'tuf'], 'invalid-value', `trust root "${name}": tuf must be an http(s) URL`, {
      found: JSON.stringify(declaration.tuf),
      expected: 'the URL of the TUF repository, e.g. https://sigstore.acme.example/tuf',
    });
  }
}

export function compilePolicy(
  source: ParsedSource,
  base?: CompileBase,
): { policy?: Policy; errors: Diagnostic[] } {
  const raw = source.data as RawPolicy;
  const errors: Diagnostic[] = [];
  const error = (path: PathSegment[], code: string, message: string, extra: Partial<Diagnostic> = {}) => {
    errors.push({
      ...source.locate(path),
      code,
      severity: 'error',
      field: formatField(path),
      message,
      ...extra,
    });
  };

  const trustRoots: TrustRootDeclaration[] = [{ name: PUBLIC_GOOD_TRUST_ROOT, builtin: true }];
  for (const [name, declaration] of Object.entries(raw.trustRoots ?? {})) {
    trustRootShapeErrors(name, declaration, error);
    trustRoots.push({
      name,
      file: declaration.file,
      ...(declaration.tuf !== undefined ? { tuf: declaration.tuf, root: declaration.root } : {}),
      builtin: false,
      location: source.locateKey(['trustRoots'], name),
    });
  }
  const trustNames = [...trustRoots.map((t) => t.name), ...(base?.trustRootNames ?? [])];

  const pattern = (path: PathSegment[], spec: PatternSpec | undefined): StringPattern | undefined => {
    if (spec === undefined) return undefined;
    const compiled = compilePattern(spec);
    if (!isPatternProblem(compiled)) return compiled;
    const regex = typeof spec === 'string' ? spec : (spec.regex ?? '');
    error([...path, 'regex'], compiled.code, compiled.message, {
      found: JSON.stringify(regex),
      expected: 'a valid regular expression anchored with ^ and $ and no top-level |',
      suggestion: compiled.suggestion,
    });
    return undefined;
  };

  const signer = (path: PathSegment[], rawSigner: RawSigner, index: number): Signer => {
    const compiled: Signer = { index, location: source.locate(path), issuer: rawSigner.issuer };
    const subject = pattern([...path, 'subject'], rawSigner.subject);
    if (subject) compiled.subject = subject;
    if (rawSigner.repository !== undefined) {
      const repository = normalizeRepository(rawSigner.repository);
      if (repository) compiled.repository = repository;
      else
        error([...path, 'repository'], 'repository-invalid', 'not a repository location', {
          found: JSON.stringify(rawSigner.repository),
          expected: 'host/owner/name, e.g. github.com/sigstore/sigstore-js',
        });
    }
    if (rawSigner.repositoryId !== undefined) compiled.repositoryId = String(rawSigner.repositoryId);
    if (rawSigner.ownerId !== undefined) compiled.ownerId = String(rawSigner.ownerId);
    const workflow = pattern([...path, 'workflow'], rawSigner.workflow);
    if (workflow) compiled.workflow = workflow;
    const ref = pattern([...path, 'ref'], rawSigner.ref);
    if (ref) compiled.ref = ref;
    if (rawSigner.tag !== undefined) {
      const problem = tagTemplateProblem(rawSigner.tag);
      if (problem) error([...path, 'tag'], 'tag-template-invalid', problem.message, problem.extra);
      else compiled.tag = rawSigner.tag;
    }
    if (rawSigner.events) compiled.events = { ...rawSigner.events };
    if (rawSigner.runner !== undefined) compiled.runner = rawSigner.runner;
    const builder = pattern([...path, 'builder'], rawSigner.builder);
    if (builder) compiled.builder = builder;
    return compiled;
  };

  const requirements = (path: PathSegment[], own: RawRequirements, inherited: Requirements): Requirements => {
    const result: Requirements = { ...inherited };
    if (own.require !== undefined) result.require = own.require;
    if (own.trust !== undefined) {
      own.trust.forEach((name, i) => {
        if (trustNames.includes(name)) return;
        const guess = closestMatch(name, trustNames);
        error([...path, 'trust', i], 'trust-root-unknown', `unknown trust root "${name}"`, {
          found: JSON.stringify(name),
          expected: `one of ${trustNames.join(', ')} (declare others under trustRoots)`,
          suggestion: guess
            ? `did you mean "${guess}"?`
            : `declare it: trustRoots: { ${name}: { file: ... } }`,
        });
      });
      result.trust = [...own.trust];
    }
    if (own.sources !== undefined) result.sources = [...own.sources];
    if (own.signers !== undefined) {
      result.signers =
        own.signers === 'any' ? 'any' : own.signers.map((s, i) => signer([...path, 'signers', i], s, i));
    }
    if (own.minReleaseAge !== undefined) {
      result.minReleaseAge = { text: own.minReleaseAge, ms: parseDuration(own.minReleaseAge) ?? 0 };
    }
    if (own.unsignedTimeFallback !== undefined) result.unsignedTimeFallback = own.unsignedTimeFallback;
    if (own.continuity !== undefined) {
      result.continuity = own.continuity !== false;
      if (typeof own.continuity === 'string') result.continuityScope = own.continuity;
      else if (own.continuity) result.continuityScope = 'package';
    }
    return result;
  };

  const rawDefaults = raw.defaults ?? {};
  const defaultRequirements = requirements(['defaults'], rawDefaults, base?.defaults ?? BUILTIN_REQUIREMENTS);
  const defaults: Rule = {
    id: 'defaults',
    index: -1,
    location: source.locate(raw.defaults ? ['defaults'] : []),
    packages: [compileNameSelector('**')],
    requirements: defaultRequirements,
    explicit: REQUIREMENT_KEYS.filter((k) => rawDefaults[k] !== undefined),
  };
  const defaultSignersStated = rawDefaults.signers !== undefined || (base?.defaultSignersStated ?? false);
  requireSignersWhenSigned(defaults, defaultSignersStated, ['defaults'], error);

  const rules: Rule[] = [];
  const ruleNames = new Map<string, number>();
  (raw.rules ?? []).forEach((rawRule, index) => {
    const path: PathSegment[] = ['rules', index];
    const id = rawRule.name ?? `rules[${index}]`;
    if (rawRule.name !== undefined) {
      const previous = ruleNames.get(rawRule.name);
      if (previous !== undefined || rawRule.name === 'defaults') {
        error([...path, 'name'], 'rule-name-duplicate', `rule name "${rawRule.name}" is already used`, {
          found: JSON.stringify(rawRule.name),
          expected: 'a name no other rule uses (and not "defaults")',
          suggestion:
            previous !== undefined ? `rename one of rules[${previous}] and rules[${index}]` : 'rename it',
        });
      }
      ruleNames.set(rawRule.name, index);
    }
    const packageList = typeof rawRule.packages === 'string' ? [rawRule.packages] : rawRule.packages;
    if (rawRule.versions !== undefined && !isValidRange(rawRule.versions)) {
      error([...path, 'versions'], 'semver-range-invalid', 'not a semver range', {
        found: JSON.stringify(rawRule.versions),
        expected: 'a semver range such as ">=2", "^1.4.0" or "1.2.3"',
      });
    }
    let registries: string[] | undefined;
    if (rawRule.registries !== undefined) {
      const list = typeof rawRule.registries === 'string' ? [rawRule.registries] : rawRule.registries;
      registries = [];
      list.forEach((url, i) => {
        const normalized = normalizeRegistryUrl(url);
        if ('url' in normalized) registries!.push(normalized.url);
        else
          error(
            typeof rawRule.registries === 'string' ? [...path, 'registries'] : [...path, 'registries', i],
            'registry-url-invalid',
            `invalid registry URL: ${normalized.problem}`,
            {
              found: JSON.stringify(url),
              expected: 'an http(s) URL without credentials',
              suggestion: normalized.suggestion,
            },
          );
      });
    }
    const rule: Rule = {
      id,
      index,
      location: source.locate(path),
      packages: packageList.map(compileNameSelector),
      requirements: requirements(path, rawRule, defaultRequirements),
      explicit: REQUIREMENT_KEYS.filter((k) => rawRule[k] !== undefined),
    };
    if (rawRule.versions !== undefined) rule.versions = rawRule.versions;
    if (registries) rule.registries = registries;
    if (rawRule.mode !== undefined) rule.mode = rawRule.mode;
    if (rawRule.description !== undefined) rule.description = rawRule.description;
    requireSignersWhenSigned(rule, rawRule.signers !== undefined || defaultSignersStated, path, error);
    rules.push(rule);
  });

  const exceptions: PolicyException[] = (raw.exceptions ?? []).map((rawException, index) => {
    const path: PathSegment[] = ['exceptions', index];
    if (rawException.versions !== undefined && !isValidRange(rawException.versions)) {
      error([...path, 'versions'], 'semver-range-invalid', 'not a semver range', {
        found: JSON.stringify(rawException.versions),
        expected: 'a semver range such as "1.2.3" or "<2"',
      });
    }
    const exception: PolicyException = {
      index,
      location: source.locate(path),
      package: compileNameSelector(rawException.package),
      versions: rawException.versions ?? '*',
      reason: rawException.reason.trim(),
      expires: rawException.expires,
      expiresAt: new Date(Date.parse(`${rawException.expires}T00:00:00Z`) + 86_400_000),
    };
    if (rawException.ticket !== undefined) exception.ticket = rawException.ticket;
    if (rawException.waive !== undefined) exception.waive = [...rawException.waive];
    if (rawException.integrity !== undefined) exception.integrity = rawException.integrity;
    else if (rawException.waive?.includes('known-bad')) {
      error(
        [...path, 'waive'],
        'known-bad-waiver-needs-integrity',
        'known-bad is waived only for one exact tarball',
        {
          expected: 'integrity: sha512-... (the tarball the known-bad record wrongly names)',
          found: 'no integrity in the exception',
          suggestion:
            'add the integrity `yarn tollgate explain <package>` prints, or remove known-bad from waive',
        },
      );
    }
    return exception;
  });

  const url = (path: PathSegment[], raw: string): string | undefined => {
    const normalized = normalizeRegistryUrl(raw);
    if ('url' in normalized) return normalized.url;
    error(path, 'registry-url-invalid', `invalid URL: ${normalized.problem}`, {
      found: JSON.stringify(raw),
      expected: 'an http(s) URL without credentials',
      suggestion: normalized.suggestion,
    });
    return undefined;
  };
  let knownBad: KnownBadPolicy | undefined;
  if (raw.knownBad) {
    const rawKnownBad = raw.knownBad;
    const kbPath: PathSegment[] = ['knownBad'];
    const trustOf = (path: PathSegment[], names: string[] | undefined): string[] =>
      requirements(path, names ? { trust: names } : {}, BUILTIN_REQUIREMENTS).trust;
    knownBad = {
      location: source.locate(kbPath),
      stale: rawKnownBad.stale ?? 'warn',
      publicRegistries: (rawKnownBad.publicRegistries ?? []).flatMap(
        (raw, i) => url([...kbPath, 'publicRegistries', i], raw) ?? [],
      ),
      sources: (rawKnownBad.sources ?? []).map((rawSource, i) => {
        const path: PathSegment[] = [...kbPath, 'sources', i];
        const compiled: KnownBadSourcePolicy = {
          name: rawSource.name,
          location: source.locate(path),
          trust: trustOf(path, rawSource.trust),
          signers: rawSource.signers.map((s, j) => signer([...path, 'signers', j], s, j)),
        };
        if (rawSource.url !== undefined) {
          const normalized = url([...path, 'url'], rawSource.url);
          if (normalized) compiled.url = normalized;
        }
        return compiled;
      }),
    };
    if (rawKnownBad.maxAge !== undefined)
      knownBad.maxAge = { text: rawKnownBad.maxAge, ms: parseDuration(rawKnownBad.maxAge) ?? 0 };
    if (rawKnownBad.verdictService) {
      const path: PathSegment[] = [...kbPath, 'verdictService'];
      const serviceUrl = url([...path, 'url'], rawKnownBad.verdictService.url);
      if (serviceUrl)
        knownBad.verdictService = {
          url: serviceUrl,
          publicKey: rawKnownBad.verdictService.publicKey,
          location: source.locate(path),
        };
    }
  }

  const scriptAllowance = (rawAllowance: RawScriptAllowance, index: number): ScriptAllowance => {
    const path: PathSegment[] = ['scripts', 'allow', index];
    const allowance: ScriptAllowance = {
      index,
      location: source.locate(path),
      package: compileNameSelector(rawAllowance.package),
      reason: rawAllowance.reason.trim(),
    };
    const bindings = (['signers', 'integrity', 'source'] as const).filter(
      (k) => rawAllowance[k] !== undefined,
    );
    if (bindings.length !== 1) {
      error(
        path,
        'script-allowance-binding',
        bindings.length === 0
          ? `the allowance for ${rawAllowance.package} says nothing about what may run: bind it to who signs it, one tarball, or a source`
          : `the allowance for ${rawAllowance.package} is bound by ${bindings.join(' and ')}; it must be bound by exactly one`,
        {
          expected:
            'one of signers: [{ issuer: ..., ... }], integrity: sha512-..., source: git|exec|file|http',
          found: bindings.length ? bindings.join(', ') : 'none of them',
          suggestion:
            bindings.length === 0
              ? '`yarn tollgate scripts approve <package> --reason "..."` writes one bound to the identity that signs it'
              : 'split it into one allowance per binding',
        },
      );
    }
    if (rawAllowance.versions !== undefined) {
      if (isValidRange(rawAllowance.versions)) allowance.versions = rawAllowance.versions;
      else
        error([...path, 'versions'], 'range-invalid', 'not a valid semver range', {
          found: JSON.stringify(rawAllowance.versions),
          expected: 'a semver range such as ^1.2.0',
        });
    }
    if (rawAllowance.mode !== undefined) allowance.mode = rawAllowance.mode;
    if (rawAllowance.signers !== undefined)
      allowance.signers = rawAllowance.signers.map((s, j) => signer([...path, 'signers', j], s, j));
    if (rawAllowance.trust !== undefined) {
      if (rawAllowance.signers === undefined)
        error(
          [...path, 'trust'],
          'trust-not-applicable',
          'trust applies only to an allowance bound to signers',
          {
            found: JSON.stringify(rawAllowance.trust),
            expected: 'no trust, or signers: [...]',
            suggestion: 'remove trust',
          },
        );
      else allowance.trust = requirements(path, { trust: rawAllowance.trust }, BUILTIN_REQUIREMENTS).trust;
    }
    if (rawAllowance.integrity !== undefined) allowance.integrity = rawAllowance.integrity;
    if (rawAllowance.source !== undefined) allowance.source = rawAllowance.source;
    if (rawAllowance.repository !== undefined) {
      if (rawAllowance.source !== 'git') {
        error([...path, 'repository'], 'repository-not-applicable', 'only git sources have a repository', {
          found: JSON.stringify(rawAllowance.repository),
          expected: `no repository for ${rawAllowance.source ? `a ${rawAllowance.source} allowance` : 'an allowance that is not source: git'}`,
          suggestion: 'remove repository, or set source: git',
        });
      } else {
        const spec =
          typeof rawAllowance.repository === 'string'
            ? comparableRemote(rawAllowance.repository)
            : rawAllowance.repository;
        const repository = pattern([...path, 'repository'], spec);
        if (repository) allowance.repository = repository;
      }
    }
    return allowance;
  };
  const scripts: ScriptsPolicy = {
    default: raw.scripts?.default ?? 'deny',
    allow: (raw.scripts?.allow ?? []).map(scriptAllowance),
  };
  if (raw.scripts) scripts.location = source.locate(['scripts']);
  if (raw.scripts?.mode !== undefined) scripts.mode = raw.scripts.mode;

  const compiledExtends = compileExtends(raw.extends, signer, requirements, error, source);
  const permits = raw.permits ? compilePermits(raw.permits, raw, source) : undefined;

  if (errors.length) return { errors };
  return {
    errors,
    policy: {
      file: source.file || DEFAULT_POLICY_FILE,
      version: 1,
      mode: raw.mode ?? 'enforce',
      trustRoots,
      defaults,
      rules,
      exceptions,
      scripts,
      ...(knownBad ? { knownBad } : {}),
      ...(compiledExtends.length ? { extends: compiledExtends } : {}),
      ...(permits ? { permits } : {}),
    },
  };
}

function compileExtends(
  raw: RawPolicy['extends'],
  signer: (path: PathSegment[], raw: RawSigner, index: number) => Signer,
  requirements: (path: PathSegment[], own: RawRequirements, inherited: Requirements) => Requirements,
  error: (path: PathSegment[], code: string, message: string, extra?: Partial<Diagnostic>) => void,
  source: ParsedSource,
): ExtendsReference[] {
  if (raw === undefined) return [];
  const entries = typeof raw === 'string' ? [raw] : raw;
  return entries.flatMap((entry, index): ExtendsReference[] => {
    const path: PathSegment[] = typeof raw === 'string' ? ['extends'] : ['extends', index];
    const e: RawExtendsEntry = typeof entry === 'string' ? { path: entry } : entry;
    const location = source.locate(path);
    if ((e.path === undefined) === (e.url === undefined)) {
      error(path, 'extends-invalid', 'a base names exactly one of path and url', {
        expected: '{ path: ../org/tollgate.yml } or { url: https://..., sha256: ... }',
        found: e.path !== undefined ? 'both path and url' : 'neither path nor url',
      });
      return [];
    }
    if (e.url !== undefined && e.sha256 === undefined && e.signers === undefined) {
      error(path, 'extends-unpinned', `the base ${e.url} is neither pinned by sha256 nor signed`, {
        expected: 'sha256: <hex> (the bytes you reviewed), or signers: [...] (who may publish it)',
        suggestion: `pin it: sha256: $(curl -s ${e.url} | sha256sum)`,
      });
      return [];
    }
    if ((e.trust !== undefined || e.bundle !== undefined) && e.signers === undefined) {
      error(
        [...path, e.trust !== undefined ? 'trust' : 'bundle'],
        'extends-invalid',
        'trust and bundle apply only to a signed base',
        {
          expected: 'signers: [...] beside them, or neither',
        },
      );
      return [];
    }
    const reference: ExtendsReference = {
      index,
      location,
      kind: e.url !== undefined ? 'url' : 'path',
      path: e.path ?? '',
      url: e.url ?? '',
    };
    if (e.sha256 !== undefined) reference.sha256 = e.sha256;
    if (e.signers !== undefined) {
      reference.signature = {
        signers: e.signers.map((s, j) => signer([...path, 'signers', j], s, j)),
        trust: requirements(path, e.trust ? { trust: e.trust } : {}, BUILTIN_REQUIREMENTS).trust,
        ...(e.bundle !== undefined ? { bundle: e.bundle } : {}),
      };
    }
    return [reference];
  });
}

function compilePermits(raw: RawPermits, policy: RawPolicy, source: ParsedSource): Permits {
  return {
    location: source.locate(['permits']),
    mode: raw.mode ?? policy.mode ?? 'enforce',
    exceptions: raw.exceptions ?? false,
    scriptAllowances: raw.scriptAllowances ?? 'none',
    scriptsDefault: raw.scriptsDefault ?? policy.scripts?.default ?? 'deny',
    packages: (raw.packages ?? []).map(compileNameSelector),
  };
}

// Requiring a signature without saying whose would accept anyone who can get a certificate;
// make the user say `signers: any` (pinned on first use) or list the signers, in the rule or the defaults.
function requireSignersWhenSigned(
  rule: Rule,
  signersStated: boolean,
  path: PathSegment[],
  error: (path: PathSegment[], code: string, message: string, extra?: Partial<Diagnostic>) => void,
) {
  const { require } = rule.requirements;
  if (evidenceRank(require) < evidenceRank('signature') || signersStated) return;
  error(path, 'signers-required', `require: ${require} needs a signers list`, {
    expected: 'signers: [ { issuer: ..., ... } ] or signers: any',
    found: 'no signers in the rule or the defaults',
    suggestion: 'list who may sign, or write signers: any to accept any verified signer, pinned on first use',
  });
}
