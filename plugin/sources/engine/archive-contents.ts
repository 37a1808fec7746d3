// What a Yarn cache archive holds that a check needs: the package.json identity and the build steps
// (lifecycle scripts, node-gyp for a binding.gyp). Yarn's ZipFS reads an archive whole into libzip's
// memory to answer that (stored zips: half a gigabyte for a real 757-package project); this reads the
// zip's end record and central directory, then package.json alone, for archives laid out exactly as
// Yarn writes them. Anything else (a comment, zip64, a gap before the directory, package.json spelled
// two ways or twice, an entry that does not read back) is read through ZipFS, the way Yarn's linkers
// read it, so an unusual archive never gets a second interpretation.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { posix } from 'node:path';
import * as zlib from 'node:zlib';
import { type Locator, structUtils } from '@yarnpkg/core';
import { npath, type PortablePath, ppath } from '@yarnpkg/fslib';
import { ZipFS } from '@yarnpkg/libzip';
import { buildStepsOf } from '../../../policy/script-approval';
import type { UnpackedManifest } from './check/types';

export interface ArchiveContents {
  manifest: UnpackedManifest;
  /** what Yarn would run to build it (lifecycle scripts, node-gyp for a binding.gyp) */
  buildSteps: string[];
}

const END_RECORD = 0x06054b50;
const END_RECORD_SIZE = 22;
const DIRECTORY_ENTRY = 0x02014b50;
const DIRECTORY_ENTRY_SIZE = 46;
const LOCAL_HEADER = 0x04034b50;
const LOCAL_HEADER_SIZE = 30;
const ZIP64_MARK = 0xffffffff;
const MAX_MANIFEST_BYTES = 8 << 20;
// Node 20.15 and later; without it every archive is read through ZipFS
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** Reads byte ranges of an archive: from a file, or from its bytes already in memory. */
type ReadRange = (offset: number, length: number) => Buffer;

/** The archive at `path` (a Yarn cache zip of `locator`); null when it cannot be read. */
export function readArchiveContents(path: string, locator: Locator): ArchiveContents | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  let fast: ArchiveContents | null | 'irregular';
  try {
    const size = fstatSync(fd).size;
    fast = centralDirectoryContents(
      size,
      (offset, length) => {
        const out = Buffer.alloc(length);
        if (readSync(fd, out, 0, length, offset) !== length) throw new Error('short read');
        return out;
      },
      locator,
    );
  } catch {
    fast = 'irregular';
  } finally {
    closeSync(fd);
  }
  return fast === 'irregular' ? readThroughZipFS(path, locator) : fast;
}

/** The same, from the archive's bytes already in memory (read once to be hashed and read). */
export function readArchiveBytes(bytes: Buffer, path: string, locator: Locator): ArchiveContents | null {
  let fast: ArchiveContents | null | 'irregular';
  try {
    fast = centralDirectoryContents(bytes.length, bytesReader(bytes), locator);
  } catch {
    fast = 'irregular';
  }
  return fast === 'irregular' ? readThroughZipFS(path, locator) : fast;
}

export function bytesReader(bytes: Buffer): ReadRange {
  return (offset, length) => {
    if (offset < 0 || offset + length > bytes.length) throw new Error('out of bounds');
    return bytes.subarray(offset, offset + length);
  };
}

/**
 * Read from the central directory, or 'irregular' when the archive is not laid out as Yarn writes it
 * (throws on a truncated archive: also irregular to the callers).
 */
