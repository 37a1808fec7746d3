// A content-keyed cache of verification verdicts, so unchanged packages are not re-verified across
// installs. The key is a digest of everything the verdict depends on: the verifier's format version,
// the trust context digest (every root and key), the package name, version and integrity, whether the
// tarball was checked, and the sha256 of every bundle as received. Change any of them and the entry
// is simply never found again.
//
// Entries are authenticated, not trusted: each file holds the verdict and an HMAC-SHA256 over
// (key, verdict) with a 32-byte secret created once per cache directory (mode 0600). An entry that is
// corrupt, truncated, edited, copied from another key or another cache fails the MAC and is ignored;
// the package is verified again and the entry rewritten. What the MAC does not defend against is
// someone who can read the secret, i.e. who already has write access to the user's files, including
// the package cache the installer runs code from; callers who want more can pass their own secret
// (e.g. from a keychain) instead of the file. Registry signatures are not cached: they are cheap and
// their key-expiry check depends on the time the caller passes.
//
// Verifiers write one entry file per verdict (threads and processes never share a file). flush() folds
// the verdicts a run read from entry files or wrote into one pack, authenticated the same way as a
// whole, so a later run that looks up every package (a warm install without its verdict, an audit)
// reads one file instead of one per package; verdicts no run used for 30 days leave the pack.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { json } from '@sigstore/core';
import { bundleDigestOf } from '../bundle/digest';
import { sha256Hex } from '../encoding';
import type { TrustContext } from '../trust/context';
import type { ContentVerdict, PackageEvidenceInput } from '../verify-package';

/** Bump when verification logic changes in a way that could change a verdict. */
export const CACHE_FORMAT = 'tollgate-evidence-v2';
const SECRET_FILE = 'secret.key';
const PACK_FILE = 'verdicts.pack.json';
const PACK_FORMAT = 'tollgate-verdict-pack-v1';
/** The pack's MAC is over this name and its body: no entry key (64 hex digits) can be it. */
const PACK_MAC_KEY = 'pack';
/** An entry no run used for this long leaves the pack (its entry file stays until the folder goes). */
const PACK_KEEP_MS = 30 * 24 * 3600_000;
/** A used entry's time is refreshed (and the pack rewritten) at most once a day. */
const PACK_RESTAMP_MS = 24 * 3600_000;
/** A cache folder shared by many projects keeps its most recently used verdicts packed. */
const PACK_MAX_ENTRIES = 20_000;
/** Far above what PACK_MAX_ENTRIES verdicts take (~1 KB each): a larger file is not read at all. */
const PACK_MAX_BYTES = 64 << 20;

/** A packed verdict: its body, and when a run last used it (ms since the epoch). */
type PackEntry = [body: string, used: number];

interface PackDocument {
  format: typeof PACK_FORMAT;
  entries: Record<string, PackEntry>;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** entries that existed but failed authentication or parsing */
  rejected: number;
  writes: number;
  /** entries that could not be written (the verdict is still returned; only speed is lost) */
  writeErrors: number;
}

export interface VerificationCache {
  readonly dir: string;
  keyFor(ctx: TrustContext, input: PackageEvidenceInput): string;
  get(key: string): ContentVerdict | undefined;
  set(key: string, verdict: ContentVerdict): void;
  /** Packs the verdicts this run read from entry files or wrote (see the pack below); never throws. */
  flush(): void;
  readonly stats: CacheStats;
}

