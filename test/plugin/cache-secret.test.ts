// The per-user key that authenticates Tollgate's caches: created 0600 in a private folder, refused when
// others can read or replace it, and never the key of a folder the repository can fill.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AuthenticatedStore } from '../../plugin/sources/engine/authenticated-store';
import {
  CacheSecretProblem,
  isInside,
  loadCacheSecret,
  stateFolder,
} from '../../plugin/sources/engine/cache-secret';
import { tempDir } from '../harness/paths';

describe('the per-user cache key', { skip: process.platform === 'win32' && 'modes are POSIX' }, () => {
  it('is created once, 32 bytes, mode 0600, in a 0700 folder', () => {
    const folder = join(tempDir('state'), 'tollgate');
    const key = loadCacheSecret(folder);
    assert.equal(key.length, 32);
    assert.ok(loadCacheSecret(folder).equals(key), 'the same key every time');
    assert.equal(statSync(join(folder, 'cache.key')).mode & 0o777, 0o600);
    assert.equal(statSync(folder).mode & 0o777, 0o700);
  });

  it('is refused when others can read it, or the folder is writable by others', () => {
    const folder = join(tempDir('state'), 'tollgate');
    loadCacheSecret(folder);
    chmodSync(join(folder, 'cache.key'), 0o640);
    assert.throws(
      () => loadCacheSecret(folder),
      (e: Error) => e instanceof CacheSecretProblem && /readable or writable by others/.test(e.message),
    );
    chmodSync(join(folder, 'cache.key'), 0o600);
    chmodSync(folder, 0o777);
    assert.throws(() => loadCacheSecret(folder), /writable by others/);
  });

  it('is refused when truncated', () => {
    const folder = join(tempDir('state'), 'tollgate');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeFileSync(join(folder, 'cache.key'), 'short', { mode: 0o600 });
    assert.throws(() => loadCacheSecret(folder), /truncated/);
  });

  it('lives in the per-user state folder named by XDG_STATE_HOME, else ~/.local/state', {
    skip: process.platform !== 'linux',
  }, () => {
    assert.equal(stateFolder({ XDG_STATE_HOME: '/x/state' }), '/x/state/tollgate');
    assert.match(stateFolder({}), /\/\.local\/state\/tollgate$/);
    assert.match(
      stateFolder({ XDG_STATE_HOME: 'relative' }),
      /\/\.local\/state\/tollgate$/,
      'a relative XDG path is ignored',
    );
  });

  it('entries made with another key, or moved to another folder, read as absent', () => {
    const dir = tempDir('store');
    const mine = new AuthenticatedStore(dir, Buffer.alloc(32, 1));
    mine.write('entry', { a: 1 });
    assert.deepEqual(mine.read('entry'), { a: 1 });
    assert.equal(new AuthenticatedStore(dir, Buffer.alloc(32, 2)).read('entry'), null);
  });

  it('tells a folder inside the project from one outside', () => {
    assert.ok(isInside('/p/app/.cache', '/p/app'));
    assert.ok(isInside('/p/app', '/p/app'));
    assert.ok(!isInside('/p/app-cache', '/p/app'));
    assert.ok(!isInside('/p', '/p/app'));
  });
});
