// The recorded mirror on disk (bench/.cache/realworld/, ignored by git):
//   recording.json          the index: one entry per recorded exchange, the project, what was recorded
//   bodies/<aa>/<sha256>    each distinct response body once, named by the sha256 of the bytes the
//                           registry served; JSON documents stored with the registry's host hidden
//                           (rewrite.ts), tarballs as they are
//   project/package.json, project/yarn.lock   the project and the lockfile Yarn wrote from the recording
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hideHost, type RequestKind, restoreHost } from './rewrite';

export const defaultRealworldDir = resolve(dirname(fileURLToPath(import.meta.url)), '../.cache/realworld');

/** Bumped whenever the layout or what is recorded changes, so an older recording is redone. */
export const recordingFormat = 1;

export interface RecordedExchange {
  kind: RequestKind;
  /** registry-relative, decoded (rewrite.ts registryPath) */
  path: string;
  status: number;
  contentType: string | null;
  /** sha256 (hex) of the body exactly as the registry served it (before the host was hidden) */
  sha256: string;
  bytes: number;
  /** JSON documents are stored with the host hidden; tarballs and other bodies verbatim */
  hostHidden: boolean;
  /** `"tarball"` values under the registry's URL (what serving rewrites to the local origin) */
  tarballUrls?: number;
  /** `"tarball"` values elsewhere (served unchanged) */
  foreignTarballUrls?: number;
}

export interface Recording {
  format: typeof recordingFormat;
  recordedAt: string;
  /** sha256 of the registry URL it was recorded from (the URL itself is never written) */
  registryDigest: string;
  /** the Yarn that resolved the project during the recording */
  yarn: string;
  project: { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  /** npm packages in the lockfile (name@version, Yarn's compat patches not counted twice) */
  packages: number;
  /** lockfile entries Tollgate audits (every entry but the workspace, patches included) */
  lockfileEntries: number;
  exchanges: Record<string, RecordedExchange>;
}

export function digestOf(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function registryDigest(registry: string): string {
  return digestOf(new URL(registry).href);
}

export function bodyPath(dir: string, sha256: string): string {
  return join(dir, 'bodies', sha256.slice(0, 2), sha256);
}

export function writeAtomically(path: string, data: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.partial`;
  writeFileSync(temp, data);
  renameSync(temp, path);
}

/**
 * Stores one body as the registry served it (the host hidden in JSON) unless a body with the same
 * digest is stored already. Returns what the index records about it.
 */
export function storeBody(
  dir: string,
  body: Buffer,
  options: { json: boolean; host: string },
): { sha256: string; bytes: number; hostHidden: boolean } {
  const sha256 = digestOf(body);
  const path = bodyPath(dir, sha256);
  let hostHidden = false;
  let stored: string | Buffer = body;
  if (options.json) {
    const text = body.toString('utf8');
    // a document is rewritten as text: it must survive utf-8 decoding unchanged
    if (!Buffer.from(text, 'utf8').equals(body)) {
      throw new Error(`a JSON document (sha256 ${sha256}) is not valid UTF-8: it cannot be served rewritten`);
    }
    stored = hideHost(text, options.host);
    hostHidden = true;
  }
  if (!existsSync(path)) writeAtomically(path, stored);
  return { sha256, bytes: body.length, hostHidden };
}

/**
 * A stored JSON document as stored (host hidden), after checking that restoring the host gives exactly
 * the bytes the registry served (the recorded sha256).
 */
export function readStoredText(dir: string, exchange: RecordedExchange, host: string): string {
  const stored = readFileSync(bodyPath(dir, exchange.sha256), 'utf8');
  const original = exchange.hostHidden ? restoreHost(stored, host) : stored;
  if (digestOf(Buffer.from(original, 'utf8')) !== exchange.sha256) {
    throw new Error(
      `${exchange.kind} ${exchange.path}: the stored body does not restore to the bytes recorded ` +
        '(sha256 differs): the recording is damaged, or npm is configured with another registry now; ' +
        'record again with `npm run bench realworld`',
    );
  }
  return stored;
}

export function readRecording(dir: string): Recording | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'recording.json'), 'utf8')) as Recording;
  } catch {
    return undefined;
  }
}
