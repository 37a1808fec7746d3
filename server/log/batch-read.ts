// Rekor v1's batch read, POST /api/v1/log/entries/retrieve (operation searchLogQuery): a body of
// `{"entryUUIDs": [...], "entries": [proposed entries], "logIndexes": [...]}` (any of them, null
// meaning absent, as Rekor's Go client sends them), answered by a JSON list of `{"<uuid>": entry}`:
// the entries found by UUID, then by proposed entry, then by log index, each group in request
// order; what the log does not hold is left out, as Rekor leaves it out (never a 404).
//
// Two views:
//   full (default)  entries as GET /api/v1/log/entries serves them, with SET, inclusion proof and
//                   checkpoint; at most 10 queries (Rekor's limit, 422 beyond). One tree size, root
//                   and signed checkpoint serve the whole answer, and SETs are remembered
//                   (set-cache.ts), so a batch costs no more than its proofs.
//   ?view=bodies    `body`, `integratedTime`, `logID` and `logIndex` only, at most 1,000 queries:
//                   for monitors, which prove a whole range of entries against one signed
//                   checkpoint by their leaf hashes (no per-entry proof is needed) and ask for the
//                   SET of the few entries they report (tollgate-monitor does).
// Every answer says which view it is and that view's limit (Tollgate-Retrieve-View,
// Tollgate-Retrieve-Limit), so a client learns that it may ask for more.
//
// Hostile input is a 4xx naming the field: a body that is not an object, a field that is not one of
// the three (or not a list), an index that is not a non-negative safe integer, a UUID that is not 64
// (or 80) hex characters. A query asked twice is answered twice, as Rekor answers it. Work is bounded: the body limit and JSON shape limits
// of every request, the count checked before any element is looked at, at most 10 proposed entries
// (each costs a signature check, as an append does). Answers are written in slices of at most
// 256 KiB, waiting for the client to take each and letting other requests run in between, so a
// large answer (1,000 bodies of a few KiB, or a few entries of megabytes) holds neither the event
// loop nor more than a slice of memory.
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { badRequest, ServerError } from '../errors';
import { readJson } from '../http/io';
import type { StoredEntry } from './store';
import type { RekorEntry, TransparencyLog, TreeView } from './transparency-log';

export type RetrieveView = 'full' | 'bodies';

/** Queries per request (entryUUIDs, entries and logIndexes together). */
export const RETRIEVE_LIMITS: Readonly<Record<RetrieveView, number>> = { full: 10, bodies: 1000 };
/** Proposed entries per request, in either view: each is canonicalized and its signatures verified. */
export const MAX_PROPOSED_ENTRIES = 10;
/** Request body: 10 proposed entries may be large; the JSON shape limits still bound the parse. */
const MAX_BODY = 4 * 1024 * 1024;
const SLICE_BYTES = 256 * 1024;

const FIELDS = ['entryUUIDs', 'entries', 'logIndexes'] as const;
const UUID = /^([0-9a-fA-F]{16})?([0-9a-fA-F]{64})$/;

export interface RetrieveQuery {
  /** 64-hex leaf hashes, lower case; null for an 80-character ID of another tree (not in this log) */
  uuids: (string | null)[];
  proposed: unknown[];
  indexes: number[];
}

/** The entry fields a bodies-only answer carries. */
export type RekorEntryBody = Omit<RekorEntry, 'verification'>;

export function parseRetrieveView(url: URL): RetrieveView {
  const values = url.searchParams.getAll('view');
  if (values.length === 0) return 'full';
  if (values.length === 1 && (values[0] === 'full' || values[0] === 'bodies')) return values[0];
  throw badRequest(
    `"view" must be "bodies" (body, integratedTime, logID and logIndex of up to ${RETRIEVE_LIMITS.bodies} entries) or "full" (the default: entries with SET and inclusion proof, up to ${RETRIEVE_LIMITS.full}); got ${JSON.stringify(values.join(',').slice(0, 40))}`,
  );
}

