// DSSE envelopes kept beside the transparency log, so that the web page can show the in-toto
// statement an entry signed (Rekor's dsse body holds only the envelope's and payload's hashes).
// Nothing here is part of the log or trusted: every read is checked against the envelopeHash of the
// entry's logged body (by the caller, and again by the page in the browser), and an envelope that
// is missing or does not match is reported as not stored. A crash may lose the last envelopes
// written (they are not fsync'd); the log itself is unaffected.
//
// Files (in the log's folder): envelopes.dat holds the envelopes back to back; envelopes.idx holds
// one 16-byte record per envelope: u32 entry index, u32 length, u64 offset into envelopes.dat
// (little-endian). On open only the index is read (16 MB for a million envelopes).
import { closeSync, existsSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const RECORD = 16;
/** Envelopes larger than this are not kept (their statements are not shown). */
export const MAX_KEPT_ENVELOPE = 1024 * 1024;

export class EnvelopeStore {
  private readonly dataFd: number;
  private readonly indexFd: number;
  private dataEnd: number;
  /** Per entry index: offset into envelopes.dat, or -1. */
  private offsets = new Float64Array(1024).fill(-1);
  private lengths = new Uint32Array(1024);
  private closed = false;

  private constructor(dir: string) {
    this.dataFd = openSync(
      join(dir, 'envelopes.dat'),
      existsSync(join(dir, 'envelopes.dat')) ? 'r+' : 'w+',
      0o600,
    );
    this.indexFd = openSync(join(dir, 'envelopes.idx'), 'a+', 0o600);
    this.dataEnd = fstatSync(this.dataFd).size;
    const indexSize = fstatSync(this.indexFd).size;
    const whole = indexSize - (indexSize % RECORD);
    const bytes = Buffer.alloc(whole);
    let read = 0;
    while (read < whole) {
      const n = readSync(this.indexFd, bytes, read, whole - read, read);
      if (n === 0) break;
      read += n;
    }
    for (let at = 0; at + RECORD <= read; at += RECORD) {
      const index = bytes.readUInt32LE(at);
      const length = bytes.readUInt32LE(at + 4);
      const offset = Number(bytes.readBigUInt64LE(at + 8));
      // A record pointing past the data (a torn write) is ignored.
      if (offset + length <= this.dataEnd) this.remember(index, offset, length);
    }
  }

  static open(logDir: string): EnvelopeStore {
    return new EnvelopeStore(logDir);
  }

  private remember(index: number, offset: number, length: number): void {
    if (index >= this.offsets.length) {
      let size = this.offsets.length;
      while (size <= index) size *= 2;
      const offsets = new Float64Array(size).fill(-1);
      offsets.set(this.offsets);
      const lengths = new Uint32Array(size);
      lengths.set(this.lengths);
      this.offsets = offsets;
      this.lengths = lengths;
    }
    this.offsets[index] = offset;
    this.lengths[index] = length;
  }

  has(index: number): boolean {
    return index < this.offsets.length && this.offsets[index]! >= 0;
  }

  /** Keeps the envelope of entry `index` (once; later calls for the same entry are ignored). */
  put(index: number, envelope: string): void {
    if (this.closed || this.has(index)) return;
    const data = Buffer.from(envelope, 'utf8');
    if (data.length === 0 || data.length > MAX_KEPT_ENVELOPE) return;
    const offset = this.dataEnd;
    writeSync(this.dataFd, data, 0, data.length, offset);
    this.dataEnd += data.length;
    const record = Buffer.alloc(RECORD);
    record.writeUInt32LE(index, 0);
    record.writeUInt32LE(data.length, 4);
    record.writeBigUInt64LE(BigInt(offset), 8);
    writeSync(this.indexFd, record);
    this.remember(index, offset, data.length);
  }

  /** The stored envelope text of entry `index`, unchecked: compare it with the logged hash. */
  get(index: number): string | undefined {
    if (this.closed || !this.has(index)) return undefined;
    const length = this.lengths[index]!;
    const out = Buffer.alloc(length);
    const n = readSync(this.dataFd, out, 0, length, this.offsets[index]!);
    return n === length ? out.toString('utf8') : undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.dataFd);
    closeSync(this.indexFd);
  }
}
