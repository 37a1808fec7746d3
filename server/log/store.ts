// Durable, append-only storage for one Merkle log (the Rekor-style transparency log and the CT
// log each own one).
//
// entries.log is the single source of truth: CRC-framed records, appended and fdatasync'd before
// anything about them is published. Concurrent appends are group-committed: while one batch is
// being synced the next accumulates, so one fdatasync covers every entry that arrived meanwhile.
// After the entries, the batch's tree head (size, root) is appended to checkpoints.log and
// fdatasync'd; only then does the log's visible size grow, so no checkpoint is ever signed, and no
// entry acknowledged, at a size the disk does not hold a head for.
//
// On open, entries.log is read in full and the tree rebuilt from it; it must reach the latest
// head and hash to its root, or the store refuses to open (LogIntegrityError) and changes
// nothing: a log that lost or altered committed entries must be restored, not continued (a new
// entry at a lost index would fork the log). A torn tail after the last head (never
// acknowledged) is set aside. The derived files (offsets.idx, level-NN.hash, search.idx) are
// reconciled with what entries.log says; every read checks the body against its leaf hash.
import {
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CHECKPOINTS_FILE, CheckpointLog, readCheckpointFile, type TreeHead } from './checkpoint-log';
import { reconcileDerivedFile } from './derived-files';
import { DigestIndex } from './digest-index';
import { LogIntegrityError, repairAdvice } from './integrity';
import { hashLeaf, rootHash } from './merkle';
import {
  decodePayload,
  encodeRecord,
  type LogRecord,
  readRecordAt,
  SEARCH_DIGEST,
  scanRecords,
  searchDigest,
  searchDigests,
} from './record-codec';
import { MerkleLevels } from './tree';

/** What callers append: the body and the strings it can be found by. */
export interface NewEntry {
  body: Buffer;
  searchKeys: string[];
}

const SEARCH_RECORD = 36; // sha256(search key) + u32 entry index
const ENTRIES_FILE = 'entries.log';
const OFFSETS_FILE = 'offsets.idx';
const SEARCH_FILE = 'search.idx';
const LEVEL_FILE = /^level-(\d{2})\.hash$/;

export interface StoredEntry {
  /** The exact bytes of the Merkle leaf. */
  body: Buffer;
  /** Seconds since the epoch when the log integrated the entry. */
  integratedTime: number;
  index: number;
  leafHash: Buffer;
}

export class StoreFailedError extends Error {
  constructor(cause: unknown) {
    super(`the log stopped accepting entries after a storage failure: ${String(cause)}; restart the server`);
    this.name = 'StoreFailedError';
  }
}

/** A stored body no longer matches the leaf hash the tree holds for it. */
export class StoredEntryDamagedError extends Error {
  constructor(
    readonly dir: string,
    readonly index: number,
  ) {
    super(
      `entry ${index} of ${join(dir, ENTRIES_FILE)} no longer matches its leaf hash: the file was changed ` +
        'under the running server; stop it and run `tollgate-server verify` (see server/README.md, "Repair")',
    );
    this.name = 'StoredEntryDamagedError';
  }
}

interface Pending {
  record: LogRecord;
  leafHash: Buffer;
  resolve: (entry: StoredEntry) => void;
  reject: (err: unknown) => void;
}

/** search.idx records for an entry: one per digest, or one all-zero digest when it has none. */
function searchRecords(digests: Buffer, index: number): Buffer {
  const count = Math.max(1, digests.length / SEARCH_DIGEST);
  const out = Buffer.alloc(count * SEARCH_RECORD);
  for (let i = 0; i < count; i++) {
    if (digests.length > 0) digests.copy(out, i * SEARCH_RECORD, i * SEARCH_DIGEST, (i + 1) * SEARCH_DIGEST);
    out.writeUInt32LE(index, i * SEARCH_RECORD + 32);
  }
  return out;
}

class GrowableBuffer {
  private buf: Buffer;
  length = 0;

  constructor(initial = 1 << 16) {
    this.buf = Buffer.alloc(initial);
  }

  push(data: Buffer): void {
    if (this.length + data.length > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.length + data.length));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    data.copy(this.buf, this.length);
    this.length += data.length;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
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

  bytes(from: number, to = this.count): Buffer {
    const out = Buffer.alloc((to - from) * 8);
    for (let i = from; i < to; i++) out.writeBigUInt64LE(BigInt(this.values[i]!), (i - from) * 8);
    return out;
  }
}

export interface LogStoreOptions {
  /** Called with a description of each repair made on open (torn tail, derived file rewritten). */
  onRecovery?: (message: string) => void;
}