function closest(name: string): string {
  const lower = name.toLowerCase();
  const near = FIELDS.find((f) => {
    const l = f.toLowerCase();
    return l.startsWith(lower.slice(0, 5)) || lower.startsWith(l.slice(0, 5));
  });
  return near ? `; did you mean "${near}"?` : '';
}

function listField(query: Record<string, unknown>, name: (typeof FIELDS)[number]): unknown[] {
  const value = query[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw badRequest(`"${name}" must be a JSON list (or null)`);
  return value;
}

/**
 * Checks a retrieve body. The count is checked first, so a body with too many queries costs no
 * more than its parse; then every element, and duplicates.
 */
export function parseRetrieveQuery(body: unknown, view: RetrieveView, treeId: string): RetrieveQuery {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(
      'the retrieve query must be a JSON object with "logIndexes", "entryUUIDs" or "entries", e.g. {"logIndexes": [0, 1, 2]}',
    );
  }
  const query = body as Record<string, unknown>;
  for (const key of Object.keys(query)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw badRequest(
        `unknown field ${JSON.stringify(key.slice(0, 64))} in the retrieve query${closest(key)} (fields: ${FIELDS.join(', ')})`,
      );
    }
  }
  const uuids = listField(query, 'entryUUIDs');
  const proposed = listField(query, 'entries');
  const indexes = listField(query, 'logIndexes');
  const limit = RETRIEVE_LIMITS[view];
  const total = uuids.length + proposed.length + indexes.length;
  if (total > limit) {
    const hint =
      view === 'full'
        ? `; ask for at most ${limit} at a time, or for up to ${RETRIEVE_LIMITS.bodies} bodies with ?view=bodies`
        : `; ask for at most ${limit} at a time`;
    throw new ServerError(
      422,
      'TOO_MANY_QUERIES',
      `more than max allowed ${limit} entries in request: ${total} (entryUUIDs, entries and logIndexes together)${hint}`,
    );
  }
  if (proposed.length > MAX_PROPOSED_ENTRIES) {
    throw new ServerError(
      422,
      'TOO_MANY_QUERIES',
      `more than max allowed ${MAX_PROPOSED_ENTRIES} proposed "entries" in request: ${proposed.length} (each is canonicalized and its signatures checked); look entries up by "entryUUIDs" (the SHA-256 leaf hash of the canonical body) instead`,
    );
  }

  const treePrefix = BigInt(treeId).toString(16).padStart(16, '0');
  // A query asked twice is answered twice, as Rekor does: the count limit already bounds the work.
  const parsedUuids = uuids.map((raw, i): string | null => {
    const match = typeof raw === 'string' ? UUID.exec(raw) : null;
    if (!match) {
      throw badRequest(
        `entryUUIDs[${i}] must be an entry UUID: 64 hex characters, or 80 with the log's tree ID first (got ${JSON.stringify(raw)?.slice(0, 100)})`,
      );
    }
    // An entry ID of another tree names nothing in this log (Rekor: not found, left out).
    return match[1] === undefined || match[1].toLowerCase() === treePrefix ? match[2]!.toLowerCase() : null;
  });
  const parsedIndexes = indexes.map((raw, i): number => {
    if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0) {
      throw badRequest(
        `logIndexes[${i}] must be a log index: an integer from 0 to ${Number.MAX_SAFE_INTEGER} (got ${JSON.stringify(raw)?.slice(0, 40)})`,
      );
    }
    return raw;
  });
  return { uuids: parsedUuids, proposed, indexes: parsedIndexes };
}

/**
 * The leaf indexes a query names, in answer order, leaving out what the log does not hold, and the
 * tree they are answered at (its root and checkpoint only for the full view).
 */
