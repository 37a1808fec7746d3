import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateFolder } from './cache-secret';

/**
 * Small JSON entries in a folder of this machine's Tollgate cache, each authenticated with the per-user
 * cache key (HMAC-SHA256, see cache-secret.ts): what was derived here can later be told apart from what
 * was merely committed, planted or restored. An entry that does not authenticate or parse reads as
 * absent, so it is derived again.
 */
export class AuthenticatedStore {
  private prepared = false;

  constructor(
    readonly dir: string,
    private readonly secret: Buffer,
  ) {}

  private mac(name: string, body: string): Buffer {
    return createHmac('sha256', this.secret).update(`${this.dir}\n${name}\n${body}`).digest();
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
      if (!this.prepared) {
        privateFolder(this.dir);
        this.prepared = true;
      }
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