/** Everything rebuilt from entries.log by one sequential read. */
interface ScannedLog {
  tree: MerkleLevels;
  offsets: GrowableOffsets;
  leaves: DigestIndex;
  search: DigestIndex;
  searchBytes: GrowableBuffer;
  /** Where the intact records end. */
  end: number;
  fileSize: number;
}

function scanEntries(fd: number, hint: { entries: number; searchRecords: number }): ScannedLog {
  const fileSize = fstatSync(fd).size;
  const scanned: ScannedLog = {
    tree: new MerkleLevels(),
    offsets: new GrowableOffsets(),
    leaves: new DigestIndex(),
    search: new DigestIndex(),
    searchBytes: new GrowableBuffer(Math.max(1 << 16, hint.searchRecords * SEARCH_RECORD)),
    end: 0,
    fileSize,
  };
  // The derived files' sizes say roughly how big the log is: room is made once, not by doubling.
  scanned.leaves.reserve(hint.entries);
  scanned.search.reserve(hint.searchRecords);
  scanned.end = scanRecords(fd, fileSize, (record, offset) => {
    const index = scanned.tree.size;
    const leafHash = hashLeaf(record.body);
    scanned.tree.append(leafHash);
    scanned.offsets.push(offset);
    scanned.leaves.add(leafHash, index);
    const search = searchRecords(record.searchDigests, index);
    scanned.searchBytes.push(search);
    for (let at = 0; at < record.searchDigests.length; at += SEARCH_DIGEST) {
      scanned.search.add(record.searchDigests.subarray(at, at + SEARCH_DIGEST), index);
    }
  });
  return scanned;
}

const describeHead = (head: TreeHead) =>
  `size ${head.size} (root ${head.root.toString('hex')}, committed ${new Date(head.at).toISOString()})`;

/** Throws unless the entries reach `head` and hash to its root. */
function checkAgainstHead(dir: string, scanned: ScannedLog, head: TreeHead): void {
  const entries = join(dir, ENTRIES_FILE);
  if (scanned.tree.size < head.size) {
    throw new LogIntegrityError(
      'LOG_SHORTER_THAN_CHECKPOINT',
      dir,
      `${entries} holds ${scanned.tree.size} readable entries (intact up to byte ${scanned.end} of ${scanned.fileSize}), ` +
        `but this log has committed to a checkpoint of ${describeHead(head)}: ${head.size - scanned.tree.size} committed ` +
        `entries are lost or damaged. ${repairAdvice(dirname(dir))}`,
    );
  }
  const root = rootHash(scanned.tree, head.size);
  if (!root.equals(head.root)) {
    throw new LogIntegrityError(
      'LOG_INCONSISTENT_WITH_CHECKPOINT',
      dir,
      `the first ${head.size} entries of ${entries} hash to root ${root.toString('hex')}, but this log has committed ` +
        `to a checkpoint of ${describeHead(head)}: committed entries were altered. ${repairAdvice(dirname(dir))}`,
    );
  }
}

export class LogStore {
  readonly dir: string;
  private readonly tree: MerkleLevels;
  private readonly offsets: GrowableOffsets;
  private readonly leaves: DigestIndex;
  private readonly search: DigestIndex;
  private readonly entriesFd: number;
  private readonly entriesHandle: FileHandle;
  private readonly checkpoints: CheckpointLog;
  private entriesEnd: number;
  /** Entries covered by the latest durable head: what readers see and proofs are made for. */
  private committed: number;
  private offsetsFd: number;
  private searchFd: number;
  private levelFds: number[] = [];
  private persistedLevelCounts: number[] = [];
  private pending: Pending[] = [];
  private pendingLeaves = new Map<string, Promise<StoredEntry>>();
  private flushing: Promise<void> | null = null;
  private failed: unknown = null;
  private closed = false;

  private constructor(
    dir: string,
    files: { entriesFd: number; entriesHandle: FileHandle; checkpoints: CheckpointLog },
    scanned: ScannedLog,
  ) {
    this.dir = dir;
    this.entriesFd = files.entriesFd;
    this.entriesHandle = files.entriesHandle;
    this.checkpoints = files.checkpoints;
    this.tree = scanned.tree;
    this.offsets = scanned.offsets;
    this.leaves = scanned.leaves;
    this.search = scanned.search;
    this.entriesEnd = scanned.end;
    this.committed = scanned.tree.size;
    this.offsetsFd = openSync(join(dir, OFFSETS_FILE), 'a', 0o600);
    this.searchFd = openSync(join(dir, SEARCH_FILE), 'a', 0o600);
    for (let level = 0; level < this.tree.depth; level++) {
      this.levelFds.push(openSync(this.levelPath(level), 'a', 0o600));
      this.persistedLevelCounts.push(this.tree.levelCount(level));
    }
  }