export function centralDirectoryContents(
  size: number,
  read: ReadRange,
  locator: Locator,
): ArchiveContents | null | 'irregular' {
  if (size < END_RECORD_SIZE) return 'irregular';
  // Yarn writes no archive comment: the end record is the last 22 bytes, where every reader finds it.
  const end = read(size - END_RECORD_SIZE, END_RECORD_SIZE);
  if (end.readUInt32LE(0) !== END_RECORD || end.readUInt16LE(20) !== 0) return 'irregular';
  const disk = end.readUInt16LE(4);
  const directoryDisk = end.readUInt16LE(6);
  const entriesHere = end.readUInt16LE(8);
  const entries = end.readUInt16LE(10);
  const directorySize = end.readUInt32LE(12);
  const directoryOffset = end.readUInt32LE(16);
  if (disk !== 0 || directoryDisk !== 0 || entriesHere !== entries) return 'irregular';
  if (entries === 0xffff || directorySize === ZIP64_MARK || directoryOffset === ZIP64_MARK)
    return 'irregular';
  // the directory sits right before the end record, as Yarn writes it: no bytes between
  if (directoryOffset + directorySize !== size - END_RECORD_SIZE) return 'irregular';
  const directory = read(directoryOffset, directorySize);

  const root = `/${structUtils.getIdentVendorPath(locator)}`;
  const manifestPath = `${root}/package.json`;
  const gypPath = `${root}/binding.gyp`;
  let manifest: { method: number; compressed: number; size: number; offset: number; crc: number } | undefined;
  let hasBindingGyp = false;
  let at = 0;
  for (let i = 0; i < entries; i++) {
    if (at + DIRECTORY_ENTRY_SIZE > directory.length || directory.readUInt32LE(at) !== DIRECTORY_ENTRY)
      return 'irregular';
    const method = directory.readUInt16LE(at + 10);
    const compressed = directory.readUInt32LE(at + 20);
    const uncompressed = directory.readUInt32LE(at + 24);
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const offset = directory.readUInt32LE(at + 42);
    const crc = directory.readUInt32LE(at + 16);
    const next = at + DIRECTORY_ENTRY_SIZE + nameLength + extraLength + commentLength;
    if (next > directory.length) return 'irregular';
    if (compressed === ZIP64_MARK || uncompressed === ZIP64_MARK || offset === ZIP64_MARK) return 'irregular';
    // Names are compared as bytes: a name that is not plain ASCII is never one of the two looked for,
    // however a reader decodes it.
    const name = directory.toString(
      'latin1',
      at + DIRECTORY_ENTRY_SIZE,
      at + DIRECTORY_ENTRY_SIZE + nameLength,
    );
    at = next;
    // Resolving removes segments but never renames the last one: a name that resolves to either
    // file holds its name literally. The rest (thousands of entries in large packages) is skipped.
    if (!name.includes('package.json') && !name.includes('binding.gyp')) continue;
    // ZipFS resolves entry names against the root: `a/./b` and `/a/b` are the file `a/b`.
    const resolved = posix.normalize(`/${name}`).replace(/\/$/, '');
    if (resolved === gypPath || resolved.startsWith(`${gypPath}/`)) hasBindingGyp = true;
    if (resolved === manifestPath) {
      if (manifest || name !== manifestPath.slice(1)) return 'irregular';
      manifest = { method, compressed, size: uncompressed, offset, crc };
    }
  }
  if (at !== directory.length) return 'irregular';
  if (!manifest) return null;
  // a package.json of megabytes is not what Yarn writes either: ZipFS reads it, as the linkers would
  if (manifest.size > MAX_MANIFEST_BYTES || manifest.compressed > MAX_MANIFEST_BYTES) return 'irregular';

  const local = read(manifest.offset, LOCAL_HEADER_SIZE);
  if (local.readUInt32LE(0) !== LOCAL_HEADER) return 'irregular';
  const dataOffset = manifest.offset + LOCAL_HEADER_SIZE + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (dataOffset + manifest.compressed > directoryOffset) return 'irregular';
  const data = read(dataOffset, manifest.compressed);
  let text: Buffer;
  if (manifest.method === 0) text = data;
  else if (manifest.method === 8)
    text = zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, manifest.size) });
  else return 'irregular';
  // libzip checks the CRC when Yarn reads the file: one that does not match is ZipFS's to refuse
  if (text.length !== manifest.size || typeof crc32 !== 'function' || crc32(text) !== manifest.crc)
    return 'irregular';
  try {
    return contentsOf(JSON.parse(text.toString('utf8')), hasBindingGyp);
  } catch {
    return null;
  }
}

/** As Yarn's linkers read it: the archive whole, through ZipFS. */
export function readThroughZipFS(path: string, locator: Locator): ArchiveContents | null {
  let zip: ZipFS | undefined;
  try {
    zip = new ZipFS(npath.toPortablePath(path), { readOnly: true });
    const root = ppath.join('/' as PortablePath, structUtils.getIdentVendorPath(locator));
    const manifest = JSON.parse(zip.readFileSync(ppath.join(root, 'package.json' as PortablePath), 'utf8'));
    return contentsOf(manifest, zip.existsSync(ppath.join(root, 'binding.gyp' as PortablePath)));
  } catch {
    return null;
  } finally {
    zip?.discardAndClose();
  }
}

function contentsOf(manifest: unknown, hasBindingGyp: boolean): ArchiveContents | null {
  // as ZipFS's reader did: `null` has no fields to read; any other JSON value is read field by field
  if (manifest === null || manifest === undefined) return null;
  const { name, version, scripts } = manifest as { name?: unknown; version?: unknown; scripts?: unknown };
  return {
    manifest: { name, version },
    buildSteps: buildStepsOf(
      scripts && typeof scripts === 'object' ? (scripts as Record<string, unknown>) : undefined,
      hasBindingGyp,
    ),
  };
}
