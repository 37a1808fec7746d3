import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Small JSON entries in a folder of this machine's Tollgate cache, each authenticated with a per-folder
 * key (HMAC-SHA256, key file mode 0600): what was derived here can later be told apart from what was
 * merely committed or edited. An entry that does not authenticate or parse reads as absent.
 */
export class AuthenticatedStore {
  private key: Buffer | null = null;

  constructor(readonly dir: string) {}

  private secret(): Buffer {
    if (this.key) return this.key;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const path = join(this.dir, 'secret.key');
    try {
      writeFileSync(path, randomBytes(32), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const key = readFileSync(path);
    if (key.length < 32) throw new Error(`${path} is truncated`);
    this.key = key;
    return key;
  }

  private mac(name: string, body: string): Buffer {
    return createHmac('sha256', this.secret()).update(`${name}\n${body}`).digest();
  }

  read<T>(name: string): T | null {
    try {
      const raw = JSON.parse(readFileSync(join(this.dir, `${name}.json`), 'utf8')) as {
        mac?: unknown;
        body?: unknown;
      };
      if (typeof raw.mac !== 'string' || typeof raw.body !== 'string') return null;
      const expected = this.mac(name, raw.body);
      const given = Buffer.from(raw.mac, 'hex');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      return JSON.parse(raw.body) as T;
    } catch {
      return null;
    }
  }

  /** Best effort: a failed write only costs work later. */
  write(name: string, value: unknown): void {
    try {
      const body = JSON.stringify(value);
      const entry = JSON.stringify({ mac: this.mac(name, body).toString('hex'), body });
      const tmp = join(this.dir, `${name}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
      writeFileSync(tmp, entry, { mode: 0o600 });
      renameSync(tmp, join(this.dir, `${name}.json`));
    } catch {
      // ignored: see above
    }
  }
}
