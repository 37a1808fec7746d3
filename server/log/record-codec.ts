// The record format of entries.log: a 12-byte header (magic, payload length, CRC-32 of the
// payload) and a payload of u32 body length and body, then the metadata: in "TGE2" records the
// integrated time (u32 low, u32 high) and the SHA-256 digests of the search keys (u16 count, 32
// bytes each), so that a restart rebuilds the search index without hashing or parsing anything;
// in "TGE1" records (folders written before) a JSON object {t, k: [keys]}. Scanning stops at the
// first record that is incomplete or fails its checksum: everything before it is intact, nothing
// after it is trusted.
import { createHash, hash } from 'node:crypto';
import { readSync } from 'node:fs';
import { crc32 } from 'node:zlib';

const MAGIC_V1 = 0x54474531; // "TGE1"
const MAGIC_V2 = 0x54474532; // "TGE2"
export const RECORD_HEADER = 12;
export const MAX_RECORD = 16 * 1024 * 1024;
export const SEARCH_DIGEST = 32;
const MAX_KEYS = 0xffff;

export interface LogRecord {
  /** The exact bytes that become the Merkle leaf (Rekor's canonical body, a CT MerkleTreeLeaf). */
  body: Buffer;
  /** Seconds since the epoch when the log integrated the entry. */
  integratedTime: number;
  /** SHA-256 of each string under which the entry can be found again, concatenated. */
  searchDigests: Buffer;
}

export function searchDigest(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

export function searchDigests(keys: string[]): Buffer {
  if (keys.length > MAX_KEYS) throw new RangeError(`at most ${MAX_KEYS} search keys per entry`);
  return Buffer.concat(keys.map(searchDigest));
}

export function encodeRecord(record: LogRecord): Buffer {
  const { body, integratedTime, searchDigests: digests } = record;
  const payloadLength = 4 + body.length + 8 + 2 + digests.length;
  const out = Buffer.alloc(RECORD_HEADER + payloadLength);
  const payload = out.subarray(RECORD_HEADER);
  payload.writeUInt32LE(body.length, 0);
  body.copy(payload, 4);
  let at = 4 + body.length;
  payload.writeUInt32LE(integratedTime % 2 ** 32, at);
  payload.writeUInt32LE(Math.floor(integratedTime / 2 ** 32), at + 4);
  payload.writeUInt16LE(digests.length / SEARCH_DIGEST, at + 8);
  at += 10;
  digests.copy(payload, at);
  out.writeUInt32LE(MAGIC_V2, 0);
  out.writeUInt32LE(payloadLength, 4);
  out.writeUInt32LE(crc32(payload), 8);
  return out;
}

function decodeV1Meta(meta: Buffer): { integratedTime: number; searchDigests: Buffer } | null {
  try {
    const parsed = JSON.parse(meta.toString('utf8')) as { t: unknown; k: unknown };
    if (
      !Number.isInteger(parsed.t) ||
      !Array.isArray(parsed.k) ||
      !parsed.k.every((k) => typeof k === 'string')
    )
      return null;
    const digests = (parsed.k as string[]).map((k) => createHash('sha256').update(k, 'utf8').digest());
    return { integratedTime: parsed.t as number, searchDigests: Buffer.concat(digests) };
  } catch {
    return null;
  }
}

/**
 * Decodes a payload whose checksum matched; null if its structure is still wrong. With
 * `copyBody` false the body and digests are views into `payload`, valid only as long as it is.
 */
export function decodePayload(magic: number, payload: Buffer, copyBody = true): LogRecord | null {
  if (payload.length < 4) return null;
  const bodyLength = payload.readUInt32LE(0);
  if (bodyLength > payload.length - 4) return null;
  const body = copyBody
    ? Buffer.from(payload.subarray(4, 4 + bodyLength))
    : payload.subarray(4, 4 + bodyLength);
  const metaStart = 4 + bodyLength;
  if (magic === MAGIC_V1) {
    const meta = decodeV1Meta(payload.subarray(metaStart));
    return meta ? { body, ...meta } : null;
  }
  if (payload.length < metaStart + 10) return null;
  const integratedTime = payload.readUInt32LE(metaStart) + payload.readUInt32LE(metaStart + 4) * 2 ** 32;
  const count = payload.readUInt16LE(metaStart + 8);
  if (payload.length !== metaStart + 10 + count * SEARCH_DIGEST) return null;
  const digests = payload.subarray(metaStart + 10);
  return { body, integratedTime, searchDigests: copyBody ? Buffer.from(digests) : digests };
}

function headerLength(header: Buffer): number | null {
  const magic = header.readUInt32LE(0);
  if (magic !== MAGIC_V1 && magic !== MAGIC_V2) return null;
  const length = header.readUInt32LE(4);
  return length > MAX_RECORD ? null : length;
}

/** The record at `offset` if it lies wholly before `limit` and its checksum matches. */
export function readRecordAt(
  fd: number,
  offset: number,
  limit: number,
): { magic: number; payload: Buffer; end: number } | null {
  if (offset + RECORD_HEADER > limit) return null;
  const header = Buffer.alloc(RECORD_HEADER);
  readSync(fd, header, 0, RECORD_HEADER, offset);
  const length = headerLength(header);
  if (length === null || offset + RECORD_HEADER + length > limit) return null;
  const payload = Buffer.alloc(length);
  readSync(fd, payload, 0, length, offset + RECORD_HEADER);
  if (crc32(payload) !== header.readUInt32LE(8)) return null;
  return { magic: header.readUInt32LE(0), payload, end: offset + RECORD_HEADER + length };
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
    const magic = header.readUInt32LE(0);
    const crc = header.readUInt32LE(8); // read before ensure() may refill the buffer under `header`
    if (!ensure(position, end)) break;
    const payload = buffer.subarray(position + RECORD_HEADER - bufferStart, end - bufferStart);
    if (crc32(payload) !== crc) break;
    const record = decodePayload(magic, payload, false);
    if (!record) break;
    onRecord(record, position, end);
    position = end;
  }
  return position;
}
