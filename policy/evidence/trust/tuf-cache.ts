// The on-disk cache of one TUF repository: tuf-js's own metadata folder (root.json, timestamp.json,
// snapshot.json, targets.json) and target folder, plus state.json, which records the sha256 of every
// file as tuf-js last verified it and when the repository was last reached, authenticated with
// HMAC-SHA256 under the per-user cache key.
//
// tuf-js trusts the root.json it finds in its metadata folder as the start of the chain, and a cache
// folder is a hostile input (a restored CI cache, a shared folder). So before tuf-js sees the folder,
// every file is checked against the authenticated state: an unauthenticated state or a changed root.json
// resets the folder to the committed (or embedded) root; any other changed file is removed, and tuf-js
// fetches it again (and checks it against the signed metadata, as it always does).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TufError } from './tuf-error';

const FORMAT = 'tollgate-tuf-cache-v1';

export interface TufCacheState {
  format: typeof FORMAT;
  metadataUrl: string;
  /** sha256 of the root.json the chain starts from */
  anchor: string;
  /** when the repository was last refreshed online and verified */
  verifiedAt: string;
  /** sha256 of each file (metadata/<name> or targets/<name>) as last verified */
  files: Record<string, string>;
}

export interface TufCacheFolder {
  dir: string;
  metadataDir: string;
  targetDir: string;
  /** the authenticated state, or null when there is none (first use, or it did not authenticate) */
  state: TufCacheState | null;
  /** what was found wrong and thrown away, for a notice */
  rejected: string[];
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** The cache folder of one repository and anchor: a new committed root.json starts a new chain. */
export function tufCacheDir(cacheRoot: string, metadataUrl: string, anchor: Buffer): string {
  return join(cacheRoot, 'tuf', sha256(`${metadataUrl}\0${sha256(anchor)}`).slice(0, 32));
}

function mac(secret: Buffer, state: TufCacheState): string {
  return createHmac('sha256', secret)
    .update(JSON.stringify([state.format, state.metadataUrl, state.anchor, state.verifiedAt]))
    .update(JSON.stringify(Object.entries(state.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))
    .digest('hex');
}

function readState(dir: string, secret: Buffer, metadataUrl: string, anchorDigest: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
  } catch {
    return null;
  }
  const s = raw as Partial<TufCacheState> & { mac?: unknown };
  if (
    s?.format !== FORMAT ||
    s.metadataUrl !== metadataUrl ||
    s.anchor !== anchorDigest ||
    typeof s.verifiedAt !== 'string' ||
    typeof s.mac !== 'string' ||
    !s.files ||
    typeof s.files !== 'object' ||
    Object.values(s.files).some((v) => typeof v !== 'string')
  ) {
    return null;
  }
  const state: TufCacheState = {
    format: FORMAT,
    metadataUrl,
    anchor: anchorDigest,
    verifiedAt: s.verifiedAt,
    files: { ...(s.files as Record<string, string>) },
  };
  const expected = Buffer.from(mac(secret, state), 'hex');
  const given = Buffer.from(s.mac, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  if (Number.isNaN(Date.parse(state.verifiedAt))) return null;
  return state;
}

function listFiles(folder: TufCacheFolder): string[] {
  const out: string[] = [];
  for (const [sub, dir] of [
    ['metadata', folder.metadataDir],
    ['targets', folder.targetDir],
  ] as const) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) out.push(`${sub}/${name}`);
  }
  return out;
}

function pathOf(folder: TufCacheFolder, file: string): string {
  return join(folder.dir, file);
}

function reset(folder: TufCacheFolder, anchor: Buffer): void {
  rmSync(folder.metadataDir, { recursive: true, force: true });
  rmSync(folder.targetDir, { recursive: true, force: true });
  rmSync(join(folder.dir, 'state.json'), { force: true });
  mkdirSync(folder.metadataDir, { recursive: true, mode: 0o700 });
  mkdirSync(folder.targetDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(folder.metadataDir, 'root.json'), anchor, { mode: 0o600 });
  folder.state = null;
}

