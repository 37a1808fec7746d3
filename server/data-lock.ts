// One writer per data folder. Two servers appending to the same entries.log would interleave
// records and sign different trees of the same size. The lock is <data>/server.lock, holding the
// owner's pid, host name, URL and a random nonce; it is created atomically (written to a private
// file, then hard-linked into place, which fails if the lock exists) and removed on clean exit.
//
// A lock whose process is gone (SIGKILL, crash) is stale and taken over, exactly once: the taker
// first hard-links it to server.lock.stale-<its nonce>, a name only one process can create, and
// checks that what it linked is still that stale lock before removing it. Node has no flock(2)
// and native addons are out, so this is built from link(2), which is atomic on local file systems.
// On another host (a shared file system) liveness cannot be checked, and the lock is not taken.
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StartupError } from './errors';

export const LOCK_FILE = 'server.lock';

export interface LockRecord {
  pid: number;
  host: string;
  nonce: string;
  startedAt: string;
  url: string | null;
}

export class DataFolderInUseError extends StartupError {
  constructor(
    readonly dataDir: string,
    message: string,
  ) {
    super('DATA_FOLDER_IN_USE', 4, message);
  }
}

export interface DataLock {
  readonly record: LockRecord;
  /** Records the URL the server listens on, so that a refused second server can name it. */
  setUrl(url: string): void;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readRecord(path: string): LockRecord | null | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const record = JSON.parse(text) as LockRecord;
    if (Number.isInteger(record.pid) && typeof record.nonce === 'string' && typeof record.host === 'string')
      return record;
  } catch {}
  return 'unreadable';
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;

function describe(record: LockRecord): string {
  return `pid ${record.pid}${record.url ? `, ${record.url}` : ''}, started ${record.startedAt}${record.host === hostname() ? '' : ` on ${record.host}`}`;
}

export function acquireDataLock(dataDir: string, onStale: (message: string) => void = () => {}): DataLock {
  const path = join(dataDir, LOCK_FILE);
  const record: LockRecord = {
    pid: process.pid,
    host: hostname(),
    nonce: randomBytes(16).toString('hex'),
    startedAt: new Date().toISOString(),
    url: null,
  };
  const scratch = join(dataDir, `.${LOCK_FILE}.${record.nonce}`);
  const write = (target: string, content: LockRecord) =>
    writeFileSync(target, `${JSON.stringify(content)}\n`, { mode: 0o600 });
  write(scratch, record);
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        linkSync(scratch, path);
        return lockHandle(path, scratch, record, write);
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw err;
      }
      const holder = readRecord(path);
      if (holder === null) continue; // released meanwhile
      if (holder === 'unreadable') {
        throw new DataFolderInUseError(
          dataDir,
          `${path} exists but is not a tollgate-server lock; if no tollgate-server uses ${dataDir}, remove ${path}`,
        );
      }
      if (holder.host !== hostname() || isAlive(holder.pid)) {
        throw new DataFolderInUseError(
          dataDir,
          `the data folder ${dataDir} is in use by another tollgate-server (${describe(holder)}); ` +
            `stop it or give this one another --data. If that process is not a tollgate-server, remove ${path}`,
        );
      }
      const claim = `${path}.stale-${holder.nonce}`;
      try {
        linkSync(path, claim);
      } catch (err) {
        if (errno(err) === 'EEXIST' || errno(err) === 'ENOENT') continue; // another process is taking over
        throw err;
      }
      const claimed = readRecord(claim);
      if (claimed === null || claimed === 'unreadable' || claimed.nonce !== holder.nonce) {
        // The lock changed between reading and linking: what was linked is not the stale lock.
        unlinkSync(claim);
        continue;
      }
      unlinkSync(path);
      unlinkSync(claim);
      onStale(`took over the lock of ${dataDir} from a tollgate-server that is gone (${describe(holder)})`);
    }
    throw new DataFolderInUseError(
      dataDir,
      `could not lock ${dataDir}: ${path} keeps changing; is another server starting?`,
    );
  } finally {
    try {
      unlinkSync(scratch);
    } catch {}
  }
}

function lockHandle(
  path: string,
  scratch: string,
  record: LockRecord,
  write: (target: string, content: LockRecord) => void,
): DataLock {
  let released = false;
  const ours = () => {
    const current = readRecord(path);
    return current !== null && current !== 'unreadable' && current.nonce === record.nonce;
  };
  return {
    record,
    setUrl(url) {
      record.url = url;
      if (released || !ours()) return;
      write(scratch, record);
      renameSync(scratch, path);
    },
    release() {
      if (released) return;
      released = true;
      if (ours()) unlinkSync(path);
    },
  };
}
