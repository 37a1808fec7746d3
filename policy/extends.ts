// Organisation policies: a policy `extends` one or more bases — a path, a URL pinned by sha256, or a
// file signed by a named identity — and is merged over them. Pure: the caller resolves each base to
// its text (reading a file, fetching and checking a URL, verifying a signature); this module parses,
// compiles and merges, and refuses every relaxation a base does not permit.
//
// Precedence, documented in REFERENCE.md ("Organisation policies"):
//   load(F, inherited) = acc := inherited; for each base B of F in order: acc := load(B, acc);
//                        merge(acc, compile(F, inheriting acc's defaults))
// so each later file is merged over everything before it and may relax nothing the files before it
// do not permit. Within a merge the later file's settings win where it sets them; its rules come
// after the base's (a rule with a base rule's name replaces it in place), so ties go to the base.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { type CompileBase, compilePolicy } from './compile';
import type { Diagnostic, PathSegment, SourceLocation } from './diagnostics';
import { formatField, formatLocation, internalError, sortDiagnostics } from './diagnostics';
import { weakerThanGoverning } from './diff';
import type { ExtendsReference, Permits, PolicyLayer } from './layers';
import { type LintOptions, lintPolicy } from './lint';
import { type PolicyLoadResult, policyValidator } from './load';
import type { KnownBadPolicy, Mode, Policy, Rule, ScriptsPolicy, TrustRootDeclaration } from './model';
import { validateAgainstSchema } from './schema-validation';
import { type ParsedSource, parseYamlSource } from './source';
import {
  compareModes,
  compareRequirements,
  modeRank,
  rangeWithin,
  scriptsDefaultLooseness,
  selectorWithin,
} from './strictness';

/** A base's text, as the caller read and checked it. */
export interface ResolvedBase {
  text: string;
  /** as shown in decisions and errors: a path relative to the project, or the URL */
  file: string;
  /** how its bytes were checked, for explanations: "path", "sha256 <hex>", "signed by <identity>" */
  origin: string;
  /** a key identifying it across the tree (absolute path or URL), for cycles and diamonds */
  key: string;
  /** the folder relative paths inside it resolve against (absent for a base fetched from a URL) */
  dir?: string;
}

export interface Referrer {
  file: string;
  key: string;
  dir?: string;
  /** the referencing policy's own trust roots, for verifying a signed base */
  trustRoots: TrustRootDeclaration[];
}

/** Resolves one `extends` entry, or says why it cannot (fail closed: the whole policy is refused). */
export type BaseResolver = (reference: ExtendsReference, from: Referrer) => ResolvedBase | { error: string };

export interface TreeOptions extends LintOptions {
  /** the folder the top policy's relative paths resolve against (absent: paths stay as written) */
  dir?: string;
  /** a key for the top policy (its absolute path) */
  key?: string;
}

const MAX_DEPTH = 8;

/** `extends` entries of a policy text, without compiling the rest (for callers that prefetch bases). */
export function extendsReferencesOf(
  text: string,
  file: string,
): { references: ExtendsReference[]; trustRoots: TrustRootDeclaration[]; errors: Diagnostic[] } {
  const source = parseYamlSource(text, file);
  if (source.errors.length) return { references: [], trustRoots: [], errors: source.errors };
  const errors = validateAgainstSchema(policyValidator(), source);
  if (errors.length) return { references: [], trustRoots: [], errors };
  const head = headerOf(source);
  return {
    references: head.policy?.extends ?? [],
    trustRoots: head.policy?.trustRoots ?? [],
    errors: head.errors,
  };
}

/** Compiles only `extends` and `trustRoots` (locations stay those of the full document). */
function headerOf(source: ParsedSource): { policy?: Policy; errors: Diagnostic[] } {
  const data = (source.data ?? {}) as Record<string, unknown>;
  const header: Record<string, unknown> = { version: 1 };
  if (data.extends !== undefined) header.extends = data.extends;
  if (data.trustRoots !== undefined) header.trustRoots = data.trustRoots;
  return compilePolicy({ ...source, data: header });
}

