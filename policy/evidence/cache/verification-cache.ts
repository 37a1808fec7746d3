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
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { json } from '@sigstore/core';
import { sha256Hex } from '../encoding';
import type { TrustContext } from '../trust/context';
import type { ContentVerdict, PackageEvidenceInput } from '../verify-package';

/** Bump when verification logic changes in a way that could change a verdict. */
export const CACHE_FORMAT = 'tollgate-evidence-v2';
const SECRET_FILE = 'secret.key';

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

export function bundleDigestOf(json: string | object): string {
  return sha256Hex(typeof json === 'string' ? json : JSON.stringify(json));
}

/** Opens (creating if needed) a cache in `dir`. `secret` replaces the per-directory key file. */
export function openVerificationCache(dir: string, options: { secret?: Buffer } = {}): VerificationCache {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    chmodSync(dir, 0o700);
  } catch {
    // best effort on file systems without modes
  }
  const secret = options.secret ?? loadOrCreateSecret(dir);
  const stats: CacheStats = { hits: 0, misses: 0, rejected: 0, writes: 0, writeErrors: 0 };
  const mac = (key: string, body: string) => createHmac('sha256', secret).update(`${key}\n${body}`).digest();
  const pathOf = (key: string) => join(dir, key.slice(0, 2), `${key}.json`);

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
      let raw: string;
      try {
        raw = readFileSync(pathOf(key), 'utf8');
      } catch {
        stats.misses++;
        return undefined;
      }
      try {
        const entry = JSON.parse(raw) as { mac?: unknown; body?: unknown };
        if (typeof entry.mac !== 'string' || typeof entry.body !== 'string') throw new Error('shape');
        const expected = mac(key, entry.body);
        const given = Buffer.from(entry.mac, 'hex');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error('mac');
        stats.hits++;
        return JSON.parse(entry.body) as ContentVerdict;
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
        const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
        writeFileSync(tmp, JSON.stringify({ mac: mac(key, body).toString('hex'), body }), { mode: 0o600 });
        renameSync(tmp, path);
        stats.writes++;
      } catch {
        stats.writeErrors++;
      }
    },
  };
}
