// Reads a Rekor v1 log: its signed tree head, consistency proofs and entries by index, in batches
// when the log offers Rekor's batch read (POST /api/v1/log/entries/retrieve with logIndexes), one
// request per entry otherwise; a bounded number of requests are in flight and results come back in
// log order. Everything returned is still unverified.
//
// Batch reads ask for bodies only (`?view=bodies`): a tollgate-server then answers body,
// integratedTime, logID and logIndex without SET or inclusion proof, and says so and how many it
// takes per request (Tollgate-Retrieve-View: bodies, Tollgate-Retrieve-Limit: 1000); the batch size
// grows to that limit unless batchSize is configured. Rekor ignores the parameter and answers full
// entries, at most 10 per request. Either way log-monitor.ts proves the entries by their leaf hashes
// against a signed checkpoint, and asks for the SET of an entry it reports by index.

import type { BatchRead } from '../config/model';
import { SourceError } from '../errors';
import { type HttpClient, HttpFailure, parseJsonResponse } from '../http/client';
import { type LogEntry, parseEntry, parseEntryMap } from './entry';

export interface LogInfo {
  treeSize: number;
  rootHash: string;
  signedTreeHead: string;
  treeID?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export interface RekorClientOptions {
  batchRead: BatchRead;
  /** indexes per batch read; undefined: Rekor v1's 10, or the limit the log announces for bodies */
  batchSize?: number;
  concurrency: number;
}

/** Rekor v1's limit on the queries of one batch read. */
export const REKOR_BATCH_LIMIT = 10;
/** The most indexes asked for in one batch read, whatever a log announces. */
export const MAX_BATCH_SIZE = 1000;

export class RekorClient {
  /** the read mode in use, once known ('auto' until the first batch read answers) */
  mode: BatchRead;
  /** what the batch reads answer: 'bodies' when the log announced a bodies-only answer */
  view: 'full' | 'bodies' = 'full';
  /** indexes per batch read now (grows to the log's announced limit for bodies) */
  batchSize: number;
  requests = 0;
  /**
   * Entries of the log's inactive shards (Rekor v1 `inactiveShards`): entries are addressed by a
   * global logIndex, the tree and its proofs by the index within the active shard.
   */
  indexOffset = 0;

  constructor(
    readonly baseUrl: string,
    private readonly http: HttpClient,
    private readonly options: RekorClientOptions,
  ) {
    this.mode = options.batchRead;
    this.batchSize = options.batchSize ?? REKOR_BATCH_LIMIT;
  }

  /** The read mode for reports: single, retrieve (full entries) or retrieve-bodies. */
  get readMode(): string {
    return this.mode === 'retrieve' && this.view === 'bodies' ? 'retrieve-bodies' : this.mode;
  }

  /** Learns from a batch answer's headers whether it holds bodies only, and how many the log takes. */
  private learnView(headers: Record<string, string | string[] | undefined>): void {
    const view = headers['tollgate-retrieve-view'];
    const limit = Number(headers['tollgate-retrieve-limit']);
    if (view !== 'bodies' || !Number.isSafeInteger(limit) || limit < 1) return;
    this.view = 'bodies';
    this.batchSize = Math.min(this.options.batchSize ?? MAX_BATCH_SIZE, limit, MAX_BATCH_SIZE);
  }

