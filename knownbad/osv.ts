// OSV records (schema 1.6/1.7: osv.dev exports, OpenSSF malicious-packages `MAL-` records, a company's
// own): parsed, validated against Tollgate's OSV schema (knownbad/schema/osv-record.schema.json, the
// fields it reads checked as the OSV schema checks them), and turned into index entries per npm package.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { normalizeRegistryUrl } from '../policy/registry-url';
import { type IndexEntry, type IndexRange, PUBLIC_REGISTRY } from './model';
import osvSchema from './schema/osv-record.schema.json';

let validator: ValidateFunction | undefined;

function validate(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv({ allErrors: false, verbose: true, strict: true, allowUnionTypes: true });
    ajv.addKeyword('x-expected');
    validator = ajv.compile(osvSchema);
  }
  return validator;
}

export type OsvParse =
  | { ok: true; entries: Array<{ registry: string; name: string; entry: IndexEntry }>; withdrawn: boolean }
  | { ok: false; problem: string };

/** `field: what is wrong` for the first schema error. */
function describeError(error: ErrorObject): string {
  const field = error.instancePath ? error.instancePath.slice(1).replace(/\//g, '.') : '(record)';
  const parent = error.parentSchema as { 'x-expected'?: string } | undefined;
  const what =
    error.keyword === 'required'
      ? `"${(error.params as { missingProperty: string }).missingProperty}" is required`
      : ((parent?.['x-expected'] ? `expected ${parent['x-expected']}` : error.message) ?? 'is invalid');
  return `${field}: ${what}`;
}

/** Terminal-safe text from a feed: no control characters, one line, bounded. */
export function cleanText(text: unknown, max = 300): string | undefined {
  if (typeof text !== 'string') return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e]+/g, ' ').trim();
  if (!clean) return undefined;
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

const LINK_PREFERENCE = ['ADVISORY', 'REPORT', 'WEB', 'ARTICLE', 'EVIDENCE', 'DETECTION', 'DISCUSSION'];

function linkOf(references: unknown): string | undefined {
  if (!Array.isArray(references)) return undefined;
  for (const type of LINK_PREFERENCE) {
    const found = references.find(
      (r) => r?.type === type && typeof r.url === 'string' && /^https?:\/\//.test(r.url),
    );
    if (found) return cleanText(found.url, 500);
  }
  return undefined;
}

/** The registry a purl's `repository_url` qualifier names (OSV records are for the public one otherwise). */
function registryOfPurl(purl: unknown): string {
  if (typeof purl !== 'string') return PUBLIC_REGISTRY;
  const query = purl.split('#')[0]!.split('?')[1];
  if (!query) return PUBLIC_REGISTRY;
  for (const pair of query.split('&')) {
    const [key, value] = pair.split('=');
    if (key === 'repository_url' && value) {
      const decoded = decodeURIComponent(value);
      const normalized = normalizeRegistryUrl(/^https?:\/\//.test(decoded) ? decoded : `https://${decoded}`);
      if ('url' in normalized) return normalized.url;
    }
  }
  return PUBLIC_REGISTRY;
}

interface RawEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
}

function rangesOf(raw: unknown): IndexRange[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const ranges: IndexRange[] = [];
  for (const range of raw) {
    if (range.type !== 'SEMVER' && range.type !== 'ECOSYSTEM') continue;
    const events: IndexRange['events'] = [];
    for (const event of range.events as RawEvent[]) {
      if (event.introduced !== undefined) events.push(['i', event.introduced]);
      else if (event.fixed !== undefined) events.push(['f', event.fixed]);
      else if (event.last_affected !== undefined) events.push(['l', event.last_affected]);
      // `limit` bounds where to look for commits; for versions it changes nothing.
    }
    ranges.push({ type: range.type, events });
  }
  return ranges.length ? ranges : undefined;
}

function integrityOf(databaseSpecific: unknown): string[] | undefined {
  const list = (databaseSpecific as { indicators?: { package_integrity?: unknown } } | undefined)?.indicators
    ?.package_integrity;
  if (!Array.isArray(list)) return undefined;
  const sris = list
    .map((i) => (i as { hashes?: { sha512_sri?: unknown } })?.hashes?.sha512_sri)
    .filter((s): s is string => typeof s === 'string');
  return sris.length ? [...new Set(sris)] : undefined;
}

/** Parses one OSV record (the text of one file); `origin` names it in problems and matches. */
export function parseOsvRecord(text: string, origin: string): OsvParse {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `${origin}: not JSON (${(err as Error).message})` };
  }
  const check = validate();
  if (!check(record)) return { ok: false, problem: `${origin}: ${describeError(check.errors![0]!)}` };
  // biome-ignore lint/suspicious/noExplicitAny: validated against the schema just above
  const r = record as any;
  const base: Omit<IndexEntry, 'origin'> = { id: r.id, modified: r.modified };
  const summary = cleanText(r.summary);
  if (summary) base.summary = summary;
  const link = linkOf(r.references);
  if (link) base.link = link;
  if (Array.isArray(r.aliases) && r.aliases.length)
    base.aliases = r.aliases.map((a: string) => cleanText(a, 80)).filter(Boolean);
  if (r.withdrawn) base.withdrawn = r.withdrawn;
  const entries: Array<{ registry: string; name: string; entry: IndexEntry }> = [];
  for (const affected of (r.affected ?? []) as Array<Record<string, unknown>>) {
    const pkg = affected.package as { ecosystem: string; name: string; purl?: string };
    if (pkg.ecosystem !== 'npm') continue;
    const entry: IndexEntry = { ...base, origin };
    const versions = affected.versions as string[] | undefined;
    if (versions?.length) entry.versions = [...new Set(versions)];
    const ranges = rangesOf(affected.ranges);
    if (ranges) entry.ranges = ranges;
    const integrity = integrityOf(affected.database_specific);
    if (integrity) entry.integrity = integrity;
    entries.push({ registry: registryOfPurl(pkg.purl), name: pkg.name, entry });
  }
  return { ok: true, entries, withdrawn: Boolean(r.withdrawn) };
}

/** OSV's fallback link for records osv.dev publishes (MAL, GHSA, ...), when a record names none. */
export function osvLink(id: string): string | undefined {
  return /^(MAL|GHSA|OSV|PYSEC|RUSTSEC|GO)-/.test(id) ? `https://osv.dev/vulnerability/${id}` : undefined;
}
