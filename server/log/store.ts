// Durable, append-only storage for one Merkle log (the Rekor-style transparency log and the CT
// log each own one).
//
// entries.log is the single source of truth: CRC-framed records appended and fdatasync'd
// before any append is acknowledged. Concurrent appends are group-committed: while one batch is
// being synced the next accumulates, so one fdatasync covers every entry that arrived meanwhile.
// Everything else on disk is derived from entries.log and written after the sync (offsets.idx,
// level-NN.hash with the tree's complete subtrees, search.idx with digests of search keys);
// on open they are checked against entries.log and their missing tail is rebuilt from it, so a
// crash at any point loses nothing that was acknowledged and restarts stay O(size of the tail).
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { DigestIndex } from './digest-index';
import { hashLeaf } from './merkle';
import { MerkleLevels } from './tree';

const MAGIC = 0x54474531; // "TGE1"
const HEADER = 12; // magic, payload length, crc32 of payload
const MAX_RECORD = 16 * 1024 * 1024;
const SEARCH_RECORD = 36; // sha256(search key) + u32 entry index
const NO_KEYS = Buffer.alloc(32); // marks an entry without search keys

export interface LogRecord {
  /** The exact bytes that become the Merkle leaf (Rekor's canonical body, a CT MerkleTreeLeaf). */
  body: Buffer;
  /** Seconds since the epoch when the log integrated the entry. */
  integratedTime: number;
  /** Strings under which the entry can be found again (artifact digests, signer identities). */
  searchKeys: string[];
}

export interface StoredEntry extends LogRecord {
  index: number;
  leafHash: Buffer;
}

export class StoreFailedError extends Error {
  constructor(cause: unknown) {
    super(`the log stopped accepting entries after a storage failure: ${String(cause)}; restart the server`);
    this.name = 'StoreFailedError';
  }
}

interface Pending {
  record: LogRecord;
  leafHash: Buffer;
  resolve: (entry: StoredEntry) => void;
  reject: (err: unknown) => void;
}

function searchDigest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

function encodeRecord(record: LogRecord): Buffer {
  const meta = Buffer.from(JSON.stringify({ t: record.integratedTime, k: record.searchKeys }), 'utf8');
  const payload = Buffer.alloc(4 + record.body.length + meta.length);
  payload.writeUInt32LE(record.body.length, 0);
  record.body.copy(payload, 4);
  meta.copy(payload, 4 + record.body.length);
  const header = Buffer.alloc(HEADER);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(payload.length, 4);
  header.writeUInt32LE(crc32(payload), 8);
  return Buffer.concat([header, payload]);
}

function decodePayload(payload: Buffer): LogRecord {
  const bodyLength = payload.readUInt32LE(0);
  if (bodyLength > payload.length - 4) throw new Error('body length beyond record');
  const body = Buffer.from(payload.subarray(4, 4 + bodyLength));
  const meta = JSON.parse(payload.subarray(4 + bodyLength).toString('utf8')) as { t: number; k: string[] };
  return { body, integratedTime: meta.t, searchKeys: meta.k };
}

class GrowableOffsets {
  private values = new Float64Array(1024);
  count = 0;

  push(offset: number): void {
    if (this.count === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.count++] = offset;
  }

  get(index: number): number {
    return this.values[index]!;
  }
}

export interface LogStoreOptions {
  /** Called once with a description when recovery had to drop a torn, unacknowledged tail. */
  onRecovery?: (message: string) => void;
}

export class LogStore {
  readonly dir: string;
  private readonly tree: MerkleLevels;
  private readonly offsets = new GrowableOffsets();
  private readonly leaves = new DigestIndex();
  private readonly search = new DigestIndex();
  private entriesFd: number;
  private entriesHandle!: FileHandle;
  private entriesEnd: number;
  private offsetsFd: number;
  private searchFd: number;
  private levelFds: number[] = [];
  private persistedLevelCounts: number[] = [];
  private pending: Pending[] = [];
  private pendingLeaves = new Map<string, Promise<StoredEntry>>();
  private flushing: Promise<void> | null = null;
  private failed: unknown = null;
  private closed = false;

