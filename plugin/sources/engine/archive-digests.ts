// The sha512 of a cache archive and what a check reads from it (archive-contents.ts), remembered by the
// file's identity so that commands reading yarn.lock (audit) do not read and hash every archive of the
// cache on every run: on a real 757-package project that is half a gigabyte of stored zips, most of an
// offline audit.
//
// A remembered reading is used only while the file is provably the one that was hashed: same device,
// inode, size, modification and status-change times. The status-change time cannot be set by anyone
// but the kernel (every write, rename or utimes moves it to the current time), so an archive replaced
// or rewritten since carries another one. A file changed in the last seconds before it was hashed is
// not remembered (timestamps are coarser than a write: the racy case git's index also avoids). The
// document is authenticated with the per-user key, so a planted one reads as empty.
import { createHash } from 'node:crypto';
import { type BigIntStats, createReadStream, existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ArchiveContents } from './archive-contents';
import { AuthenticatedStore } from './authenticated-store';

interface Entry {
  /** dev, ino, size, mtimeNs, ctimeNs of the file when it was hashed */
  file: string[];
  /** sha512 hex of its bytes */
  digest: string;
  /** the package folder inside the archive the contents were read from, and what they were */
  root?: string;
  contents?: ArchiveContents;
}

interface DigestsDocument {
  format: 'tollgate-archive-digests-v1';
  project: string;
  entries: Record<string, Entry>;
}

/** A change this recent may share its timestamps with a later one: such a file is hashed each time. */
const RACY_NS = 2_000_000_000n;

function identityOf(stats: BigIntStats): string[] {
  return [stats.dev, stats.ino, stats.size, stats.mtimeNs, stats.ctimeNs].map(String);
}

export interface ArchiveReading {
  bytes: Buffer;
  /** sha512 hex of `bytes` */
  digest: string;
  /** the file's identity, when it was still while read and settled before: it may be remembered */
  file?: string[];
}

