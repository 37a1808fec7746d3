// The index format: built once by `db update`, opened by every run. Opening must stay cheap for a
// quarter of a million records, and a run looks up only the packages it installs, so the file is
//   line 1  the magic `TOLLGATE-KNOWN-BAD-INDEX 1`
//   line 2  the header (JSON: source, times, counts, the list's bundles and signers)
//   line 3  the keys, sorted (JSON array of "<registry> <name>")
//   line 4  where each key's entries end in the data part (JSON array of byte offsets)
//   rest    the entries of each key, one JSON array after the other
// Opening parses lines 1-4; a lookup is a binary search and one JSON.parse of that key's slice.
import { INDEX_FORMAT, type IndexEntry, type IndexHeader } from './model';

const MAGIC = 'TOLLGATE-KNOWN-BAD-INDEX 1';

export const indexKey = (registry: string, name: string): string => `${registry} ${name}`;

export class IndexFormatError extends Error {}

// Entries are stored with one-letter keys: a quarter of a million records is a quarter of a million
// copies of every key name.
const SHORT = {
  id: 'i',
  summary: 's',
  link: 'l',
  aliases: 'a',
  withdrawn: 'w',
  versions: 'v',
  ranges: 'r',
  integrity: 'd',
  origin: 'o',
} as const satisfies Partial<Record<keyof IndexEntry, string>>;
const LONG = Object.fromEntries(Object.entries(SHORT).map(([k, v]) => [v, k])) as Record<
  string,
  keyof IndexEntry
>;

function pack(entry: IndexEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [long, short] of Object.entries(SHORT)) {
    const value = entry[long as keyof IndexEntry];
    if (value !== undefined) out[short] = value;
  }
  return out;
}

function unpack(stored: Record<string, unknown>): IndexEntry {
  const out: Record<string, unknown> = {};
  for (const [short, value] of Object.entries(stored)) {
    const long = LONG[short];
    if (long) out[long] = value;
  }
  return out as unknown as IndexEntry;
}

/** Serialises an index; entries are grouped by key (registry + name). */
export function buildIndex(header: IndexHeader, entries: Map<string, IndexEntry[]>): Buffer {
  const keys = [...entries.keys()].sort();
  const blobs: Buffer[] = [];
  const ends: number[] = [];
  let end = 0;
  for (const key of keys) {
    const blob = Buffer.from(JSON.stringify(entries.get(key)!.map(pack)), 'utf8');
    blobs.push(blob);
    end += blob.length;
    ends.push(end);
  }
  const head = Buffer.from(
    `${MAGIC}\n${JSON.stringify(header)}\n${JSON.stringify(keys)}\n${JSON.stringify(ends)}\n`,
    'utf8',
  );
  return Buffer.concat([head, ...blobs]);
}

export interface OpenIndex {
  header: IndexHeader;
  /** how many keys (registry + name) it has entries for */
  size: number;
  lookup(registry: string, name: string): IndexEntry[];
}

function lineEnd(buf: Buffer, from: number): number {
  const at = buf.indexOf(0x0a, from);
  if (at < 0) throw new IndexFormatError('the index is truncated');
  return at;
}

/** Opens an index; throws IndexFormatError for anything that is not one. */
export function openIndex(buf: Buffer): OpenIndex {
  const l1 = lineEnd(buf, 0);
  if (buf.toString('utf8', 0, l1) !== MAGIC) throw new IndexFormatError('not a Tollgate known-bad index');
  const l2 = lineEnd(buf, l1 + 1);
  const l3 = lineEnd(buf, l2 + 1);
  const l4 = lineEnd(buf, l3 + 1);
  let header: IndexHeader;
  let keys: string[];
  let ends: number[];
  try {
    header = JSON.parse(buf.toString('utf8', l1 + 1, l2));
    keys = JSON.parse(buf.toString('utf8', l2 + 1, l3));
    ends = JSON.parse(buf.toString('utf8', l3 + 1, l4));
  } catch (err) {
    throw new IndexFormatError(`the index is damaged (${(err as Error).message})`);
  }
  if (
    header?.format !== INDEX_FORMAT ||
    !Array.isArray(keys) ||
    !Array.isArray(ends) ||
    keys.length !== ends.length
  )
    throw new IndexFormatError(`the index is not in format ${INDEX_FORMAT}`);
  const base = l4 + 1;
  if (base + (ends.at(-1) ?? 0) !== buf.length) throw new IndexFormatError('the index is truncated');
  return {
    header,
    size: keys.length,
    lookup(registry, name) {
      const key = indexKey(registry, name);
      let lo = 0;
      let hi = keys.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const k = keys[mid]!;
        if (k === key) {
          const start = mid === 0 ? 0 : ends[mid - 1]!;
          const stored = JSON.parse(buf.toString('utf8', base + start, base + ends[mid]!)) as Array<
            Record<string, unknown>
          >;
          return stored.map(unpack);
        }
        if (k < key) lo = mid + 1;
        else hi = mid - 1;
      }
      return [];
    },
  };
}