/** Loads a policy with every base it extends, merged; never throws. */
export function loadPolicyTree(
  text: string,
  file: string,
  resolve: BaseResolver,
  options: TreeOptions = {},
): PolicyLoadResult {
  const warnings: Diagnostic[] = [];
  try {
    const result = loadLayer(
      { text, file, origin: 'path', key: options.key ?? file, ...(options.dir ? { dir: options.dir } : {}) },
      undefined,
      resolve,
      options,
      [],
      warnings,
    );
    if ('errors' in result)
      return { ok: false, errors: sortDiagnostics(result.errors), warnings: sortDiagnostics(warnings) };
    return { ok: true, policy: result.policy, warnings: sortDiagnostics(warnings) };
  } catch (error) {
    return {
      ok: false,
      errors: [internalError(file, "internal error while merging the policy's bases", error)],
      warnings,
    };
  }
}

type LayerResult = { policy: Policy } | { errors: Diagnostic[] };

function loadLayer(
  self: ResolvedBase,
  inherited: Policy | undefined,
  resolve: BaseResolver,
  options: LintOptions,
  chain: string[],
  warnings: Diagnostic[],
): LayerResult {
  const source = parseYamlSource(self.text, self.file);
  warnings.push(...source.warnings);
  if (source.errors.length) return { errors: source.errors };
  const shape = validateAgainstSchema(policyValidator(), source);
  if (shape.length) return { errors: shape };
  const header = headerOf(source);
  if (!header.policy) return { errors: header.errors };

  let acc = inherited;
  for (const reference of header.policy.extends ?? []) {
    const problem = (message: string, code = 'extends-unavailable', suggestion?: string): LayerResult => ({
      errors: [
        {
          ...reference.location,
          code,
          severity: 'error',
          field:
            reference.kind === 'path' ? `extends[${reference.index}]` : `extends[${reference.index}].url`,
          message,
          ...(suggestion ? { suggestion } : {}),
        },
      ],
    });
    if (chain.length >= MAX_DEPTH)
      return problem(
        `bases nest deeper than ${MAX_DEPTH} levels`,
        'extends-too-deep',
        'flatten the chain of bases',
      );
    const resolved = resolve(reference, {
      file: self.file,
      key: self.key,
      ...(self.dir ? { dir: self.dir } : {}),
      trustRoots: header.policy.trustRoots,
    });
    const name = reference.kind === 'path' ? reference.path : reference.url;
    if ('error' in resolved)
      return problem(
        `the base policy ${name} cannot be used: ${resolved.error}; nothing is judged without it`,
        'extends-unavailable',
        reference.kind === 'url'
          ? 'check the URL, its sha256 pin or its signature; a base that cannot be verified is never skipped'
          : 'fix the path (relative to this policy) or restore the file',
      );
    if ([...chain, self.key].includes(resolved.key))
      return problem(
        `${name} extends itself (${[...chain, self.key, resolved.key].join(' → ')})`,
        'extends-cycle',
      );
    // A base already merged (a diamond) is not merged twice.
    const digest = sha256(resolved.text);
    if (acc?.layers?.some((l) => l.file === resolved.file && l.sha256 === digest)) continue;
    const loaded = loadLayer(resolved, acc, resolve, options, [...chain, self.key], warnings);
    if ('errors' in loaded) return loaded;
    acc = loaded.policy;
  }

  const compileBase: CompileBase | undefined = acc
    ? {
        defaults: acc.defaults.requirements,
        defaultSignersStated: stated(acc),
        trustRootNames: acc.trustRoots.filter((t) => !t.builtin).map((t) => t.name),
      }
    : undefined;
  const compiled = compilePolicy(source, compileBase);
  if (!compiled.policy) return { errors: compiled.errors };
  // Paths inside a base are relative to the base; the top policy's stay as written.
  const own = chain.length ? relocatePaths(compiled.policy, self) : { policy: compiled.policy };
  if ('errors' in own) return own;
  const findings = lintPolicy(own.policy, source.locate, options);
  const errors = findings.filter((d) => d.severity === 'error');
  warnings.push(...findings.filter((d) => d.severity === 'warning'));
  if (errors.length) return { errors };
  const layer: PolicyLayer = { file: self.file, origin: self.origin, sha256: sha256(self.text) };
  const signersStated =
    (source.data as { defaults?: { signers?: unknown } }).defaults?.signers !== undefined ||
    (acc ? stated(acc) : false);
  if (!acc) return { policy: markStated({ ...own.policy, layers: [layer] }, signersStated) };
  const merged = mergeLayer(acc, own.policy, presence(source), layer, source);
  if ('policy' in merged) markStated(merged.policy, signersStated);
  return merged;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

// Whether the merged defaults state their signers (rules requiring a signature may inherit them).
const signersStatedIn = new WeakMap<Policy, boolean>();
function markStated(policy: Policy, value: boolean): Policy {
  signersStatedIn.set(policy, value);
  return policy;
}
function stated(policy: Policy): boolean {
  return signersStatedIn.get(policy) === true;
}

/**
 * Paths inside a base (trust-root files, TUF roots, the verdict key) are relative to the base; the
 * merged policy is read relative to the repository's file, so they become absolute. A base fetched from
 * a URL cannot name files: its pin or signature would not cover them.
 */
function relocatePaths(policy: Policy, self: ResolvedBase): { policy: Policy } | { errors: Diagnostic[] } {
  const errors: Diagnostic[] = [];
  const join = (path: string) => (self.dir ? joinPath(self.dir, path) : path);
  const remote = self.dir === undefined && self.origin !== 'path';
  const trustRoots = policy.trustRoots.map((root) => {
    if (root.builtin) return root;
    if (remote) {
      errors.push({
        ...(root.location ?? { file: self.file, line: 1, column: 1 }),
        code: 'extends-remote-file',
        severity: 'error',
        field: `trustRoots.${root.name}`,
        message: `a base fetched from a URL cannot declare trust root "${root.name}" by file: its pin or signature would not cover the file`,
        suggestion:
          'declare the trust root in a base read by path (committed in the repository), or in the repository policy',
      });
      return root;
    }
    return {
      ...root,
      ...(root.file !== undefined ? { file: join(root.file) } : {}),
      ...(root.root !== undefined ? { root: join(root.root) } : {}),
    };
  });
  let knownBad = policy.knownBad;
  if (knownBad?.verdictService) {
    if (remote) {
      errors.push({
        ...knownBad.verdictService.location,
        code: 'extends-remote-file',
        severity: 'error',
        field: 'knownBad.verdictService.publicKey',
        message: 'a base fetched from a URL cannot name the verdict key by file',
        suggestion: 'name the verdict service in a base read by path, or in the repository policy',
      });
    } else {
      knownBad = {
        ...knownBad,
        verdictService: { ...knownBad.verdictService, publicKey: join(knownBad.verdictService.publicKey) },
      };
    }
  }
  if (errors.length) return { errors };
  return { policy: { ...policy, trustRoots, ...(knownBad ? { knownBad } : {}) } };
}

function joinPath(dir: string, path: string): string {
  // posix.join keeps leading `..` a relative directory cannot absorb (joining "org" and "../../x" is "../x").
  return posix.isAbsolute(path) ? path : posix.join(dir, path);
}

/** Which settings a file states itself (unstated ones are inherited from its bases). */
interface Presence {
  mode: boolean;
  scriptsDefault: boolean;
  scriptsMode: boolean;
  knownBad: { maxAge: boolean; stale: boolean };
  permits: boolean;
  defaults: boolean;
}

function presence(source: ParsedSource): Presence {
  const data = (source.data ?? {}) as {
    mode?: unknown;
    scripts?: { default?: unknown; mode?: unknown };
    knownBad?: { maxAge?: unknown; stale?: unknown };
    permits?: unknown;
    defaults?: unknown;
  };
  return {
    mode: data.mode !== undefined,
    scriptsDefault: data.scripts?.default !== undefined,
    scriptsMode: data.scripts?.mode !== undefined,
    knownBad: { maxAge: data.knownBad?.maxAge !== undefined, stale: data.knownBad?.stale !== undefined },
    permits: data.permits !== undefined,
    defaults: data.defaults !== undefined,
  };
}

/** What a base permits when it says nothing: no relaxation at all. */
function nothingPermitted(policy: Policy): Permits {
  return {
    mode: policy.mode,
    exceptions: false,
    scriptAllowances: 'none',
    scriptsDefault: policy.scripts.default,
    packages: [],
  };
}

function intersectPermits(a: Permits, b: Permits): Permits {
  const allowanceRank = { none: 0, signed: 1, any: 2 } as const;
  return {
    ...(b.location ? { location: b.location } : a.location ? { location: a.location } : {}),
    mode: modeRank(a.mode) >= modeRank(b.mode) ? a.mode : b.mode,
    exceptions: a.exceptions && b.exceptions,
    scriptAllowances:
      allowanceRank[a.scriptAllowances] <= allowanceRank[b.scriptAllowances]
        ? a.scriptAllowances
        : b.scriptAllowances,
    scriptsDefault:
      scriptsDefaultLooseness(a.scriptsDefault) <= scriptsDefaultLooseness(b.scriptsDefault)
        ? a.scriptsDefault
        : b.scriptsDefault,
    packages: b.packages.filter((p) => a.packages.some((q) => selectorWithin(p, q))),
  };
}

function describeBaseRule(rule: Rule): string {
  return `${rule.id === 'defaults' ? 'the defaults' : `rule ${rule.id}`} at ${formatLocation(rule.location)}`;
}

function mergeLayer(
  acc: Policy,
  own: Policy,
  has: Presence,
  layer: PolicyLayer,
  source: ParsedSource,
): LayerResult {
  const errors: Diagnostic[] = [];
  const permits = acc.permits ?? nothingPermitted(acc);
  const baseFiles = (acc.layers ?? []).map((l) => l.file).join(', ');
  const permitsAt = permits.location ? ` (permits at ${formatLocation(permits.location)})` : '';
  const refuse = (
    location: SourceLocation,
    path: PathSegment[],
    message: string,
    suggestion = 'tighten it, or ask the owners of the base to permit it',
  ) => {
    errors.push({
      ...location,
      code: 'extends-relaxes',
      severity: 'error',
      field: formatField(path),
      message: `${message}; the base (${baseFiles}) does not permit that${permitsAt}`,
      suggestion,
    });
  };
  const sandboxed = (selectors: Rule['packages']) =>
    selectors.length > 0 && selectors.every((s) => permits.packages.some((p) => selectorWithin(s, p)));

  // Mode.
  const mode: Mode = has.mode ? own.mode : acc.mode;
  if (modeRank(mode) < modeRank(acc.mode) && modeRank(mode) < modeRank(permits.mode))
    refuse(source.locate(['mode']), ['mode'], `mode ${mode} is lower than the base's ${acc.mode}`);

  // Defaults: they apply to every package, so no sandbox covers them.
  const defaultsRelaxed = compareRequirements(acc.defaults.requirements, own.defaults.requirements).relaxed;
  for (const delta of defaultsRelaxed)
    refuse(
      source.locate(['defaults', delta.field]),
      ['defaults', delta.field],
      `defaults.${delta.field} ${delta.after} is weaker than the base's ${delta.before} (${describeBaseRule(acc.defaults)})`,
    );
  const defaults: Rule = has.defaults
    ? { ...own.defaults, explicit: [...new Set([...acc.defaults.explicit, ...own.defaults.explicit])] }
    : { ...own.defaults, location: acc.defaults.location, explicit: acc.defaults.explicit };

  // Trust roots: a name a base declares means what the base says.
  const trustRoots = [...acc.trustRoots];
  for (const root of own.trustRoots) {
    if (root.builtin) continue;
    const existing = acc.trustRoots.find((r) => r.name === root.name);
    if (existing) {
      errors.push({
        ...(root.location ?? source.locate(['trustRoots'])),
        code: 'extends-trust-root-conflict',
        severity: 'error',
        field: `trustRoots.${root.name}`,
        message: `trust root "${root.name}" is declared by the base${existing.location ? ` at ${formatLocation(existing.location)}` : ''}; it cannot be declared again`,
        suggestion: `use the base's ${root.name}, or give this one another name`,
      });
      continue;
    }
    trustRoots.push(root);
  }

  // Rules: a rule named like a base rule replaces it in place; others come after the base's.
  const rules: Rule[] = [...acc.rules];
  for (const rule of own.rules) {
    const replacing = /^rules\[\d+\]$/.test(rule.id) ? -1 : rules.findIndex((r) => r.id === rule.id);
    const path: PathSegment[] = ['rules', rule.index];
    const ruleMode = rule.mode ?? mode;
    if (replacing >= 0) {
      const base = rules[replacing]!;
      const reasons = [
        ...compareRequirements(base.requirements, rule.requirements).relaxed.map(
          (d) => `${d.field} ${d.before} → ${d.after}`,
        ),
        ...compareModes(base.mode ?? acc.mode, ruleMode).relaxed.map((d) => `mode ${d.before} → ${d.after}`),
      ];
      if (base.registries && (!rule.registries || rule.registries.some((r) => !base.registries!.includes(r))))
        reasons.push(`registries ${base.registries.join(', ')} → ${rule.registries?.join(', ') ?? '(none)'}`);
      const lost = base.packages.filter((b) => !rule.packages.some((a) => selectorWithin(b, a)));
      if (lost.length) reasons.push(`no longer covers ${lost.map((s) => s.pattern).join(', ')}`);
      if (!rangeWithin(base.versions, rule.versions))
        reasons.push(`versions ${base.versions ?? '*'} → ${rule.versions ?? '*'}`);
      if (reasons.length && !sandboxed([...rule.packages, ...base.packages]))
        refuse(
          rule.location,
          path,
          `rule ${rule.id} replaces the base's ${describeBaseRule(base)} with weaker requirements: ${reasons.join('; ')}`,
        );
      rules[replacing] = rule;
      continue;
    }
    const weaker = weakerThanGoverning(acc, rule, rule.packages, rule.versions, undefined, ruleMode);
    if (weaker.length && !sandboxed(rule.packages))
      refuse(
        rule.location,
        path,
        `rule ${rule.id} judges names the base judges more strictly: ${weaker.join('; ')}`,
      );
    rules.push(rule);
  }
  rules.forEach((rule, index) => {
    rules[index] = { ...rule, index };
  });

  // Exceptions.
  for (const exception of own.exceptions) {
    if (permits.exceptions || sandboxed([exception.package])) continue;
    refuse(
      exception.location,
      ['exceptions', exception.index],
      `exception for ${exception.package.pattern} waives violations`,
      'remove it, or ask the owners of the base to add it to the base (or to set permits.exceptions: true)',
    );
  }
  const exceptions = [...acc.exceptions, ...own.exceptions].map((e, index) => ({ ...e, index }));

  // Scripts.
  const scriptsDefault = has.scriptsDefault ? own.scripts.default : acc.scripts.default;
  if (
    scriptsDefaultLooseness(scriptsDefault) > scriptsDefaultLooseness(acc.scripts.default) &&
    scriptsDefaultLooseness(scriptsDefault) > scriptsDefaultLooseness(permits.scriptsDefault)
  )
    refuse(
      source.locate(['scripts', 'default']),
      ['scripts', 'default'],
      `scripts.default ${scriptsDefault} is looser than the base's ${acc.scripts.default}`,
    );
  const scriptsMode = has.scriptsMode ? own.scripts.mode : acc.scripts.mode;
  const effectiveBefore = acc.scripts.mode ?? acc.mode;
  const effectiveAfter = scriptsMode ?? mode;
  if (
    modeRank(effectiveAfter) < modeRank(effectiveBefore) &&
    modeRank(effectiveAfter) < modeRank(permits.mode)
  )
    refuse(
      source.locate(['scripts', 'mode']),
      ['scripts', 'mode'],
      `scripts.mode ${effectiveAfter} is lower than the base's ${effectiveBefore}`,
    );
  for (const allowance of own.scripts.allow) {
    const ok =
      permits.scriptAllowances === 'any' ||
      (permits.scriptAllowances === 'signed' && allowance.signers !== undefined) ||
      sandboxed([allowance.package]);
    if (!ok)
      refuse(
        allowance.location,
        ['scripts', 'allow', allowance.index],
        `scripts.allow entry for ${allowance.package.pattern} lets a build run`,
        permits.scriptAllowances === 'signed'
          ? 'bind it to the identity that signs the package (`yarn tollgate scripts approve` writes one)'
          : 'ask the owners of the base to approve it there, or to set permits.scriptAllowances',
      );
  }
  const scripts: ScriptsPolicy = {
    default: scriptsDefault,
    allow: [...acc.scripts.allow, ...own.scripts.allow].map((a, index) => ({ ...a, index })),
  };
  const scriptsLocation = own.scripts.location ?? acc.scripts.location;
  if (scriptsLocation) scripts.location = scriptsLocation;
  if (scriptsMode !== undefined) scripts.mode = scriptsMode;

  // Known-bad database.
  const knownBad = mergeKnownBad(acc.knownBad, own.knownBad, has, (location, path, message) =>
    refuse(location, path, message),
  );

  const merged: Policy = {
    file: own.file,
    version: 1,
    mode,
    trustRoots,
    defaults,
    rules,
    exceptions,
    scripts,
    ...(knownBad ? { knownBad } : {}),
    ...(own.extends ? { extends: own.extends } : {}),
    permits: has.permits && own.permits ? intersectPermits(permits, own.permits) : permits,
    layers: [...(acc.layers ?? []), layer],
  };
  if (errors.length) return { errors };
  return { policy: merged };
}

function mergeKnownBad(
  base: KnownBadPolicy | undefined,
  own: KnownBadPolicy | undefined,
  has: Presence,
  refuse: (location: SourceLocation, path: PathSegment[], message: string) => void,
): KnownBadPolicy | undefined {
  if (!base) return own;
  if (!own) return base;
  const merged: KnownBadPolicy = {
    ...base,
    location: own.location,
    publicRegistries: [...new Set([...base.publicRegistries, ...own.publicRegistries])],
    sources: [...base.sources],
  };
  if (has.knownBad.maxAge) {
    if (base.maxAge && (!own.maxAge || own.maxAge.ms > base.maxAge.ms))
      refuse(
        own.location,
        ['knownBad', 'maxAge'],
        `knownBad.maxAge ${own.maxAge?.text} is longer than the base's ${base.maxAge.text}`,
      );
    if (own.maxAge) merged.maxAge = own.maxAge;
  }
  if (has.knownBad.stale) {
    if (base.stale === 'deny' && own.stale !== 'deny')
      refuse(
        own.location,
        ['knownBad', 'stale'],
        `knownBad.stale ${own.stale} is weaker than the base's deny`,
      );
    merged.stale = own.stale;
  }
  for (const source of own.sources) {
    if (base.sources.some((s) => s.name === source.name)) {
      refuse(
        source.location,
        ['knownBad', 'sources'],
        `known-bad source ${source.name} is declared by the base`,
      );
      continue;
    }
    merged.sources.push(source);
  }
  if (own.verdictService) {
    if (
      base.verdictService &&
      (base.verdictService.url !== own.verdictService.url ||
        base.verdictService.publicKey !== own.verdictService.publicKey)
    )
      refuse(
        own.verdictService.location,
        ['knownBad', 'verdictService'],
        `the base asks the verdict service ${base.verdictService.url}; another one cannot replace it`,
      );
    else merged.verdictService = own.verdictService;
  }
  return merged;
}

/** One line per layer, for explanations: where each part of the policy came from. */
export function describeLayers(policy: Policy): string[] {
  const layers = policy.layers ?? [];
  if (layers.length < 2) return [];
  return layers.map(
    (l, i) =>
      `${i === layers.length - 1 ? 'policy' : `base ${i + 1}`}: ${l.file} (${l.origin}, sha256 ${l.sha256.slice(0, 12)}…)`,
  );
}
