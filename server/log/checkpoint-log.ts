// checkpoints.log: every tree head (size, root) the log has committed to, appended and fdatasync'd
// before any checkpoint of that size is signed or any entry of it acknowledged. It is what makes
// the log append-only across crashes and damaged files: on start the entries must still reach
// the latest head and hash to its root, or the server refuses to start (see store.ts), instead of
// signing a different entry at an index it already signed.
//
// Records are fixed-size (magic, size, root, time, CRC-32), so a damaged record is found at its
// slot and cannot hide the ones after it. The only record a crash can leave incomplete is the
// last, appended but never synced, so never published: a short tail, or a last record that is
// all zeros (space allocated, data not written), is dropped. Any other bad record is damage.
import { closeSync, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const MAGIC = 0x54474331; // "TGC1"
export const CHECKPOINT_RECORD = 56; // magic u32, size u64, root 32, signedAt ms u64, crc32 u32
export const CHECKPOINTS_FILE = 'checkpoints.log';

export interface TreeHead {
  size: number;
  root: Buffer;
  /** When the head was committed (ms since the epoch). */
  at: number;
}

export interface CheckpointFileState {
  heads: TreeHead[];
  /** Bytes after the last intact record that a crash left (dropped on open). */
  tornBytes: number;
  /** Record slots that are damaged (not a torn tail): their heads are unknown. */
  damaged: number[];
}

export function encodeHead(head: TreeHead): Buffer {
  const record = Buffer.alloc(CHECKPOINT_RECORD);
  record.writeUInt32LE(MAGIC, 0);
  record.writeBigUInt64LE(BigInt(head.size), 4);
  head.root.copy(record, 12);
  record.writeBigUInt64LE(BigInt(head.at), 44);
  record.writeUInt32LE(crc32(record.subarray(0, 52)), 52);
  return record;
}

function decode(record: Buffer): TreeHead | null {
  if (record.readUInt32LE(0) !== MAGIC || crc32(record.subarray(0, 52)) !== record.readUInt32LE(52))
    return null;
  return {
    size: Number(record.readBigUInt64LE(4)),
    root: Buffer.from(record.subarray(12, 44)),
    at: Number(record.readBigUInt64LE(44)),
  };
}

/** Reads a checkpoints.log (of a live folder or of a copy) without changing it. */
export function readCheckpointFile(path: string): CheckpointFileState {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { heads: [], tornBytes: 0, damaged: [] };
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    const data = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, data, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    let slots = Math.floor(size / CHECKPOINT_RECORD);
    let tornBytes = size % CHECKPOINT_RECORD;
    const lastSlot = data.subarray((slots - 1) * CHECKPOINT_RECORD, slots * CHECKPOINT_RECORD);
    if (slots > 0 && tornBytes === 0 && decode(lastSlot) === null && lastSlot.every((b) => b === 0)) {
      slots--;
      tornBytes = CHECKPOINT_RECORD;
    }
    const heads: TreeHead[] = [];
    const damaged: number[] = [];
    for (let slot = 0; slot < slots; slot++) {
      const head = decode(data.subarray(slot * CHECKPOINT_RECORD, (slot + 1) * CHECKPOINT_RECORD));
      // Heads only grow; one that shrinks is as damaged as one that fails its checksum.
      if (head === null || (heads.length > 0 && head.size < heads[heads.length - 1]!.size))
        damaged.push(slot);
      else heads.push(head);
    }
    return { heads, tornBytes, damaged };
  } finally {
    closeSync(fd);
  }
}

export class CheckpointLog {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private end: number,
    private last: TreeHead | null,
  ) {}

  /**
   * Opens the log's checkpoints.log for appending, after `state` (from readCheckpointFile) was
   * accepted: a torn tail is cut off here.
   */
  static async open(dir: string, state: CheckpointFileState): Promise<CheckpointLog> {
    const path = join(dir, CHECKPOINTS_FILE);
    closeSync(openSync(path, 'a', 0o600)); // create it if missing
    const handle = await open(path, 'r+');
    const end = (state.heads.length + state.damaged.length) * CHECKPOINT_RECORD;
    if (state.tornBytes > 0) {
      const fd = openSync(path, 'r+');
      try {
        ftruncateSync(fd, end);
      } finally {
        closeSync(fd);
      }
    }
    return new CheckpointLog(path, handle, end, state.heads[state.heads.length - 1] ?? null);
  }

  get latest(): TreeHead | null {
    return this.last;
  }

  /** Appends a head and returns once it is on stable storage. */
  async commit(size: number, root: Buffer): Promise<void> {
    const head = { size, root, at: Date.now() };
    const record = encodeHead(head);
    let written = 0;
    while (written < record.length) {
      const { bytesWritten } = await this.handle.write(
        record,
        written,
        record.length - written,
        this.end + written,
      );
      written += bytesWritten;
    }
    await this.handle.datasync();
    this.end += record.length;
    this.last = head;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