async function resolve(
  tlog: TransparencyLog,
  query: RetrieveQuery,
  view: RetrieveView,
): Promise<{ indexes: number[]; tree: TreeView | { size: number } }> {
  const byHash: (number | undefined)[] = query.uuids.map((uuid) =>
    uuid === null ? undefined : tlog.indexOfLeaf(Buffer.from(uuid, 'hex')),
  );
  for (const [i, proposed] of query.proposed.entries()) {
    let leaf: Buffer;
    try {
      leaf = await tlog.leafOfProposed(proposed);
    } catch (err) {
      if (err instanceof ServerError)
        throw new ServerError(err.status, err.reason, `entries[${i}]: ${err.message}`, err.headers);
      throw err;
    }
    byHash.push(tlog.indexOfLeaf(leaf));
  }
  // Taken after the last await (the signature checks) and before anything is answered: every entry
  // of the answer is committed at this size, and the full view proves each against it.
  const tree = view === 'full' ? tlog.treeView() : { size: tlog.size };
  const found = byHash.filter((i): i is number => i !== undefined && i < tree.size);
  for (const index of query.indexes) if (index < tree.size) found.push(index);
  return { indexes: found, tree };
}

const HEX = /^[0-9a-f]+$/;

/**
 * One `{"<uuid>": {body, integratedTime, logID, logIndex}}` item of the bodies view, written
 * directly: JSON.stringify scans a body of a few KiB for characters to escape (about 10 µs each,
 * a third of the server's time per entry), while base64, hex and integers never need escaping.
 */
function bodyItem(tlog: TransparencyLog, stored: StoredEntry): string {
  const entry: RekorEntryBody = {
    body: stored.body.toString('base64'),
    integratedTime: stored.integratedTime,
    logID: tlog.logId,
    logIndex: stored.index,
  };
  if (!Number.isSafeInteger(entry.integratedTime) || !HEX.test(entry.logID)) {
    return JSON.stringify({ [stored.leafHash.toString('hex')]: entry });
  }
  return `{"${stored.leafHash.toString('hex')}":{"body":"${entry.body}","integratedTime":${entry.integratedTime},"logID":"${entry.logID}","logIndex":${entry.logIndex}}}`;
}

/** Resolves once the response has room again or is gone (closed, failed), leaving no listener behind. */
async function drained(res: ServerResponse): Promise<void> {
  const stop = new AbortController();
  try {
    await Promise.race([
      once(res, 'drain', { signal: stop.signal }),
      once(res, 'close', { signal: stop.signal }),
    ]);
  } catch {
    // The connection failed under the answer: nobody is left to answer (the caller sees it destroyed).
  } finally {
    stop.abort();
  }
}

/** Writes a JSON list slice by slice: waits for the client to take each, and lets other requests run. */
async function sendList(
  res: ServerResponse,
  count: number,
  item: (i: number) => string,
  headers: Record<string, string>,
): Promise<void> {
  let next = 0;
  const slice = (): string => {
    const parts: string[] = [];
    let bytes = 0;
    while (next < count && bytes < SLICE_BYTES) {
      const text = item(next);
      parts.push(next === 0 ? text : `,${text}`);
      bytes += text.length;
      next++;
    }
    return parts.join('');
  };
  // The first slice is made before the status is sent: a failure there is still a proper error.
  const first = slice();
  if (next >= count) {
    const data = Buffer.from(`[${first}]`);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': data.length, ...headers });
    res.end(data);
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json', ...headers });
  let text = `[${first}`;
  while (true) {
    if (!res.write(text)) await drained(res);
    else await nextTurn();
    if (res.destroyed) return;
    if (next >= count) break;
    text = slice();
  }
  res.end(']');
}

/** POST /api/v1/log/entries/retrieve[?view=bodies|full] */
export async function handleRetrieve(
  tlog: TransparencyLog,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const view = parseRetrieveView(url);
  const query = parseRetrieveQuery(await readJson(req, MAX_BODY), view, tlog.treeId);
  const { indexes, tree } = await resolve(tlog, query, view);
  const item = (i: number): string => {
    const stored = tlog.storedEntry(indexes[i]!);
    if (!('root' in tree)) return bodyItem(tlog, stored);
    return JSON.stringify({ [stored.leafHash.toString('hex')]: tlog.present(stored, tree) });
  };
  await sendList(res, indexes.length, item, {
    'Tollgate-Retrieve-View': view,
    'Tollgate-Retrieve-Limit': String(RETRIEVE_LIMITS[view]),
  });
}
