// A content-keyed cache of verification verdicts, so unchanged packages are not re-verified across
// installs. The key is a digest of everything the verdict depends on: the verifier's format version,
// the trust context digest (every root and key), the package name, version and integrity, whether the
// tarball was checked, and the sha256 of every bundle as received. Change any of them and the entry
// is simply never found again.
//
// The verdicts live in one pack per cache folder, authenticated, not trusted: the file holds the
// verdicts and an HMAC-SHA256 over them with a 32-byte secret created once per cache directory (mode
// 0600). A pack that is corrupt, truncated, edited, or written with another secret fails the MAC and
// reads as empty; its packages are verified again and the pack rewritten. What the MAC does not defend
// against is someone who can read the secret, i.e. who already has write access to the user's files,
// including the package cache the installer runs code from; callers who want more can pass their own
// secret (e.g. from a keychain) instead of the file. Registry signatures are not cached: they are cheap
// and their key-expiry check depends on the time the caller passes.
//
// A run reads the pack once, on its first lookup, and writes it once, in flush(): a cold install of
// a thousand packages writes one file, not a thousand (on a CI runner each write is a create, a write
// and a rename). Threads that verify (the pool's workers) do not flush: they drain() what they set
// and the pool absorb()s it into the cache it flushes. flush() merges the pack on disk as it is then,
// so two runs sharing a folder lose at most each other's speed, never a verdict's integrity; verdicts
// no run used for 30 days leave the pack. (Earlier versions also wrote one entry file per verdict, in
// two-character folders; nothing reads those any more.)
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
/** The pack's MAC is over this name and its body (as since entry files had MACs of their own). */
const PACK_MAC_KEY = 'pack';
/** A verdict no run used for this long leaves the pack. */
const PACK_KEEP_MS = 30 * 24 * 3600_000;
/** A used verdict's time is refreshed (and the pack rewritten) at most once a day. */
const PACK_RESTAMP_MS = 24 * 3600_000;
/** A cache folder shared by many projects keeps its most recently used verdicts packed. */
const PACK_MAX_ENTRIES = 20_000;
/** Far above what PACK_MAX_ENTRIES verdicts take (~1 KB each): a larger file is not read at all. */
const PACK_MAX_BYTES = 64 << 20;

/** A packed verdict: its body, and when a run last used it (ms since the epoch). */
type PackEntry = [body: string, used: number];

/** A verdict set by one thread, on its way to the cache that packs it: its key and its body. */
export type RecordedVerdict = [key: string, body: string];

interface PackDocument {
  format: typeof PACK_FORMAT;
  entries: Record<string, PackEntry>;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** packs that existed but failed authentication or parsing, or were too large to read */
  rejected: number;
  /** verdicts set (packed at the next flush) */
  writes: number;
  /** packs that could not be written (the verdicts were still returned; only speed is lost) */
  writeErrors: number;
}

export interface VerificationCache {
  readonly dir: string;
  keyFor(ctx: TrustContext, input: PackageEvidenceInput): string;
  get(key: string): ContentVerdict | undefined;
  /** Records a verdict for the pack (nothing is written before flush). */
  set(key: string, verdict: ContentVerdict): void;
  /** The verdicts set since the last drain, handed over by a thread that does not flush. */
  drain(): RecordedVerdict[];
  /** Takes over verdicts another thread of this process set (see drain). */
  absorb(verdicts: readonly RecordedVerdict[]): void;
  /** Writes the pack if this run set verdicts or used old ones (see the top of this file); never throws. */
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
  const authentic = (key: string, body: string, hexMac: unknown) => {
    if (typeof hexMac !== 'string') return false;
    const expected = mac(key, body);
    const given = Buffer.from(hexMac, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const packPath = join(dir, PACK_FILE);

  /** The pack as it is on disk now; one that does not authenticate (or is too large) is empty. */
  const readPack = (): Map<string, PackEntry> => {
    const entries = new Map<string, PackEntry>();
    let raw: string;
    try {
      if (statSync(packPath).size > PACK_MAX_BYTES) {
        stats.rejected++;
        return entries;
      }
      raw = readFileSync(packPath, 'utf8');
    } catch {
      return entries;
    }
    try {
      const file = JSON.parse(raw) as { mac?: unknown; body?: unknown };
      if (typeof file.body !== 'string' || !authentic(PACK_MAC_KEY, file.body, file.mac))
        throw new Error('mac');
      const doc = JSON.parse(file.body) as PackDocument;
      if (doc.format !== PACK_FORMAT) throw new Error('format');
      for (const [key, entry] of Object.entries(doc.entries)) entries.set(key, entry);
    } catch {
      stats.rejected++;
      entries.clear();
    }
    return entries;
  };

  // `pack`: read on the first lookup. `recorded`: set by this thread (or absorbed) since the last
  // flush; `undrained`: the part of it not yet drained to another thread's cache.
  let pack: Map<string, PackEntry> | undefined;
  const loadPack = () => {
    pack ??= readPack();
    return pack;
  };
  const recorded = new Map<string, string>();
  let undrained: RecordedVerdict[] = [];
  let packStale = false;

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
      const fresh = recorded.get(key);
      if (fresh !== undefined) {
        stats.hits++;
        return JSON.parse(fresh) as ContentVerdict;
      }
      const packed = loadPack().get(key);
      if (!packed) {
        stats.misses++;
        return undefined;
      }
      stats.hits++;
      if (now() - packed[1] > PACK_RESTAMP_MS) {
        packed[1] = now();
        packStale = true;
      }
      // an authenticated pack holds only bodies this code wrote
      return JSON.parse(packed[0]) as ContentVerdict;
    },
    set(key, verdict) {
      const body = JSON.stringify(verdict);
      recorded.set(key, body);
      undrained.push([key, body]);
      stats.writes++;
    },
    drain() {
      const out = undrained;
      undrained = [];
      return out;
    },
    absorb(verdicts) {
      for (const [key, body] of verdicts) recorded.set(key, body);
    },
    flush() {
      if (recorded.size === 0 && !packStale) return;
      const at = now();
      // Another run may have packed verdicts since this one read the pack: keep those too.
      const entries = readPack();
      for (const [key, entry] of pack ?? []) {
        const other = entries.get(key);
        if (!other || other[1] < entry[1]) entries.set(key, entry);
      }
      for (const [key, body] of recorded) entries.set(key, [body, at]);
      const kept = [...entries]
        .filter(([, [, used]]) => at - used <= PACK_KEEP_MS)
        .sort((a, b) => b[1][1] - a[1][1])
        .slice(0, PACK_MAX_ENTRIES);
      const doc: PackDocument = { format: PACK_FORMAT, entries: Object.fromEntries(kept) };
      try {
        const tmp = `${packPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
        const body = JSON.stringify(doc);
        writeFileSync(tmp, JSON.stringify({ mac: mac(PACK_MAC_KEY, body).toString('hex'), body }), {
          mode: 0o600,
        });
        renameSync(tmp, packPath);
        pack = new Map(kept);
        recorded.clear();
        packStale = false;
      } catch {
        stats.writeErrors++;
      }
    },
  };
}