const sameFile = (a: string[], b: string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

async function streamDigest(path: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// The early hashes run on a thread of their own: Yarn's thread is busy during the fetch step, and the
// archives are hundreds of megabytes. The worker reads the file itself (nothing is copied to it).
const HASHER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
parentPort.on('message', async ({ id, path }) => {
  try {
    const hash = createHash('sha512');
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk);
    parentPort.postMessage({ id, digest: hash.digest('hex') });
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

interface Hasher {
  worker: Worker;
  pending: Map<number, { resolve: (digest: string) => void; reject: (err: Error) => void }>;
  next: number;
}

const HASHER = Symbol.for('tollgate.archive-digests.hasher');

/** The digest of the file at `path`, computed on the hasher thread (on this one if it cannot start). */
function digestOffThread(path: string): Promise<string> {
  const holder = globalThis as unknown as Record<symbol, Hasher | null | undefined>;
  if (holder[HASHER] === undefined) {
    try {
      const worker = new Worker(HASHER_SOURCE, { eval: true });
      const hasher: Hasher = { worker, pending: new Map(), next: 0 };
      worker.unref();
      worker.on('message', ({ id, digest, error }: { id: number; digest?: string; error?: string }) => {
        const waiting = hasher.pending.get(id);
        hasher.pending.delete(id);
        if (hasher.pending.size === 0) worker.unref();
        if (digest !== undefined) waiting?.resolve(digest);
        else waiting?.reject(new Error(error ?? 'the hasher thread failed'));
      });
      worker.on('error', (err) => {
        for (const waiting of hasher.pending.values()) waiting.reject(err);
        hasher.pending.clear();
        holder[HASHER] = null;
      });
      holder[HASHER] = hasher;
    } catch {
      holder[HASHER] = null;
    }
  }
  const hasher = holder[HASHER];
  if (!hasher) return streamDigest(path);
  return new Promise((resolve, reject) => {
    const id = hasher.next++;
    hasher.pending.set(id, { resolve, reject });
    hasher.worker.ref();
    hasher.worker.postMessage({ id, path });
  });
}

interface EarlyHash {
  timer?: NodeJS.Timeout;
  /** the file when its reading started, and when that was */
  before?: BigIntStats;
  startedNs?: bigint;
  digest?: Promise<string>;
}

const EARLY = Symbol.for('tollgate.archive-digests.early');

function earlyHashes(): Map<string, EarlyHash> {
  const holder = globalThis as unknown as Record<symbol, Map<string, EarlyHash> | undefined>;
  holder[EARLY] ??= new Map();
  return holder[EARLY];
}

/**
 * Starts hashing an archive Yarn does not validate (a conditional package's) as soon as Yarn's fetch
 * step has it in the cache, so the gate after that step finds the digest made (`hash` takes it up).
 * The reading starts only once the file is settled (its last change more than RACY_NS ago): a write
 * after that start then moves the file's status-change time, so the identity `hash` compares at the
 * gate tells such a file apart and it is hashed again there.
 */
export function hashEarly(path: string, settledNs = RACY_NS): void {
  const hashes = earlyHashes();
  if (hashes.has(path)) return;
  let stats: BigIntStats;
  try {
    stats = statSync(path, { bigint: true });
  } catch {
    return;
  }
  const entry: EarlyHash = {};
  const start = () => {
    entry.timer = undefined;
    try {
      entry.before = statSync(path, { bigint: true });
    } catch {
      return;
    }
    entry.startedNs = nowNs();
    entry.digest = digestOffThread(path);
    // a failed reading is hashed again by `hash`, which reports its own error
    entry.digest.catch(() => {});
  };
  const wait = settledNs - (nowNs() - stats.ctimeNs);
  if (wait <= 0n) start();
  else {
    entry.timer = setTimeout(start, Number(wait / 1_000_000n) + 1);
    entry.timer.unref();
  }
  hashes.set(path, entry);
}

/** The early digest of `path` if it provably is that of the file there now (see hashEarly). */
async function takeEarly(
  path: string,
  settledNs: bigint,
): Promise<{ digest: string; before: BigIntStats } | null> {
  const hashes = earlyHashes();
  const entry = hashes.get(path);
  if (!entry) return null;
  hashes.delete(path);
  if (entry.timer) clearTimeout(entry.timer);
  if (!entry.digest || !entry.before || entry.startedNs === undefined) return null;
  let digest: string;
  try {
    digest = await entry.digest;
  } catch {
    return null;
  }
  if (entry.startedNs - entry.before.ctimeNs <= settledNs) return null;
  let now: BigIntStats;
  try {
    now = statSync(path, { bigint: true });
  } catch {
    return null;
  }
  return sameFile(identityOf(entry.before), identityOf(now)) ? { digest, before: entry.before } : null;
}

export class ArchiveDigests {
  private readonly store: AuthenticatedStore;
  private readonly name: string;
  private entries: Map<string, Entry> | null = null;
  private dirty = false;

  constructor(
    cacheFolder: string,
    secret: Buffer,
    private readonly project: string,
    /** how long after its last change a file counts as settled (tests shorten it) */
    private readonly settledNs = RACY_NS,
  ) {
    this.store = new AuthenticatedStore(join(cacheFolder, 'archive-digests'), secret);
    this.name = createHash('sha256').update(project).digest('hex').slice(0, 32);
  }

  private load(): Map<string, Entry> {
    if (this.entries) return this.entries;
    this.entries = new Map();
    const doc = this.store.read<DigestsDocument>(this.name);
    if (doc?.format === 'tollgate-archive-digests-v1' && doc.project === this.project) {
      for (const [path, entry] of Object.entries(doc.entries ?? {})) {
        if (Array.isArray(entry?.file) && typeof entry.digest === 'string') this.entries.set(path, entry);
      }
    }
    return this.entries;
  }

  /**
   * What was read from the archive at `path` (package folder `root`) when it was hashed, if it is
   * still that very file; null otherwise (it is then read again).
   */
  remembered(path: string, root: string): { digest: string; contents: ArchiveContents } | null {
    const entry = this.still(path);
    if (!entry?.contents || entry.root !== root) return null;
    return { digest: entry.digest, contents: entry.contents };
  }

  /** The archive's digest if it is the very file hashed before; null otherwise. */
  rememberedDigest(path: string): string | null {
    return this.still(path)?.digest ?? null;
  }

  private still(path: string): Entry | null {
    const entry = this.load().get(path);
    if (!entry) return null;
    let stats: BigIntStats;
    try {
      stats = statSync(path, { bigint: true });
    } catch {
      return null;
    }
    return sameFile(identityOf(stats), entry.file) ? entry : null;
  }

  /**
   * Hashes the archive as a stream (archives of native packages are hundreds of megabytes) and
   * remembers its digest when the file was still and settled.
   */
  async hash(path: string): Promise<string> {
    const early = await takeEarly(path, this.settledNs);
    const before = early?.before ?? statSync(path, { bigint: true });
    // on the hasher thread too: what the fetch step left unhashed is hashed while the gate goes on
    const digest = early?.digest ?? (await digestOffThread(path));
    const file = this.settledIdentity(path, before);
    if (file) {
      this.load().set(path, { file, digest });
      this.dirty = true;
    }
    return digest;
  }

  private settledIdentity(path: string, before: BigIntStats): string[] | undefined {
    const after = statSync(path, { bigint: true });
    const file = identityOf(after);
    const settled = BigInt(Date.now()) * 1_000_000n - after.ctimeNs > this.settledNs;
    return sameFile(identityOf(before), file) && settled ? file : undefined;
  }

  /** Reads and hashes the archive, noting whether it was still and settled (so it may be remembered). */
  async read(path: string): Promise<ArchiveReading> {
    const before = statSync(path, { bigint: true });
    const bytes = await readFile(path);
    const digest = createHash('sha512').update(bytes).digest('hex');
    const file = this.settledIdentity(path, before);
    const whole = file !== undefined && BigInt(bytes.length) === before.size;
    return { bytes, digest, ...(whole ? { file } : {}) };
  }

  /**
   * What was read from the archive at `path` when its digest was `digest`, if it is still that very
   * file (for an archive whose digest Yarn computed in this process: rememberValidated).
   */
  knownContents(path: string, root: string, digest: string): ArchiveContents | null {
    const entry = this.still(path);
    return entry?.contents && entry.root === root && entry.digest === digest ? entry.contents : null;
  }

  /**
   * Keeps what was read from an archive whose digest Yarn computed in this process (its fetch step
   * hashes every archive it links against yarn.lock), under the file's identity: only for a file that
   * has not changed since before this process started (`before`, its stat ahead of the reading, and
   * the stat after must be that one file), so the bytes Yarn hashed are the bytes read.
   */
  rememberValidated(
    path: string,
    root: string,
    digest: string,
    contents: ArchiveContents,
    before: BigIntStats,
    processStartNs: bigint,
  ): void {
    let after: BigIntStats;
    try {
      after = statSync(path, { bigint: true });
    } catch {
      return;
    }
    const file = identityOf(after);
    if (!sameFile(identityOf(before), file) || after.ctimeNs > processStartNs - this.settledNs) return;
    this.load().set(path, { file, digest, root, contents });
    this.dirty = true;
  }

  /** Keeps what was read from a reading's bytes, for the next run. */
  remember(path: string, root: string, reading: ArchiveReading, contents: ArchiveContents): void {
    if (!reading.file) return;
    this.load().set(path, { file: reading.file, digest: reading.digest, root, contents });
    this.dirty = true;
  }

  /** Best effort, once per run: a failed write only costs hashing next time. */
  flush(): void {
    if (!this.dirty || !this.entries) return;
    this.dirty = false;
    const doc: DigestsDocument = {
      format: 'tollgate-archive-digests-v1',
      project: this.project,
      // archives no longer in the cache are forgotten
      entries: Object.fromEntries([...this.entries].filter(([path]) => existsSync(path))),
    };
    this.store.write(this.name, doc);
  }
}
