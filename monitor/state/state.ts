// The monitor's memory between runs: per log the last verified checkpoint and how far its entries
// were read (with the compact range that proves it), per package the versions seen, and every
// finding with its delivery. Written atomically (temporary file, fsync, rename, fsync of the folder)
// in one piece, so a crash leaves either the old state or the new one, never a mix: progress and
// the findings it produced are saved together, and a restart neither misses nor repeats an event.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MonitorUsageError } from '../errors';
import type { Finding } from '../findings';

export const STATE_FORMAT = 'tollgate-monitor-state/1';

export interface StoredCheckpoint {
  origin: string;
  size: number;
  /** hex */
  rootHash: string;
  note: string;
}

export interface LogState {
  url: string;
  /** hex id of the log key that signs its checkpoints */
  logId: string;
  /** the latest verified checkpoint: every later one must be consistent with it */
  checkpoint: StoredCheckpoint;
  /** entries [0, verifiedSize) were read and proven to be the prefix of `checkpoint`'s tree */
  verifiedSize: number;
  /** hex hashes of the right edge of [0, verifiedSize), largest subtree first */
  compactRange: string[];
  updatedAt: string;
  /** set while the log is inconsistent with `checkpoint`: the finding that halted it */
  haltedBy?: string;
}

export interface VersionState {
  seenAt: string;
  integrity?: string;
  /** sha256 hex of the DSSE payloads of its attestations (to name the subject of log entries) */
  payloads?: string[];
  /** sha256 hex of the tarball, when the monitor downloaded it */
  tarballSha256?: string;
  /** whether it was judged against the policy (versions present at the first run are a baseline) */
  judged: boolean;
}

export interface PackageState {
  name: string;
  registry: string;
  versions: Record<string, VersionState>;
  updatedAt: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface Delivery {
  status: DeliveryStatus;
  attempts: number;
  lastAttemptAt?: string;
  deliveredAt?: string;
  httpStatus?: number;
  error?: string;
}

export interface FindingRecord {
  finding: Finding;
  firstSeenAt: string;
  /** the webhook delivery; absent when no webhook is configured */
  delivery?: Delivery;
}

export interface MonitorState {
  format: typeof STATE_FORMAT;
  updatedAt: string;
  logs: Record<string, LogState>;
  packages: Record<string, PackageState>;
  findings: Record<string, FindingRecord>;
}

export function emptyState(): MonitorState {
  return { format: STATE_FORMAT, updatedAt: new Date(0).toISOString(), logs: {}, packages: {}, findings: {} };
}

export function packageKey(registry: string, name: string): string {
  return `${registry} ${name}`;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(path: string, why: string): MonitorUsageError {
  return new MonitorUsageError(
    'STATE_INVALID',
    `the state file ${path} is not a tollgate-monitor state (${why}); restore it from a backup, or delete it to start over (the first run then records a new baseline)`,
  );
}

/** Checks the shape of the parts the monitor relies on; a hand-edited or foreign file is refused. */
export function parseState(text: string, path: string): MonitorState {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalid(path, 'not JSON');
  }
  if (!isObject(data) || data['format'] !== STATE_FORMAT)
    throw invalid(path, `"format" is not "${STATE_FORMAT}"`);
  for (const key of ['logs', 'packages', 'findings'])
    if (!isObject(data[key])) throw invalid(path, `"${key}" is not an object`);
  for (const [name, log] of Object.entries(data['logs'] as Record<string, unknown>)) {
    const ok =
      isObject(log) &&
      typeof log['logId'] === 'string' &&
      isObject(log['checkpoint']) &&
      typeof log['checkpoint']['note'] === 'string' &&
      Number.isSafeInteger(log['checkpoint']['size']) &&
      typeof log['checkpoint']['rootHash'] === 'string' &&
      Number.isSafeInteger(log['verifiedSize']) &&
      Array.isArray(log['compactRange']) &&
      log['compactRange'].every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h));
    if (!ok) throw invalid(path, `logs.${name} is damaged`);
  }
  for (const [key, pkg] of Object.entries(data['packages'] as Record<string, unknown>)) {
    if (!isObject(pkg) || !isObject(pkg['versions'])) throw invalid(path, `packages["${key}"] is damaged`);
  }
  for (const [id, record] of Object.entries(data['findings'] as Record<string, unknown>)) {
    if (!isObject(record) || !isObject(record['finding']) || record['finding']['id'] !== id)
      throw invalid(path, `findings["${id}"] is damaged`);
  }
  return data as unknown as MonitorState;
}

export function readState(path: string): MonitorState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw new MonitorUsageError(
      'STATE_INVALID',
      `the state file ${path} cannot be read (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  return parseState(text, path);
}

export function serializeState(state: MonitorState): string {
  return `${JSON.stringify(state, null, 1)}\n`;
}

/** Replaces the state file atomically and durably. */
export function writeState(path: string, state: MonitorState): void {
  const text = serializeState(state);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(temporary, 'w', 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    syncFolder(dirname(path));
  } catch (err) {
    try {
      unlinkSync(temporary);
    } catch {
      // nothing to clean up
    }
    throw unwritable(path, err);
  }
}

function unwritable(path: string, err: unknown): MonitorUsageError {
  return new MonitorUsageError(
    'STATE_UNWRITABLE',
    `the state file ${path} cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check that its folder exists and is writable`,
  );
}

/**
 * writeState without holding the thread: the same atomic, durable replacement, its fsyncs awaited.
 * A catch-up saves its progress after every segment; on a busy disk each fsync can take a second,
 * which a synchronous write spent with the reading stopped. The text is taken when called, so later
 * changes to `state` do not reach this write. Callers must not run two at once for one path.
 */
export async function writeStateAsync(path: string, state: MonitorState): Promise<void> {
  const text = serializeState(state);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const file = await open(temporary, 'w', 0o644);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
    await syncFolderAsync(dirname(path));
  } catch (err) {
    await unlink(temporary).catch(() => undefined);
    throw unwritable(path, err);
  }
}

async function syncFolderAsync(dir: string): Promise<void> {
  const folder = await open(dir, 'r').catch(() => undefined);
  if (!folder) return;
  try {
    await folder.sync();
  } catch {
    // Some file systems refuse fsync on folders; the rename is still atomic there.
  } finally {
    await folder.close();
  }
}

function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on folders; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