  private fail(err: unknown, what: string): never {
    if (err instanceof SourceError) throw err;
    if (err instanceof HttpFailure) {
      const code = err.status === undefined ? 'LOG_UNREACHABLE' : 'LOG_RESPONSE_INVALID';
      throw new SourceError(code, `${what}: ${err.url}: ${err.message}`);
    }
    throw new SourceError(
      'LOG_RESPONSE_INVALID',
      `${what}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }

  async logInfo(): Promise<LogInfo> {
    let doc: unknown;
    try {
      this.requests++;
      doc = await this.http.getJson(`${this.baseUrl}/api/v1/log`);
    } catch (err) {
      this.fail(err, 'reading the log info');
    }
    if (
      !isObject(doc) ||
      !Number.isSafeInteger(doc['treeSize']) ||
      typeof doc['rootHash'] !== 'string' ||
      typeof doc['signedTreeHead'] !== 'string'
    ) {
      throw new SourceError('LOG_RESPONSE_INVALID', `${this.baseUrl}/api/v1/log is not Rekor v1 log info`);
    }
    const shards = Array.isArray(doc['inactiveShards']) ? (doc['inactiveShards'] as unknown[]) : [];
    this.indexOffset = shards.reduce<number>((sum, shard) => {
      const size = isObject(shard) ? shard['treeSize'] : undefined;
      return sum + (Number.isSafeInteger(size) ? (size as number) : 0);
    }, 0);
    const info: LogInfo = {
      treeSize: doc['treeSize'] as number,
      rootHash: doc['rootHash'] as string,
      signedTreeHead: doc['signedTreeHead'] as string,
    };
    if (typeof doc['treeID'] === 'string') info.treeID = doc['treeID'];
    return info;
  }

  async consistencyProof(firstSize: number, lastSize: number): Promise<Buffer[]> {
    let doc: unknown;
    try {
      this.requests++;
      doc = await this.http.getJson(
        `${this.baseUrl}/api/v1/log/proof?firstSize=${firstSize}&lastSize=${lastSize}`,
      );
    } catch (err) {
      this.fail(err, `reading the consistency proof ${firstSize} -> ${lastSize}`);
    }
    const hashes = isObject(doc) ? doc['hashes'] : undefined;
    if (!Array.isArray(hashes) || !hashes.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))) {
      throw new SourceError(
        'LOG_RESPONSE_INVALID',
        `the consistency proof ${firstSize} -> ${lastSize} is malformed`,
      );
    }
    return hashes.map((h: string) => Buffer.from(h, 'hex'));
  }

  /** The entry at `index` of the tree (its logIndex is that plus the inactive shards' entries). */
  async entry(treeIndex: number): Promise<LogEntry> {
    const index = treeIndex + this.indexOffset;
    let doc: unknown;
    try {
      this.requests++;
      doc = await this.http.getJson(`${this.baseUrl}/api/v1/log/entries?logIndex=${index}`);
    } catch (err) {
      this.fail(err, `reading entry ${index}`);
    }
    const entries = parseEntryMap(doc);
    if (entries.length !== 1 || entries[0]!.logIndex !== index) {
      throw new SourceError('LOG_RESPONSE_INVALID', `asked for entry ${index}, the log answered another`);
    }
    return entries[0]!;
  }

  /** Rekor v1's batch read; undefined when the log does not offer it. */
  private async retrieve(indexes: number[]): Promise<LogEntry[] | undefined> {
    let res: Awaited<ReturnType<HttpClient['request']>>;
    const url = `${this.baseUrl}/api/v1/log/entries/retrieve`;
    const what = `reading entries ${indexes[0]}..${indexes[indexes.length - 1]}`;
    try {
      this.requests++;
      res = await this.http.request(`${url}?view=bodies`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({ logIndexes: indexes }),
      });
    } catch (err) {
      this.fail(err, what);
    }
    if (this.mode === 'auto' && [404, 405, 501].includes(res.status)) return undefined;
    let doc: unknown;
    try {
      if (res.status === 422 && indexes.length > REKOR_BATCH_LIMIT) {
        throw new SourceError(
          'LOG_RESPONSE_INVALID',
          `${what}: ${url} refused ${indexes.length} indexes in one request (HTTP 422${serverMessage(res.body)}); set batchSize to at most ${REKOR_BATCH_LIMIT} for this log`,
        );
      }
      doc = parseJsonResponse(url, res);
    } catch (err) {
      this.fail(err, what);
    }
    if (!Array.isArray(doc))
      throw new SourceError('LOG_RESPONSE_INVALID', `${url} did not answer a list of entries`);
    this.learnView(res.headers);
    const byIndex = new Map<number, LogEntry>();
    for (const item of doc) {
      if (!isObject(item)) throw new SourceError('LOG_RESPONSE_INVALID', `${url} answered a malformed entry`);
      for (const [uuid, raw] of Object.entries(item)) {
        const entry = parseEntry(uuid, raw);
        byIndex.set(entry.logIndex, entry);
      }
    }
    return indexes.map((i) => {
      const entry = byIndex.get(i);
      if (!entry)
        throw new SourceError('LOG_RESPONSE_INVALID', `asked for entry ${i}, the log did not return it`);
      return entry;
    });
  }

  private async chunk(start: number, end: number): Promise<LogEntry[]> {
    if (this.mode !== 'single') {
      const indexes = Array.from({ length: end - start }, (_, i) => start + i + this.indexOffset);
      const entries = await this.retrieve(indexes);
      if (entries) {
        if (this.mode === 'auto') this.mode = 'retrieve';
        return entries;
      }
      this.mode = 'single';
    }
    return Promise.all(Array.from({ length: end - start }, (_, i) => this.entry(start + i)));
  }

  /** Entries [start, end) of the tree in order, in chunks, with at most `concurrency` requests in flight. */
  async *entries(start: number, end: number): AsyncGenerator<LogEntry[]> {
    if (start >= end) return;
    // Until the batch mode is known, ask one batch alone.
    if (this.mode === 'auto') {
      const first = Math.min(end, start + this.batchSize);
      yield await this.chunk(start, first);
      yield* this.entries(first, end);
      return;
    }
    // Single reads are grouped so that one chunk carries `concurrency` requests. A batch chunk is one
    // request of the current batch size, which grows once the log announces a larger limit.
    const single = this.mode === 'single';
    const inFlightChunks = single ? 2 : this.options.concurrency;
    const pending: Promise<LogEntry[]>[] = [];
    let next = start;
    const launch = () => {
      const from = next;
      const to = Math.min(end, from + (single ? this.options.concurrency : this.batchSize));
      next = to;
      const promise = this.chunk(from, to);
      promise.catch(() => undefined); // awaited in order below; avoid an unhandled rejection meanwhile
      pending.push(promise);
    };
    while (next < end && pending.length < inFlightChunks) launch();
    while (pending.length > 0) {
      const entries = await pending.shift()!;
      if (next < end) launch();
      yield entries;
    }
  }
}

function serverMessage(body: Buffer): string {
  try {
    const message = (JSON.parse(body.toString('utf8')) as { message?: unknown }).message;
    return typeof message === 'string' ? `: ${message.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
