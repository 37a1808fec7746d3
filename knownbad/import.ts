// Importing a source into an index: an OSV export (a zip such as osv.dev's, or a folder such as a
// checkout of ossf/malicious-packages), or one record. Files named `*.json` are OSV records; a
// `known-bad.yml` (or `*.known-bad.yml`) is a list in Tollgate's own format, so a company's signed
// snapshot can carry revoked releases, bundles and compromised identities beside OSV records. Invalid
// records are skipped and counted (real exports contain some: per-source `MAL-0000-*` copies have no
// id); a source with nothing usable in it is an error.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { unzipSync } from 'fflate';
import { formatDiagnostic } from '../policy/diagnostics';
import { buildIndex, indexKey } from './index-file';
import { loadKnownBadList } from './list-file';
import {
  type BundleEntry,
  INDEX_FORMAT,
  type IndexCounts,
  type IndexEntry,
  type IndexHeader,
  type SignerEntry,
} from './model';
import { parseOsvRecord } from './osv';

export class ImportProblem extends Error {}

/** A file of a source: its name within the source, and its bytes (read when needed). */
export interface SourceFile {
  name: string;
  read(): Buffer;
}

const MAX_PROBLEMS = 20;
/** zip entries inflated at once: bounds memory on exports of hundreds of thousands of records */
const ZIP_BATCH = 25_000;

const isList = (name: string) => /(^|\/|\.)known-bad\.ya?ml$/.test(name);
const isRecord = (name: string) => name.endsWith('.json') && !name.endsWith('.sigstore.json');

/**
 * The files of a zip, from its central directory (zip64 included), inflated in batches so an export of
 * hundreds of thousands of records is never held inflated at once. (fflate's streaming reader re-scans
 * its buffer per file: minutes on a quarter of a million records; a directory pass takes milliseconds.)
 */
export function* zipFiles(zip: Uint8Array, label: string): Generator<SourceFile> {
  const names: string[] = [];
  const unreadable = (err: unknown) =>
    new ImportProblem(`${label} is not a readable zip archive (${(err as Error).message})`);
  try {
    unzipSync(zip, {
      filter: (f) => {
        if (!f.name.endsWith('/') && (isRecord(f.name) || isList(f.name))) names.push(f.name);
        return false;
      },
    });
  } catch (err) {
    throw unreadable(err);
  }
  for (let start = 0; start < names.length; start += ZIP_BATCH) {
    const batch = names.slice(start, start + ZIP_BATCH);
    const wanted = new Set(batch);
    let files: Record<string, Uint8Array>;
    try {
      files = unzipSync(zip, { filter: (f) => wanted.has(f.name) });
    } catch (err) {
      throw unreadable(err);
    }
    for (const name of batch) {
      const data = files[name];
      if (data) yield { name, read: () => Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
    }
  }
}

/** The files of a folder, recursively (symbolic links are not followed). */
export function* folderFiles(root: string): Generator<SourceFile> {
  const walk = function* (dir: string): Generator<SourceFile> {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) yield* walk(path);
      else if (entry.isFile()) yield { name: relative(root, path), read: () => readFileSync(path) };
    }
  };
  yield* walk(root);
}

/** The files of a path: a folder, a zip, or one record. */
export function* pathFiles(path: string): Generator<SourceFile> {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    throw new ImportProblem(`${path} does not exist; give an OSV zip, a folder of OSV records, or a URL`);
  }
  if (stat.isDirectory()) {
    yield* folderFiles(path);
    return;
  }
  const bytes = readFileSync(path);
  yield* bytesFiles(bytes, path);
}

/** The files of downloaded or read bytes: a zip (by its signature), else one record or list. */
export function* bytesFiles(bytes: Buffer, label: string): Generator<SourceFile> {
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50) {
    yield* zipFiles(bytes, label);
    return;
  }
  const name = label.split(/[\\/]/).pop() ?? label;
  yield { name: isList(name) || isRecord(name) ? name : `${name}.json`, read: () => bytes };
}

export interface ImportOptions {
  source: string;
  now: Date;
  /** set for a snapshot whose signature verified: its signed time is the database's "as of" */
  signed?: IndexHeader['signed'];
}

export interface Imported {
  index: Buffer;
  header: IndexHeader;
}

/** Reads every file of a source into an index. Throws ImportProblem when nothing usable is in it. */
export function importFiles(files: Iterable<SourceFile>, options: ImportOptions): Imported {
  const entries = new Map<string, IndexEntry[]>();
  const counts: IndexCounts = {
    records: 0,
    entries: 0,
    withdrawn: 0,
    otherEcosystems: 0,
    invalid: 0,
    bundles: 0,
    signers: 0,
  };
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(text);
  };
  const bundles: BundleEntry[] = [];
  const signers: SignerEntry[] = [];
  let newestModified: string | undefined;
  // The newest version of a record wins when a source holds it twice (a record and its update).
  const add = (registry: string, name: string, entry: IndexEntry) => {
    const key = indexKey(registry, name);
    let list = entries.get(key);
    if (!list) {
      list = [];
      entries.set(key, list);
    }
    const previous = list.findIndex((e) => e.id === entry.id && e.origin !== entry.origin);
    if (previous >= 0) {
      if ((list[previous]!.modified ?? '') > (entry.modified ?? '')) return;
      list.splice(previous, 1);
      counts.entries--;
    }
    list.push(entry);
    counts.entries++;
  };
  let fileCount = 0;
  for (const file of files) {
    fileCount++;
    const origin = file.name;
    if (isList(file.name)) {
      const loaded = loadKnownBadList(file.read().toString('utf8'), origin);
      if (!loaded.ok) {
        counts.invalid++;
        for (const e of loaded.errors.slice(0, 3)) problem(formatDiagnostic(e).split('\n')[0]!);
        continue;
      }
      for (const r of loaded.list.releases) add(r.registry, r.name, r.entry);
      counts.records += loaded.list.releases.length;
      bundles.push(...loaded.list.bundles);
      signers.push(...loaded.list.signers);
      continue;
    }
    if (!isRecord(file.name)) continue;
    const parsed = parseOsvRecord(file.read().toString('utf8'), origin);
    if (!parsed.ok) {
      counts.invalid++;
      problem(parsed.problem);
      continue;
    }
    counts.records++;
    if (parsed.withdrawn) counts.withdrawn++;
    if (parsed.entries.length === 0) counts.otherEcosystems++;
    for (const { registry, name, entry } of parsed.entries) {
      add(registry, name, entry);
      if (entry.modified && (!newestModified || entry.modified > newestModified))
        newestModified = entry.modified;
    }
  }
  counts.bundles = bundles.length;
  counts.signers = signers.length;
  if (counts.records === 0 && bundles.length === 0 && signers.length === 0) {
    throw new ImportProblem(
      fileCount === 0
        ? `${options.source} holds no files`
        : `${options.source} holds no valid OSV record or known-bad list (${counts.invalid} invalid${problems[0] ? `; first: ${problems[0]}` : ''})`,
    );
  }
  const importedAt = options.now.toISOString();
  const header: IndexHeader = {
    format: INDEX_FORMAT,
    source: options.source,
    importedAt,
    asOf: options.signed?.integratedTime ?? importedAt,
    counts,
    bundles,
    signers,
    problems,
    ...(options.signed ? { signed: options.signed } : {}),
    ...(newestModified ? { newestModified } : {}),
  };
  return { index: buildIndex(header, entries), header };
}
