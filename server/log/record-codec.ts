// The record format of entries.log: a 12-byte header (magic "TGE1", payload length, CRC-32 of
// the payload) and a payload of u32 body length, body, then JSON metadata (integrated time and
// search keys). Scanning stops at the first record that is incomplete or fails its checksum:
// everything before it is intact, nothing after it is trusted.
import { readSync } from 'node:fs';
import { crc32 } from 'node:zlib';

const MAGIC = 0x54474531; // "TGE1"
export const RECORD_HEADER = 12;
export const MAX_RECORD = 16 * 1024 * 1024;

export interface LogRecord {
  /** The exact bytes that become the Merkle leaf (Rekor's canonical body, a CT MerkleTreeLeaf). */
  body: Buffer;
  /** Seconds since the epoch when the log integrated the entry. */
  integratedTime: number;
  /** Strings under which the entry can be found again (artifact digests, signer identities). */
  searchKeys: string[];
}

export function encodeRecord(record: LogRecord): Buffer {
  const meta = Buffer.from(JSON.stringify({ t: record.integratedTime, k: record.searchKeys }), 'utf8');
  const payload = Buffer.alloc(4 + record.body.length + meta.length);
  payload.writeUInt32LE(record.body.length, 0);
  record.body.copy(payload, 4);
  meta.copy(payload, 4 + record.body.length);
  const header = Buffer.alloc(RECORD_HEADER);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(payload.length, 4);
  header.writeUInt32LE(crc32(payload), 8);
  return Buffer.concat([header, payload]);
}

/**
 * Decodes a payload whose checksum matched; null if its structure is still wrong. With
 * `copyBody` false the body is a view into `payload`, valid only as long as that buffer is.
 */
export function decodePayload(payload: Buffer, copyBody = true): LogRecord | null {
  if (payload.length < 4) return null;
  const bodyLength = payload.readUInt32LE(0);
  if (bodyLength > payload.length - 4) return null;
  try {
    const meta = JSON.parse(payload.subarray(4 + bodyLength).toString('utf8')) as { t: unknown; k: unknown };
    if (!Number.isInteger(meta.t) || !Array.isArray(meta.k) || !meta.k.every((k) => typeof k === 'string'))
      return null;
    return {
      body: copyBody ? Buffer.from(payload.subarray(4, 4 + bodyLength)) : payload.subarray(4, 4 + bodyLength),
      integratedTime: meta.t as number,
      searchKeys: meta.k as string[],
    };
  } catch {
    return null;
  }
}

function headerLength(header: Buffer): number | null {
  if (header.readUInt32LE(0) !== MAGIC) return null;
  const length = header.readUInt32LE(4);
  return length > MAX_RECORD ? null : length;
}

/** The record at `offset` if it lies wholly before `limit` and its checksum matches. */
export function readRecordAt(
  fd: number,
  offset: number,
  limit: number,
): { payload: Buffer; end: number } | null {
  if (offset + RECORD_HEADER > limit) return null;
  const header = Buffer.alloc(RECORD_HEADER);
  readSync(fd, header, 0, RECORD_HEADER, offset);
  const length = headerLength(header);
  if (length === null || offset + RECORD_HEADER + length > limit) return null;
  const payload = Buffer.alloc(length);
  readSync(fd, payload, 0, length, offset + RECORD_HEADER);
  if (crc32(payload) !== header.readUInt32LE(8)) return null;
  return { payload, end: offset + RECORD_HEADER + length };
}

const CHUNK = 8 * 1024 * 1024;

/**
 * Reads records from the start of the file in large sequential chunks and calls `onRecord` for
 * each intact one, in order (its body is only valid during the call). Returns the offset where the
 * intact prefix ends (the file size when every record is intact).
 */
export function scanRecords(
  fd: number,
  fileSize: number,
  onRecord: (record: LogRecord, offset: number, end: number) => void,
): number {
  let buffer = Buffer.alloc(Math.min(CHUNK, Math.max(fileSize, RECORD_HEADER)));
  let bufferStart = 0; // file offset of buffer[0]
  let bufferEnd = 0; // file offset just past the valid bytes in buffer
  const ensure = (from: number, to: number): boolean => {
    if (to > fileSize) return false;
    if (from >= bufferStart && to <= bufferEnd) return true;
    const wanted = Math.max(to - from, Math.min(CHUNK, fileSize - from));
    if (buffer.length < wanted) buffer = Buffer.alloc(wanted);
    const length = Math.min(buffer.length, fileSize - from);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, buffer, read, length - read, from + read);
      if (n === 0) break;
      read += n;
    }
    bufferStart = from;
    bufferEnd = from + read;
    return to <= bufferEnd;
  };
  let position = 0;
  while (position < fileSize) {
    if (!ensure(position, position + RECORD_HEADER)) break;
    const header = buffer.subarray(position - bufferStart, position - bufferStart + RECORD_HEADER);
    const length = headerLength(header);
    if (length === null) break;
    const end = position + RECORD_HEADER + length;
    const crc = header.readUInt32LE(8);
    if (!ensure(position, end)) break;
    const payload = buffer.subarray(position + RECORD_HEADER - bufferStart, end - bufferStart);
    if (crc32(payload) !== crc) break;
    const record = decodePayload(payload, false);
    if (!record) break;
    onRecord(record, position, end);
    position = end;
  }
  return position;
}
