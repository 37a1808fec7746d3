// The install verdict's inputs that live in Tollgate's caches (the known-bad database, the TUF
// caches) and the project's known-bad list: digests only, read without loading either subsystem.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { KNOWN_BAD_LIST_FILE } from '../../../knownbad/list-file-name';
import type { TollgateSettings } from '../settings';
import { KnownBadStore } from './known-bad-store';

/** The project's known-bad list, next to the policy. */
export function listFilePath(policyPath: string): string {
  return resolve(dirname(policyPath), KNOWN_BAD_LIST_FILE);
}

/** What install verdicts depend on here (cheap: digests of the database's state and the project's list). */
export function knownBadVerdictInputs(settings: TollgateSettings, secret: Buffer): Record<string, string> {
  let list = 'absent';
  if (settings.policyPath) {
    try {
      list = createHash('sha256')
        .update(readFileSync(listFilePath(settings.policyPath)))
        .digest('hex');
    } catch {}
  }
  return { knownBadState: new KnownBadStore(settings.cacheFolder, secret).stateDigest(), knownBadList: list };
}

/**
 * What the install verdict depends on besides the policy's files: every authenticated TUF cache state
 * (a refresh changes it). Cheap: a few small files.
 */
export function trustVerdictInputs(settings: TollgateSettings): Record<string, string> {
  const dir = join(settings.cacheFolder, 'tuf');
  const hash = createHash('sha256');
  if (existsSync(dir)) {
    for (const entry of readdirSync(dir).sort()) {
      try {
        hash
          .update(entry)
          .update('\0')
          .update(readFileSync(join(dir, entry, 'state.json')))
          .update('\0');
      } catch {}
    }
  }
  return { trustCaches: hash.digest('hex') };
}
