// A known-bad list in Tollgate's own format: the project's committed `.tollgate.known-bad.yml`, or a
// `known-bad.yml` inside a company's snapshot. Releases (registry + name + versions and/or tarball
// sha512), bundles by digest, and compromised signer identities with a time window. Validated like the
// policy: YAML with locations, a JSON Schema, then what a schema cannot say; every problem is located.
import { type Diagnostic, formatField, type PathSegment, sortDiagnostics } from '../policy/diagnostics';
import { compilePattern, isPatternProblem } from '../policy/patterns';
import { normalizeRegistryUrl } from '../policy/registry-url';
import { normalizeRepository } from '../policy/repository';
import { compileSchema } from '../policy/schema-compile';
import { validateAgainstSchema } from '../policy/schema-validation';
import { parseYamlSource } from '../policy/source';
import {
  type BundleEntry,
  type IndexEntry,
  type PatternSource,
  PUBLIC_REGISTRY,
  type SignerEntry,
} from './model';
import listSchema from './schema/tollgate-known-bad.schema.json';

export { KNOWN_BAD_LIST_FILE } from './list-file-name';

export interface KnownBadList {
  file: string;
  releases: Array<{ registry: string; name: string; entry: IndexEntry }>;
  bundles: BundleEntry[];
  signers: SignerEntry[];
}

export type KnownBadListLoad = { ok: true; list: KnownBadList } | { ok: false; errors: Diagnostic[] };

interface RawCommon {
  id?: string;
  summary?: string;
  link?: string;
}
interface RawList {
  version: 1;
  releases?: Array<
    RawCommon & {
      package: string;
      registry?: string;
      versions?: string | string[];
      integrity?: string | string[];
    }
  >;
  bundles?: Array<RawCommon & { digest: string }>;
  signers?: Array<
    RawCommon & {
      issuer: string;
      subject?: PatternSource;
      repository?: string;
      workflow?: PatternSource;
      ref?: PatternSource;
      from: string;
      until?: string;
    }
  >;
}

let validateList: ReturnType<typeof compileSchema> | undefined;

const list = (value: string | string[] | undefined): string[] | undefined =>
  value === undefined ? undefined : typeof value === 'string' ? [value] : [...new Set(value)];

/** Loads a list; never throws. */
export function loadKnownBadList(text: string, file: string): KnownBadListLoad {
  const source = parseYamlSource(text, file);
  if (source.errors.length) return { ok: false, errors: sortDiagnostics(source.errors) };
  validateList ??= compileSchema(listSchema);
  const schemaErrors = validateAgainstSchema(validateList, source);
  if (schemaErrors.length) return { ok: false, errors: sortDiagnostics(schemaErrors) };
  const raw = source.data as RawList;
  const errors: Diagnostic[] = [];
  const error = (path: PathSegment[], code: string, message: string, extra: Partial<Diagnostic> = {}) =>
    errors.push({
      ...source.locate(path),
      code,
      severity: 'error',
      field: formatField(path),
      message,
      ...extra,
    });
  const where = (path: PathSegment[]) => {
    const at = source.locate(path);
    return `${at.file}:${at.line}:${at.column}`;
  };
  const common = (path: PathSegment[], entry: RawCommon) => ({
    id: entry.id ?? `${file}#${formatField(path)}`,
    ...(entry.summary !== undefined ? { summary: entry.summary.trim() } : {}),
    ...(entry.link !== undefined ? { link: entry.link } : {}),
  });

  const releases: KnownBadList['releases'] = (raw.releases ?? []).map((r, i) => {
    const path: PathSegment[] = ['releases', i];
    let registry = PUBLIC_REGISTRY;
    if (r.registry !== undefined) {
      const normalized = normalizeRegistryUrl(r.registry);
      if ('url' in normalized) registry = normalized.url;
      else
        error([...path, 'registry'], 'registry-url-invalid', `invalid registry URL: ${normalized.problem}`, {
          found: JSON.stringify(r.registry),
          expected: 'an http(s) URL without credentials (or no registry: the public one)',
          suggestion: normalized.suggestion,
        });
    }
    if (r.versions === undefined && r.integrity === undefined)
      error(path, 'missing-key', 'a release needs versions or integrity (or both)', {
        expected: 'versions: 1.2.3 and/or integrity: sha512-...',
        found: 'neither',
        suggestion: 'add the versions the record is about, or the exact tarball digest',
      });
    const entry: IndexEntry = { ...common(path, r), origin: where(path) };
    const versions = list(r.versions);
    if (versions) entry.versions = versions;
    const integrity = list(r.integrity);
    if (integrity) entry.integrity = integrity;
    return { registry, name: r.package, entry };
  });

  const bundles: BundleEntry[] = (raw.bundles ?? []).map((b, i) => ({
    ...common(['bundles', i], b),
    digest: b.digest.replace(/^sha256:/, ''),
    origin: where(['bundles', i]),
  }));

  const signers: SignerEntry[] = (raw.signers ?? []).map((s, i) => {
    const path: PathSegment[] = ['signers', i];
    for (const field of ['subject', 'workflow', 'ref'] as const) {
      const spec = s[field];
      if (spec === undefined) continue;
      const compiled = compilePattern(spec);
      if (isPatternProblem(compiled))
        error([...path, field, 'regex'], compiled.code, compiled.message, {
          suggestion: compiled.suggestion,
        });
    }
    const entry: SignerEntry = { ...common(path, s), issuer: s.issuer, from: s.from, origin: where(path) };
    if (s.subject !== undefined) entry.subject = s.subject;
    if (s.workflow !== undefined) entry.workflow = s.workflow;
    if (s.ref !== undefined) entry.ref = s.ref;
    if (s.repository !== undefined) {
      const repository = normalizeRepository(s.repository);
      if (repository) entry.repository = repository;
      else
        error([...path, 'repository'], 'repository-invalid', 'not a repository location', {
          found: JSON.stringify(s.repository),
          expected: 'host/owner/name, e.g. github.com/acme/ui',
        });
    }
    if (s.until !== undefined) {
      entry.until = s.until;
      if (!(Date.parse(s.until) > Date.parse(s.from)))
        error([...path, 'until'], 'window-empty', 'the window ends before it starts', {
          found: `from ${s.from} until ${s.until}`,
          expected: 'until later than from',
        });
    }
    return entry;
  });

  if (errors.length) return { ok: false, errors: sortDiagnostics(errors) };
  return { ok: true, list: { file, releases, bundles, signers } };
}