  static async open(dir: string, options: LogStoreOptions = {}): Promise<LogStore> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const report = options.onRecovery ?? (() => {});
    const heads = readCheckpointFile(join(dir, CHECKPOINTS_FILE));
    if (heads.damaged.length > 0) {
      throw new LogIntegrityError(
        'CHECKPOINTS_DAMAGED',
        dir,
        `${join(dir, CHECKPOINTS_FILE)} is damaged (record${heads.damaged.length > 1 ? 's' : ''} ${heads.damaged.join(', ')} ` +
          `fail${heads.damaged.length > 1 ? '' : 's'} their checksum or go backwards): the checkpoints this log has committed to ` +
          `cannot all be checked. ${repairAdvice(dirname(dir))}`,
      );
    }
    const entriesPath = join(dir, ENTRIES_FILE);
    const entriesFd = openSync(entriesPath, existsSync(entriesPath) ? 'r+' : 'w+', 0o600);
    let entriesHandle: FileHandle | undefined;
    let checkpoints: CheckpointLog | undefined;
    try {
      const sizeOf = (file: string) => (existsSync(join(dir, file)) ? statSync(join(dir, file)).size : 0);
      const scanned = scanEntries(entriesFd, {
        entries: Math.floor(sizeOf(OFFSETS_FILE) / 8),
        searchRecords: Math.floor(sizeOf(SEARCH_FILE) / SEARCH_RECORD),
      });
      const latest = heads.heads[heads.heads.length - 1];
      if (latest) checkAgainstHead(dir, scanned, latest);
      // Accepted: from here on the folder may be changed.
      if (scanned.end < scanned.fileSize) {
        // A torn or corrupt tail after every committed entry: never acknowledged, but kept aside
        // rather than destroyed so that an operator can inspect it.
        const aside = join(dir, `${ENTRIES_FILE}.tail-${scanned.end}-${Date.now()}`);
        copyFileSync(entriesPath, aside);
        ftruncateSync(entriesFd, scanned.end);
        report(
          `log ${dir}: dropped ${scanned.fileSize - scanned.end} bytes of unacknowledged tail after entry ${scanned.tree.size - 1}; a copy of the old file is in ${aside}`,
        );
      }
      LogStore.reconcileDerived(dir, scanned, (m) => report(`log ${dir}: ${m}`));
      entriesHandle = await open(entriesPath, 'r+');
      checkpoints = await CheckpointLog.open(dir, heads);
      if (scanned.tree.size > 0 && scanned.tree.size !== latest?.size) {
        // Entries that were durable but never committed (a crash between the two syncs, or a
        // folder from before checkpoints.log): committed now, before anything is published.
        await checkpoints.commit(scanned.tree.size, rootHash(scanned.tree, scanned.tree.size));
      }
      return new LogStore(dir, { entriesFd, entriesHandle, checkpoints }, scanned);
    } catch (err) {
      await entriesHandle?.close();
      await checkpoints?.close();
      closeSync(entriesFd);
      throw err;
    }
  }

  private static reconcileDerived(dir: string, scanned: ScannedLog, report: (message: string) => void): void {
    reconcileDerivedFile(join(dir, OFFSETS_FILE), scanned.offsets.bytes(0), report, {
      name: 'entry',
      size: 8,
    });
    reconcileDerivedFile(join(dir, SEARCH_FILE), scanned.searchBytes.bytes(), report, {
      name: 'record',
      size: SEARCH_RECORD,
    });
    const depth = scanned.tree.depth;
    for (let level = 0; level < depth; level++) {
      reconcileDerivedFile(LogStore.levelPathOf(dir, level), scanned.tree.levelBytes(level, 0), report, {
        name: 'hash',
        size: 32,
      });
    }
    for (const file of readdirSync(dir)) {
      const match = LEVEL_FILE.exec(file);
      if (match && Number(match[1]) >= depth) {
        rmSync(join(dir, file));
        report(`${file} is beyond the tree's ${depth} levels; removed`);
      }
    }
  }

  private static levelPathOf(dir: string, level: number): string {
    return join(dir, `level-${String(level).padStart(2, '0')}.hash`);
  }

  /** Entries committed (covered by a durable tree head): the size readers see. */
  get size(): number {
    return this.committed;
  }

  /** The tree's complete subtrees; proofs for sizes up to `size` read only committed entries. */
  get merkle(): MerkleLevels {
    return this.tree;
  }

  private levelPath(level: number): string {
    return LogStore.levelPathOf(this.dir, level);
  }

  private persistDerived(): void {
    for (let level = 0; level < this.tree.depth; level++) {
      if (this.levelFds[level] === undefined) {
        this.levelFds[level] = openSync(this.levelPath(level), 'a', 0o600);
        this.persistedLevelCounts[level] = 0;
      }
      const from = this.persistedLevelCounts[level]!;
      if (this.tree.levelCount(level) > from) {
        writeSync(this.levelFds[level]!, this.tree.levelBytes(level, from));
        this.persistedLevelCounts[level] = this.tree.levelCount(level);
      }
    }
  }

  /** Index of the committed entry whose leaf hash this is, if the log has it. */
  findLeaf(leafHash: Uint8Array): number | undefined {
    return this.leaves.get(leafHash)[0];
  }

  findByKey(key: string): number[] {
    return this.search.get(searchDigest(key));
  }

  /** How many entries are found under a search key. */
  countByKey(key: string): number {
    return this.search.count(searchDigest(key));
  }

  /** Entries found under a search key, newest first, skipping `skip`, at most `limit`. */
  newestByKey(key: string, skip: number, limit: number): number[] {
    return this.search.newest(searchDigest(key), skip, limit);
  }

  /** A committed entry, checked against its leaf hash (throws StoredEntryDamagedError if changed). */
  read(index: number): StoredEntry {
    if (!Number.isInteger(index) || index < 0 || index >= this.committed)
      throw new RangeError(`no entry ${index}`);
    const raw = readRecordAt(this.entriesFd, this.offsets.get(index), this.entriesEnd);
    const record = raw ? decodePayload(raw.magic, raw.payload) : null;
    const leafHash = this.tree.leaf(index);
    if (!record || !hashLeaf(record.body).equals(leafHash))
      throw new StoredEntryDamagedError(this.dir, index);
    return { body: record.body, integratedTime: record.integratedTime, index, leafHash };
  }

  /**
   * Appends an entry durably. Resolves once it and a tree head covering it are on stable storage;
   * an entry whose body the log already holds (or is about to) resolves to the existing one with
   * `existing: true`.
   */
  async append(entry: NewEntry): Promise<StoredEntry & { existing: boolean }> {
    if (this.failed) throw new StoreFailedError(this.failed);
    if (this.closed) throw new Error('the log is closed');
    const leafHash = hashLeaf(entry.body);
    const existing = this.findLeaf(leafHash);
    if (existing !== undefined) return { ...this.read(existing), existing: true };
    const key = leafHash.toString('hex');
    const inFlight = this.pendingLeaves.get(key);
    if (inFlight) return { ...(await inFlight), existing: true };
    const promise = new Promise<StoredEntry>((resolve, reject) => {
      const record = { body: entry.body, integratedTime: 0, searchDigests: searchDigests(entry.searchKeys) };
      this.pending.push({ record, leafHash, resolve, reject });
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
      for (const item of this.pending.splice(0)) item.reject(new StoreFailedError(this.failed));
      this.flushing = null;
    })();
  }

  private async flushBatch(batch: Pending[]): Promise<void> {
    const integratedTime = Math.floor(Date.now() / 1000);
    const first = this.tree.size;
    const encoded = batch.map((item) => {
      item.record.integratedTime = integratedTime;
      return encodeRecord(item.record);
    });
    const positions: number[] = [];
    let position = this.entriesEnd;
    for (const record of encoded) {
      positions.push(position);
      position += record.length;
    }
    try {
      const data = Buffer.concat(encoded);
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
      this.entriesEnd = position;
      for (const [i, item] of batch.entries()) {
        this.tree.append(item.leafHash);
        this.offsets.push(positions[i]!);
      }
      // The head must be durable before anything at this size is published.
      await this.checkpoints.commit(this.tree.size, rootHash(this.tree, this.tree.size));
    } catch (err) {
      this.failed = err;
      for (const item of batch) item.reject(new StoreFailedError(err));
      return;
    }
    this.committed = this.tree.size;
    const search: Buffer[] = [];
    const stored = batch.map((item, i): StoredEntry => {
      const index = first + i;
      this.leaves.add(item.leafHash, index);
      const records = searchRecords(item.record.searchDigests, index);
      search.push(records);
      const digests = item.record.searchDigests;
      for (let at = 0; at < digests.length; at += SEARCH_DIGEST) {
        this.search.add(digests.subarray(at, at + SEARCH_DIGEST), index);
      }
      return {
        body: item.record.body,
        integratedTime: item.record.integratedTime,
        index,
        leafHash: item.leafHash,
      };
    });
    for (const [i, item] of batch.entries()) item.resolve(stored[i]!);
    try {
      writeSync(this.offsetsFd, this.offsets.bytes(first));
      writeSync(this.searchFd, Buffer.concat(search));
      this.persistDerived();
    } catch {
      // Derived files are reconciled with entries.log on the next open.
    }
  }

  /** Waits for in-flight appends, then releases the files. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.entriesHandle.close();
    await this.checkpoints.close();
    for (const fd of [this.entriesFd, this.offsetsFd, this.searchFd, ...this.levelFds]) closeSync(fd);
  }
}
