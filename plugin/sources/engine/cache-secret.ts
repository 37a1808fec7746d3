// The key that authenticates Tollgate's caches (install verdicts, local lockfile bindings, verification
// verdicts). What those caches hold is believed on this machine without re-deriving it, so whoever can
// write the key can make Tollgate believe anything. The cache folder itself can be chosen by the
// repository (`tollgateCacheFolder`, `globalFolder` in .yarnrc.yml) and filled by a restored CI cache,
// so the key never lives there: it lives in a per-user state folder, created 0600 inside a 0700
// folder, and a key file owned by someone else or readable by others is refused, not used.
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';

export const SECRET_BYTES = 32;

export class CacheSecretProblem extends Error {}

/** Where the per-user key lives: the platform's per-user state folder, never a project's. */
export function stateFolder(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'win32') {
    return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'tollgate');
  }
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'tollgate');
  const xdg = env.XDG_STATE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'state'), 'tollgate');
}

const checksModes = process.platform !== 'win32';
const uid = () => (typeof process.getuid === 'function' ? process.getuid() : -1);

function refuseLoose(path: string, kind: 'file' | 'folder', stat: { uid: number; mode: number }) {
  if (!checksModes) return;
  if (stat.uid !== uid()) {
    throw new CacheSecretProblem(
      `the cache key ${kind} ${path} belongs to user ${stat.uid}, not to you (${uid()}); Tollgate will not trust caches authenticated by someone else's key. Remove it (it is re-created) or run as its owner`,
    );
  }
  const loose = kind === 'file' ? stat.mode & 0o077 : stat.mode & 0o022;
  if (loose) {
    throw new CacheSecretProblem(
      `the cache key ${kind} ${path} is ${kind === 'file' ? 'readable or writable' : 'writable'} by others (mode ${(stat.mode & 0o777).toString(8)}); anyone who can read or replace it can forge Tollgate's cached verdicts. Remove it (it is re-created) or chmod ${kind === 'file' ? '600' : '700'} it`,
    );
  }
}

/** Reads the per-user cache key, creating it on first use. Throws CacheSecretProblem when it cannot be trusted. */
export function loadCacheSecret(folder = stateFolder()): Buffer {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  refuseLoose(folder, 'folder', statSync(folder));
  const path = join(folder, 'cache.key');
  try {
    writeFileSync(path, randomBytes(SECRET_BYTES), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new CacheSecretProblem(`the cache key ${path} cannot be created: ${(err as Error).message}`);
    }
  }
  const fd = openSync(path, 'r');
  try {
    refuseLoose(path, 'file', fstatSync(fd));
    const key = Buffer.alloc(SECRET_BYTES);
    const read = readSync(fd, key, 0, SECRET_BYTES, 0);
    if (read < SECRET_BYTES) {
      throw new CacheSecretProblem(
        `the cache key ${path} is truncated (${read} bytes); remove it and it is re-created`,
      );
    }
    return key;
  } finally {
    closeSync(fd);
  }
}

/** Best effort: tighten a folder Tollgate creates for its caches (the key is what protects them). */
export function privateFolder(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  try {
    chmodSync(path, 0o700);
  } catch {}
}

/** True when `inner` is `outer` or lies below it. */
export function isInside(inner: string, outer: string): boolean {
  const rel = relative(resolve(outer), resolve(inner));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