/**
 * Opens (creating if needed) the cache of one repository, keeping only what the authenticated state
 * vouches for. Never trusts a file it cannot authenticate.
 */
export function openTufCache(
  cacheRoot: string,
  metadataUrl: string,
  anchor: Buffer,
  secret: Buffer,
): TufCacheFolder {
  const dir = tufCacheDir(cacheRoot, metadataUrl, anchor);
  const folder: TufCacheFolder = {
    dir,
    metadataDir: join(dir, 'metadata'),
    targetDir: join(dir, 'targets'),
    state: null,
    rejected: [],
  };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const state = readState(dir, secret, metadataUrl, sha256(anchor));
    if (!state) {
      if (existsSync(join(dir, 'state.json'))) folder.rejected.push('state.json (not authentic)');
      reset(folder, anchor);
      return folder;
    }
    folder.state = state;
    const present = new Set(listFiles(folder));
    for (const file of present) {
      const digest = state.files[file];
      const ok = digest !== undefined && sha256(readFileSync(pathOf(folder, file))) === digest;
      if (ok) continue;
      if (file === 'metadata/root.json') {
        folder.rejected.push(`${file} (changed since it was verified)`);
        reset(folder, anchor);
        return folder;
      }
      folder.rejected.push(`${file} (changed since it was verified)`);
      rmSync(pathOf(folder, file), { force: true });
      delete state.files[file];
    }
    for (const file of Object.keys(state.files)) if (!present.has(file)) delete state.files[file];
    if (!state.files['metadata/root.json']) reset(folder, anchor);
    return folder;
  } catch (err) {
    throw new TufError(
      'TUF_CACHE_UNWRITABLE',
      `the TUF cache ${dir} cannot be used (${(err as Error).message}); check the permissions of Tollgate's cache folder (tollgateCacheFolder)`,
      err,
    );
  }
}

/** Records every file as it is now (after tuf-js verified them), authenticated. */
export function saveTufCache(
  folder: TufCacheFolder,
  secret: Buffer,
  state: Omit<TufCacheState, 'format' | 'files'>,
) {
  const files: Record<string, string> = {};
  for (const file of listFiles(folder)) files[file] = sha256(readFileSync(pathOf(folder, file)));
  const next: TufCacheState = { format: FORMAT, ...state, files };
  const tmp = join(folder.dir, `.state.json.${process.pid}`);
  try {
    writeFileSync(tmp, `${JSON.stringify({ ...next, mac: mac(secret, next) }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, join(folder.dir, 'state.json'));
  } catch (err) {
    throw new TufError(
      'TUF_CACHE_UNWRITABLE',
      `the TUF cache ${folder.dir} cannot be written (${(err as Error).message}); check the permissions of Tollgate's cache folder`,
      err,
    );
  }
  folder.state = next;
}

/** The last verified copy of a target, if the authenticated state vouches for it. */
export function lastVerifiedTarget(folder: TufCacheFolder, target: string): Buffer | null {
  const file = `targets/${encodeURIComponent(target)}`;
  const digest = folder.state?.files[file];
  if (!digest) return null;
  try {
    const bytes = readFileSync(pathOf(folder, file));
    return sha256(bytes) === digest ? bytes : null;
  } catch {
    return null;
  }
}

/**
 * Read only (for `yarn tollgate doctor`): the authenticated state of one repository's cache and the
 * files it still vouches for, by name (`metadata/timestamp.json`). Nothing is reset or removed; null
 * when there is no cache or its state does not authenticate.
 */
export function inspectTufCache(
  cacheRoot: string,
  metadataUrl: string,
  anchor: Buffer,
  secret: Buffer,
): { dir: string; state: TufCacheState; files: Map<string, Buffer> } | null {
  const dir = tufCacheDir(cacheRoot, metadataUrl, anchor);
  const state = readState(dir, secret, metadataUrl, sha256(anchor));
  if (!state) return null;
  const files = new Map<string, Buffer>();
  for (const [file, digest] of Object.entries(state.files)) {
    try {
      const bytes = readFileSync(join(dir, file));
      if (sha256(bytes) === digest) files.set(file, bytes);
    } catch {}
  }
  return { dir, state, files };
}