function loadOrCreateSecret(dir: string): Buffer {
  const path = join(dir, SECRET_FILE);
  try {
    writeFileSync(path, randomBytes(32), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secret = readFileSync(path);
  if (secret.length < 32) {
    // A truncated secret (interrupted first write, tampering) cannot authenticate anything: replace it,
    // which invalidates every existing entry.
    const fresh = randomBytes(32);
    writeFileSync(`${path}.tmp`, fresh, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
    return fresh;
  }
  return secret;
}

export interface VerificationCacheOptions {
  /** replaces the per-directory key file */
  secret?: Buffer;
  /** the clock the pack's last-used times are read from (tests) */
  now?: () => number;
}

/** Opens (creating if needed) a cache in `dir`. */
export function openVerificationCache(
  dir: string,
  options: VerificationCacheOptions = {},
): VerificationCache {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    chmodSync(dir, 0o700);
  } catch {
    // best effort on file systems without modes
  }
  const secret = options.secret ?? loadOrCreateSecret(dir);
  const now = options.now ?? Date.now;
  const stats: CacheStats = { hits: 0, misses: 0, rejected: 0, writes: 0, writeErrors: 0 };
  const mac = (key: string, body: string) => createHmac('sha256', secret).update(`${key}\n${body}`).digest();
  const pathOf = (key: string) => join(dir, key.slice(0, 2), `${key}.json`);
  const authentic = (key: string, body: string, hexMac: unknown) => {
    if (typeof hexMac !== 'string') return false;
    const expected = mac(key, body);
    const given = Buffer.from(hexMac, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  /** Writes `{mac, body}` under a name of its own, then renames it into place: never a torn file. */
  const writeAuthenticated = (path: string, key: string, body: string) => {
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify({ mac: mac(key, body).toString('hex'), body }), { mode: 0o600 });
    renameSync(tmp, path);
  };

  // The pack (see the top of this file) is read once, on the first lookup; one that does not
  // authenticate is empty. `unpacked`: what this run read from entry files or wrote, for flush().
  let pack: Map<string, PackEntry> | undefined;
  const unpacked = new Map<string, string>();
  let packStale = false;
  const loadPack = (): Map<string, PackEntry> => {
    if (pack) return pack;
    pack = new Map();
    let raw: string;
    try {
      const path = join(dir, PACK_FILE);
      if (statSync(path).size > PACK_MAX_BYTES) {
        stats.rejected++;
        return pack;
      }
      raw = readFileSync(path, 'utf8');
    } catch {
      return pack;
    }
    try {
      const file = JSON.parse(raw) as { mac?: unknown; body?: unknown };
      if (typeof file.body !== 'string' || !authentic(PACK_MAC_KEY, file.body, file.mac))
        throw new Error('mac');
      const doc = JSON.parse(file.body) as PackDocument;
      if (doc.format !== PACK_FORMAT) throw new Error('format');
      for (const [key, entry] of Object.entries(doc.entries)) pack.set(key, entry);
    } catch {
      stats.rejected++;
      pack.clear();
    }
    return pack;
  };

  return {
    dir,
    stats,
    keyFor(ctx, input) {
      return sha256Hex(
        json.canonicalize({
          format: CACHE_FORMAT,
          trust: ctx.digest,
          name: input.name,
          version: input.version,
          integrity: input.integrity,
          tarballChecked: input.tarball !== undefined,
          notInstalled: input.tarball === undefined && input.notInstalled === true,
          unpackedManifest:
            input.tarball === undefined && input.unpackedManifest
              ? [String(input.unpackedManifest.name), String(input.unpackedManifest.version)]
              : null,
          bundles: input.bundles.map((b) => bundleDigestOf(b.json)),
        }),
      );
    },
    get(key) {
      const packed = loadPack().get(key);
      if (packed) {
        stats.hits++;
        if (now() - packed[1] > PACK_RESTAMP_MS) {
          packed[1] = now();
          packStale = true;
        }
        // an authenticated pack holds only bodies this code wrote
        return JSON.parse(packed[0]) as ContentVerdict;
      }
      let raw: string;
      try {
        raw = readFileSync(pathOf(key), 'utf8');
      } catch {
        stats.misses++;
        return undefined;
      }
      try {
        const entry = JSON.parse(raw) as { mac?: unknown; body?: unknown };
        if (typeof entry.body !== 'string' || !authentic(key, entry.body, entry.mac)) throw new Error('mac');
        const verdict = JSON.parse(entry.body) as ContentVerdict;
        stats.hits++;
        unpacked.set(key, entry.body);
        return verdict;
      } catch {
        stats.rejected++;
        return undefined;
      }
    },
    set(key, verdict) {
      const body = JSON.stringify(verdict);
      const path = pathOf(key);
      try {
        mkdirSync(join(dir, key.slice(0, 2)), { recursive: true, mode: 0o700 });
        writeAuthenticated(path, key, body);
        stats.writes++;
        unpacked.set(key, body);
      } catch {
        stats.writeErrors++;
      }
    },
    flush() {
      if (unpacked.size === 0 && !packStale) return;
      const at = now();
      const entries = new Map([...loadPack()].filter(([, [, used]]) => at - used <= PACK_KEEP_MS));
      for (const [key, body] of unpacked) entries.set(key, [body, at]);
      const kept = [...entries].sort((a, b) => b[1][1] - a[1][1]).slice(0, PACK_MAX_ENTRIES);
      const doc: PackDocument = { format: PACK_FORMAT, entries: Object.fromEntries(kept) };
      try {
        writeAuthenticated(join(dir, PACK_FILE), PACK_MAC_KEY, JSON.stringify(doc));
        pack = new Map(kept);
        unpacked.clear();
        packStale = false;
      } catch {
        stats.writeErrors++;
      }
    },
  };
}