  private constructor(dir: string, options: LogStoreOptions) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.entriesFd = openSync(
      join(dir, 'entries.log'),
      existsSync(join(dir, 'entries.log')) ? 'r+' : 'w+',
      0o600,
    );
    this.offsetsFd = openSync(join(dir, 'offsets.idx'), 'a+', 0o600);
    this.searchFd = openSync(join(dir, 'search.idx'), 'a+', 0o600);
    const levels: Buffer[] = [];
    for (let level = 0; existsSync(this.levelPath(level)); level++)
      levels.push(readFileSync(this.levelPath(level)));
    this.tree = new MerkleLevels(levels);
    this.entriesEnd = 0;
    this.recover(options);
  }

  static async open(dir: string, options: LogStoreOptions = {}): Promise<LogStore> {
    const store = new LogStore(dir, options);
    store.entriesHandle = await open(join(dir, 'entries.log'), 'r+');
    return store;
  }

  get size(): number {
    return this.tree.size;
  }

  get merkle(): MerkleLevels {
    return this.tree;
  }

  private levelPath(level: number): string {
    return join(this.dir, `level-${String(level).padStart(2, '0')}.hash`);
  }

  private readRecordAt(offset: number, limit: number): { payload: Buffer; end: number } | null {
    if (offset + HEADER > limit) return null;
    const header = Buffer.alloc(HEADER);
    readSync(this.entriesFd, header, 0, HEADER, offset);
    if (header.readUInt32LE(0) !== MAGIC) return null;
    const length = header.readUInt32LE(4);
    if (length > MAX_RECORD || offset + HEADER + length > limit) return null;
    const payload = Buffer.alloc(length);
    readSync(this.entriesFd, payload, 0, length, offset + HEADER);
    if (crc32(payload) !== header.readUInt32LE(8)) return null;
    return { payload, end: offset + HEADER + length };
  }

  // Brings the derived files in line with entries.log. Derived data is trusted only up to the
  // last entry whose stored offset, record and leaf hash agree; the rest is rebuilt by scanning.
  private recover(options: LogStoreOptions): void {
    const fileSize = fstatSync(this.entriesFd).size;
    const storedOffsets = readFileSync(join(this.dir, 'offsets.idx'));
    let trusted = Math.min(Math.floor(storedOffsets.length / 8), this.tree.size);
    if (trusted > 0) {
      const lastOffset = Number(storedOffsets.readBigUInt64LE((trusted - 1) * 8));
      const last = this.readRecordAt(lastOffset, fileSize);
      if (!last || !hashLeaf(decodePayload(last.payload).body).equals(this.tree.leaf(trusted - 1)))
        trusted = 0;
    }
    // search.idx has at least one record per entry (NO_KEYS for an entry without search keys),
    // so its last record tells how far it reaches; that last entry's records may be incomplete
    // and are rebuilt with everything after it.
    const storedSearch = readFileSync(join(this.dir, 'search.idx'));
    let searchRecords = Math.floor(storedSearch.length / SEARCH_RECORD);
    const indexAt = (record: number) => storedSearch.readUInt32LE(record * SEARCH_RECORD + 32);
    trusted = searchRecords === 0 ? 0 : Math.min(trusted, indexAt(searchRecords - 1));
    // Every level must hold floor(trusted / 2^level) hashes; a short level lowers the bar.
    for (let level = 1; level < 48 && 2 ** level <= trusted; level++) {
      trusted = Math.min(trusted, (this.tree.levelCount(level) + 1) * 2 ** level - 1);
    }
    this.tree.truncate(trusted);
    while (searchRecords > 0 && indexAt(searchRecords - 1) >= trusted) searchRecords--;
    for (let r = 0; r < searchRecords; r++) {
      const at = r * SEARCH_RECORD;
      const digest = storedSearch.subarray(at, at + 32);
      if (!digest.equals(NO_KEYS)) this.search.add(digest, indexAt(r));
    }
    for (let i = 0; i < trusted; i++) this.offsets.push(Number(storedOffsets.readBigUInt64LE(i * 8)));
    for (let i = 0; i < trusted; i++) this.leaves.add(this.tree.leaf(i), i);

    // Scan entries.log after the trusted prefix for entries the derived files do not have yet.
    let position = 0;
    if (trusted > 0) position = this.readRecordAt(this.offsets.get(trusted - 1), fileSize)!.end;
    const rebuiltSearch: Buffer[] = [];
    while (position < fileSize) {
      const record = this.readRecordAt(position, fileSize);
      if (!record) break;
      let decoded: LogRecord;
      try {
        decoded = decodePayload(record.payload);
      } catch {
        break;
      }
      const index = this.tree.size;
      const leafHash = hashLeaf(decoded.body);
      this.tree.append(leafHash);
      this.offsets.push(position);
      this.leaves.add(leafHash, index);
      rebuiltSearch.push(...this.indexSearchKeys(decoded.searchKeys, index));
      position = record.end;
    }
    if (position < fileSize) {
      // A torn or corrupt tail: never acknowledged (acks follow fdatasync of whole records), but
      // kept aside rather than destroyed so that an operator can inspect it.
      const aside = join(this.dir, `entries.log.tail-${position}-${Date.now()}`);
      copyFileSync(join(this.dir, 'entries.log'), aside);
      ftruncateSync(this.entriesFd, position);
      options.onRecovery?.(
        `log ${this.dir}: dropped ${fileSize - position} bytes of unacknowledged tail after entry ${this.tree.size - 1}; a copy of the old file is in ${aside}`,
      );
    }
    this.entriesEnd = position;

    // Rewrite derived files to exactly the recovered state.
    ftruncateSync(this.offsetsFd, trusted * 8);
    const offsetTail = Buffer.alloc((this.tree.size - trusted) * 8);
    for (let i = trusted; i < this.tree.size; i++)
      offsetTail.writeBigUInt64LE(BigInt(this.offsets.get(i)), (i - trusted) * 8);
    writeSync(this.offsetsFd, offsetTail);
    ftruncateSync(this.searchFd, searchRecords * SEARCH_RECORD);
    if (rebuiltSearch.length) writeSync(this.searchFd, Buffer.concat(rebuiltSearch));
    for (let level = 0; level < this.tree.depth; level++) {
      const fd = openSync(this.levelPath(level), 'a+', 0o600);
      this.levelFds.push(fd);
      const persisted = Math.min(Math.floor(fstatSync(fd).size / 32), this.tree.levelCount(level));
      ftruncateSync(fd, persisted * 32);
      this.persistedLevelCounts.push(persisted);
    }
    this.persistDerived();
  }

  private indexSearchKeys(keys: string[], index: number): Buffer[] {
    const digests = keys.length === 0 ? [NO_KEYS] : keys.map(searchDigest);
    return digests.map((digest) => {
      if (digest !== NO_KEYS) this.search.add(digest, index);
      const record = Buffer.alloc(SEARCH_RECORD);
      digest.copy(record);
      record.writeUInt32LE(index, 32);
      return record;
    });
  }

  private persistDerived(): void {
    for (let level = 0; level < this.tree.depth; level++) {
      if (this.levelFds[level] === undefined) {
        this.levelFds[level] = openSync(this.levelPath(level), 'a+', 0o600);
        this.persistedLevelCounts[level] = 0;
      }
      const from = this.persistedLevelCounts[level]!;
      if (this.tree.levelCount(level) > from) {
        writeSync(this.levelFds[level]!, this.tree.levelBytes(level, from));
        this.persistedLevelCounts[level] = this.tree.levelCount(level);
      }
    }
  }

  /** Index of the entry whose leaf hash this is, if the log has it. */
  findLeaf(leafHash: Uint8Array): number | undefined {
    return this.leaves.get(leafHash)[0];
  }

  findByKey(key: string): number[] {
    return this.search.get(searchDigest(key));
  }

  read(index: number): StoredEntry {
    if (!Number.isInteger(index) || index < 0 || index >= this.tree.size)
      throw new RangeError(`no entry ${index}`);
    const record = this.readRecordAt(this.offsets.get(index), this.entriesEnd);
    if (!record) throw new Error(`entries.log is damaged at entry ${index}`);
    return { ...decodePayload(record.payload), index, leafHash: this.tree.leaf(index) };
  }

  /**
   * Appends an entry durably. Resolves once it is on stable storage with its index; an entry
   * whose body the log already holds (or is about to) resolves to the existing one with
   * `existing: true`.
   */
  async append(record: Omit<LogRecord, 'integratedTime'>): Promise<StoredEntry & { existing: boolean }> {
    if (this.failed) throw new StoreFailedError(this.failed);
    if (this.closed) throw new Error('the log is closed');
    const leafHash = hashLeaf(record.body);
    const existing = this.findLeaf(leafHash);
    if (existing !== undefined) return { ...this.read(existing), existing: true };
    const key = leafHash.toString('hex');
    const inFlight = this.pendingLeaves.get(key);
    if (inFlight) return { ...(await inFlight), existing: true };
    const promise = new Promise<StoredEntry>((resolve, reject) => {
      this.pending.push({ record: { ...record, integratedTime: 0 }, leafHash, resolve, reject });
    });
    this.pendingLeaves.set(key, promise);
    this.scheduleFlush();
    try {
      return { ...(await promise), existing: false };
    } finally {
      this.pendingLeaves.delete(key);
    }
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      while (this.pending.length > 0 && !this.failed) await this.flushBatch(this.pending.splice(0));
      this.flushing = null;
    })();
  }

  private async flushBatch(batch: Pending[]): Promise<void> {
    const integratedTime = Math.floor(Date.now() / 1000);
    const first = this.tree.size;
    const buffers: Buffer[] = [];
    const positions: number[] = [];
    let position = this.entriesEnd;
    for (const item of batch) {
      item.record.integratedTime = integratedTime;
      const encoded = encodeRecord(item.record);
      positions.push(position);
      position += encoded.length;
      buffers.push(encoded);
    }
    try {
      const data = Buffer.concat(buffers);
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await this.entriesHandle.write(
          data,
          written,
          data.length - written,
          this.entriesEnd + written,
        );
        written += bytesWritten;
      }
      await this.entriesHandle.datasync();
    } catch (err) {
      this.failed = err;
      for (const item of batch) item.reject(new StoreFailedError(err));
      return;
    }
    this.entriesEnd = position;
    const offsetBytes = Buffer.alloc(batch.length * 8);
    const searchRecords: Buffer[] = [];
    const stored: StoredEntry[] = batch.map((item, i) => {
      const index = first + i;
      this.tree.append(item.leafHash);
      this.offsets.push(positions[i]!);
      offsetBytes.writeBigUInt64LE(BigInt(positions[i]!), i * 8);
      this.leaves.add(item.leafHash, index);
      searchRecords.push(...this.indexSearchKeys(item.record.searchKeys, index));
      return { ...item.record, index, leafHash: item.leafHash };
    });
    try {
      writeSync(this.offsetsFd, offsetBytes);
      writeSync(this.searchFd, Buffer.concat(searchRecords));
      this.persistDerived();
    } catch (err) {
      // The entries are durable; derived files are rebuilt from them on the next start.
      this.failed = err;
    }
    for (const [i, item] of batch.entries()) item.resolve(stored[i]!);
  }

  /** Waits for in-flight appends, then releases the files. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.entriesHandle.close();
    for (const fd of [this.entriesFd, this.offsetsFd, this.searchFd, ...this.levelFds]) closeSync(fd);
  }
}
