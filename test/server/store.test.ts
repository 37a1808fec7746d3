// Recovery of the log store from states a crash can leave: a torn record at the end of
// entries.log, and derived files (offsets, levels, search index) behind or missing.
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { rootHash } from '../../server/log/merkle';
import { LogStore } from '../../server/log/store';
import { tempDir } from './helpers';

async function fill(dir: string, n: number): Promise<Buffer> {
  const store = await LogStore.open(dir);
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      store.append({ body: Buffer.from(`entry ${i}`), searchKeys: [`key:${i % 3}`] }),
    ),
  );
  const root = rootHash(store.merkle, store.size);
  await store.close();
  return root;
}

test('a torn tail is set aside and the acknowledged prefix survives', async (t) => {
  const dir = tempDir(t);
  const root = await fill(dir, 37);
  appendFileSync(join(dir, 'entries.log'), Buffer.from([0x31, 0x45, 0x47, 0x54, 0xff, 0, 0, 0, 1, 2]));
  const messages: string[] = [];
  const store = await LogStore.open(dir, { onRecovery: (m) => messages.push(m) });
  t.after(() => store.close());
  assert.equal(store.size, 37);
  assert.deepEqual(rootHash(store.merkle, 37), root);
  assert.equal(messages.length, 1);
  assert.ok(readdirSync(dir).some((f) => f.startsWith('entries.log.tail-')));
  const next = await store.append({ body: Buffer.from('after recovery'), searchKeys: [] });
  assert.equal(next.index, 37);
  assert.equal(store.read(36).body.toString(), 'entry 36');
});

test('derived files behind entries.log, or missing, are rebuilt from it', async (t) => {
  const dir = tempDir(t);
  const root = await fill(dir, 50);
  truncateSync(join(dir, 'offsets.idx'), 8 * 20);
  truncateSync(join(dir, 'level-00.hash'), 32 * 10);
  truncateSync(join(dir, 'search.idx'), 36 * 5);
  let store = await LogStore.open(dir);
  assert.equal(store.size, 50);
  assert.deepEqual(rootHash(store.merkle, 50), root);
  assert.deepEqual(
    store.findByKey('key:1'),
    Array.from({ length: 50 }, (_, i) => i).filter((i) => i % 3 === 1),
  );
  await store.close();

  for (const f of readdirSync(dir)) if (f !== 'entries.log') rmSync(join(dir, f));
  store = await LogStore.open(dir);
  t.after(() => store.close());
  assert.equal(store.size, 50);
  assert.deepEqual(rootHash(store.merkle, 50), root);
  assert.equal(store.findLeaf(store.merkle.leaf(42)), 42);
  assert.equal(store.read(42).body.toString(), 'entry 42');
});

test('identical bodies appended concurrently are stored once', async (t) => {
  const store = await LogStore.open(tempDir(t));
  t.after(() => store.close());
  const results = await Promise.all(
    Array.from({ length: 5 }, () => store.append({ body: Buffer.from('same'), searchKeys: [] })),
  );
  assert.equal(store.size, 1);
  assert.equal(results.filter((r) => !r.existing).length, 1);
  assert.ok(results.every((r) => r.index === 0));
});

test('a short upper level is detected and rebuilt', async (t) => {
  const dir = tempDir(t);
  const root = await fill(dir, 64);
  truncateSync(join(dir, 'level-03.hash'), 32 * 2);
  rmSync(join(dir, 'level-05.hash'));
  const store = await LogStore.open(dir);
  t.after(() => store.close());
  assert.equal(store.size, 64);
  assert.deepEqual(rootHash(store.merkle, 64), root);
});
