// Where the imported known-bad database lives: `<tollgateCacheFolder>/known-bad/`, one index file per
// source (`yarn tollgate db update --from <source>` replaces that source's part and keeps the others),
// and a state entry listing the parts with the sha256 of each index, authenticated with the per-user
// cache key (authenticated-store.ts). A database is a deliberate input, but the cache folder can be
// filled by a restored CI cache or named by the repository: an index whose digest the state does not
// vouch for, or a state that does not authenticate, reads as absent (and so as stale, per the policy).
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type OpenIndex, openIndex } from '../../../knownbad/index-file';
import type { IndexHeader } from '../../../knownbad/model';
import { AuthenticatedStore } from './authenticated-store';
import { privateFolder } from './cache-secret';

const STATE_FORMAT = 'tollgate-known-bad-state-v1';

export interface StoredPart {
  /** the source as the user named it (path, URL or a policy source name) */
  source: string;
  /** the index file's name in the folder */
  file: string;
  /** sha256 hex of the index file */
  digest: string;
  importedAt: string;
  asOf: string;
  signed?: IndexHeader['signed'];
  counts: IndexHeader['counts'];
}

interface State {
  format: typeof STATE_FORMAT;
  parts: StoredPart[];
}

export interface LoadedPart extends StoredPart {
  index: OpenIndex;
}

export interface StoredDatabase {
  parts: LoadedPart[];
  /** parts that are listed but did not load (altered, missing, damaged), and why */
  rejected: Array<{ source: string; why: string }>;
  /** false when there is a state file that does not authenticate */
  authentic: boolean;
}

export const knownBadFolder = (cacheFolder: string): string => join(cacheFolder, 'known-bad');

const partFile = (source: string) =>
  `${createHash('sha256').update(source).digest('hex').slice(0, 24)}.index`;

export class KnownBadStore {
  private readonly store: AuthenticatedStore;
  readonly dir: string;

  constructor(cacheFolder: string, secret: Buffer) {
    this.dir = knownBadFolder(cacheFolder);
    this.store = new AuthenticatedStore(this.dir, secret);
  }

  /** The parts the authenticated state lists; null when there is no state, or it does not authenticate. */
  readState(): { parts: StoredPart[] } | null | 'forged' {
    const state = this.store.read<State>('state');
    if (state) return state.format === STATE_FORMAT && Array.isArray(state.parts) ? state : 'forged';
    try {
      readFileSync(join(this.dir, 'state.json'));
      return 'forged';
    } catch {
      return null;
    }
  }

  /** Every part whose index file still has the digest the state vouches for. */
  load(): StoredDatabase {
    const state = this.readState();
    if (state === null) return { parts: [], rejected: [], authentic: true };
    if (state === 'forged') return { parts: [], rejected: [], authentic: false };
    const parts: LoadedPart[] = [];
    const rejected: StoredDatabase['rejected'] = [];
    for (const part of state.parts) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(this.dir, part.file));
      } catch (err) {
        rejected.push({
          source: part.source,
          why: `its index is missing (${(err as NodeJS.ErrnoException).code})`,
        });
        continue;
      }
      if (createHash('sha256').update(bytes).digest('hex') !== part.digest) {
        rejected.push({ source: part.source, why: 'its index was altered after `db update` wrote it' });
        continue;
      }
      try {
        parts.push({ ...part, index: openIndex(bytes) });
      } catch (err) {
        rejected.push({ source: part.source, why: (err as Error).message });
      }
    }
    return { parts, rejected, authentic: true };
  }

  /** Stores a source's index, replacing that source's previous part. Throws when it cannot write. */
  write(header: IndexHeader, index: Buffer): StoredPart {
    privateFolder(this.dir);
    const file = partFile(header.source);
    const tmp = join(this.dir, `${file}.${process.pid}.tmp`);
    writeFileSync(tmp, index, { mode: 0o600 });
    renameSync(tmp, join(this.dir, file));
    const part: StoredPart = {
      source: header.source,
      file,
      digest: createHash('sha256').update(index).digest('hex'),
      importedAt: header.importedAt,
      asOf: header.asOf,
      counts: header.counts,
      ...(header.signed ? { signed: header.signed } : {}),
    };
    const previous = this.readState();
    const kept =
      previous && previous !== 'forged' ? previous.parts.filter((p) => p.source !== header.source) : [];
    this.store.write('state', { format: STATE_FORMAT, parts: [...kept, part] } satisfies State);
    if (!this.store.read<State>('state')?.parts.some((p) => p.digest === part.digest))
      throw new Error(`the state of the known-bad database could not be written in ${this.dir}`);
    return part;
  }

  /** Forgets a source. */
  remove(source: string): boolean {
    const previous = this.readState();
    if (!previous || previous === 'forged') return false;
    const part = previous.parts.find((p) => p.source === source);
    if (!part) return false;
    this.store.write('state', {
      format: STATE_FORMAT,
      parts: previous.parts.filter((p) => p !== part),
    } satisfies State);
    rmSync(join(this.dir, part.file), { force: true });
    return true;
  }

  /** A digest of the state as stored (cheap: no index is read), for the install-verdict key. */
  stateDigest(): string {
    try {
      return createHash('sha256')
        .update(readFileSync(join(this.dir, 'state.json')))
        .digest('hex');
    } catch {
      return 'none';
    }
  }
}
