import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What a binding is about when the package has no archive on this machine (another platform's). */
export const NOT_INSTALLED_HERE = 'not-installed-here';

interface BindingsDocument {
  format: 'tollgate-bindings-v2';
  project: string;
  /** `${locator}\n${checksum}` -> integrity */
  entries: Record<string, string>;
}

/**
 * Lockfile bindings this machine derived itself: "the cache archive with checksum C was built from the
 * registry tarball with integrity I", recorded only after the registry confirmed I in a run that saw
 * the bytes. The committed evidence file makes the same claim, but anyone who can change yarn.lock and
 * the cache can change it too; online, only a binding derived here lets Tollgate skip re-deriving.
 *
 * One document per project, authenticated with the per-user key (cache-secret.ts), read once and
 * written once per run, off the main thread: a thousand small synchronous writes were a measurable
 * part of a cold install. A document that does not authenticate or parse reads as empty.
 */
export class LocalBindings {
  private readonly path: string;
  private entries: Map<string, string> | null = null;
  private dirty = false;

  constructor(
    private readonly cacheFolder: string,
    private readonly secret: Buffer,
    private readonly project: string,
  ) {
    const name = createHash('sha256').update(project).digest('hex').slice(0, 32);
    this.path = join(cacheFolder, 'bindings', `${name}.json`);
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.secret).update(`tollgate-bindings\n${this.path}\n${body}`).digest();
  }

  private load(): Map<string, string> {
    if (this.entries) return this.entries;
    this.entries = new Map();
    try {
      const raw = JSON.parse(readFileSync(this.path, 'utf8')) as { mac?: unknown; body?: unknown };
      if (typeof raw.mac !== 'string' || typeof raw.body !== 'string') return this.entries;
      const given = Buffer.from(raw.mac, 'hex');
      const expected = this.mac(raw.body);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return this.entries;
      const doc = JSON.parse(raw.body) as BindingsDocument;
      if (doc.format !== 'tollgate-bindings-v2' || doc.project !== this.project) return this.entries;
      for (const [key, integrity] of Object.entries(doc.entries ?? {}))
        if (typeof integrity === 'string') this.entries.set(key, integrity);
    } catch {
      // absent or unreadable: nothing bound here yet
    }
    return this.entries;
  }

  /** The registry integrity this machine bound the archive `checksum` of `locator` to, if it did. */
  lookup(locator: string, checksum: string): string | null {
    return this.load().get(`${locator}\n${checksum}`) ?? null;
  }

  /** Whether this machine bound any archive of `locator` (one yarn.lock pins no checksum for). */
  boundAny(locator: string): boolean {
    const prefix = `${locator}\n`;
    for (const key of this.load().keys()) if (key.startsWith(prefix)) return true;
    return false;
  }

  confirms(locator: string, checksum: string, integrity: string): boolean {
    return this.lookup(locator, checksum) === integrity;
  }

  record(locator: string, checksum: string, integrity: string): void {
    const entries = this.load();
    const key = `${locator}\n${checksum}`;
    if (entries.get(key) === integrity) return;
    entries.set(key, integrity);
    this.dirty = true;
  }

  /** Writes what this run learnt, atomically. Best effort: a failure only costs work next time. */
  async flush(): Promise<void> {
    if (!this.dirty || !this.entries) return;
    this.dirty = false;
    const doc: BindingsDocument = {
      format: 'tollgate-bindings-v2',
      project: this.project,
      entries: Object.fromEntries([...this.entries].sort(([a], [b]) => a.localeCompare(b))),
    };
    const body = JSON.stringify(doc);
    try {
      await mkdir(join(this.cacheFolder, 'bindings'), { recursive: true, mode: 0o700 });
      const tmp = `${this.path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      await writeFile(tmp, JSON.stringify({ mac: this.mac(body).toString('hex'), body }), { mode: 0o600 });
      await rename(tmp, this.path);
    } catch {
      // ignored: see above
    }
  }
}
