// Append-only across every crash and every damaged file: a log whose entries no longer reach, or
// no longer hash to, a checkpoint it committed to refuses to open (and changes nothing) instead of
// signing another entry at an index it already signed; derived files are reconciled with
// entries.log on open; every read checks the body's leaf hash.
import assert from 'node:assert/strict';
import {
  appendFileSync,
  closeSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { CHECKPOINT_RECORD } from '../../server/log/checkpoint-log';
import { LogIntegrityError } from '../../server/log/integrity';
import { hashLeaf, rootHash } from '../../server/log/merkle';
import { encodeRecord } from '../../server/log/record-codec';
import { LogStore, StoredEntryDamagedError } from '../../server/log/store';
import { tempDir } from './helpers';

async function fill(dir: string, n: number, batches = 1): Promise<{ root: Buffer; bodies: string[] }> {
  const store = await LogStore.open(dir);
  const bodies: string[] = [];
  for (let b = 0; b < batches; b++) {
    await Promise.all(
      Array.from({ length: n / batches }, (_, i) => {
        const body = `entry ${b * (n / batches) + i}`;
        bodies.push(body);
        return store.append({ body: Buffer.from(body), searchKeys: [`key:${i % 3}`] });
      }),
    );
  }
  const root = rootHash(store.merkle, store.size);
  await store.close();
  return { root, bodies };
}

/** Offsets of every record in entries.log, read from its framing. */
function recordOffsets(dir: string): number[] {
  const data = readFileSync(join(dir, 'entries.log'));
  const offsets: number[] = [];
  for (let at = 0; at < data.length; at += 12 + data.readUInt32LE(at + 4)) offsets.push(at);
  return offsets;
}

async function refusal(dir: string): Promise<LogIntegrityError> {
  try {
    const store = await LogStore.open(dir);
    await store.close();
  } catch (err) {
    assert.ok(err instanceof LogIntegrityError, String(err));
    return err;
  }
  assert.fail('the store opened');
}

test('a truncated last record is refused, not forgotten, and nothing is changed', async (t) => {
  const dir = tempDir(t);
  await fill(dir, 20);
  const offsets = recordOffsets(dir);
  truncateSync(join(dir, 'entries.log'), offsets[19]! + 7);
  const before = readFileSync(join(dir, 'entries.log'));
  const err = await refusal(dir);
  assert.equal(err.integrity, 'LOG_SHORTER_THAN_CHECKPOINT');
  assert.equal(err.exitCode, 3);
  assert.match(
    err.message,
    /holds 19 readable entries .* checkpoint of size 20 .* 1 committed entries are lost/,
  );
  assert.match(err.message, /fork/);
  assert.ok(err.message.includes(`tollgate-server repair --data ${dirname(dir)} --from`), err.message);
  assert.deepEqual(readFileSync(join(dir, 'entries.log')), before, 'entries.log is left as it was');
  // Before this check the store opened with 19 entries and then signed a different 20th.
});

test('a corrupted last record, or one in the middle, is refused', async (t) => {
  for (const target of [19, 7]) {
    const dir = tempDir(t);
    await fill(dir, 20);
    const at = recordOffsets(dir)[target]! + 20;
    const fd = openSync(join(dir, 'entries.log'), 'r+');
    writeSync(fd, Buffer.from([0xff]), 0, 1, at);
    closeSync(fd);
    const err = await refusal(dir);
    assert.equal(err.integrity, 'LOG_SHORTER_THAN_CHECKPOINT', `record ${target}`);
    assert.match(err.message, new RegExp(`holds ${target} readable entries`));
  }
});

test('an altered record with a valid checksum is refused as inconsistent', async (t) => {
  const dir = tempDir(t);
  const { root } = await fill(dir, 20);
  const data = readFileSync(join(dir, 'entries.log'));
  const at = recordOffsets(dir)[5]!;
  const length = data.readUInt32LE(at + 4);
  const payload = data.subarray(at + 12, at + 12 + length);
  payload[4] = payload[4]! ^ 0x01; // first byte of the body
  data.writeUInt32LE(crc32(payload), at + 8);
  writeFileSync(join(dir, 'entries.log'), data);
  const err = await refusal(dir);
  assert.equal(err.integrity, 'LOG_INCONSISTENT_WITH_CHECKPOINT');
  assert.match(err.message, new RegExp(`checkpoint of size 20 \\(root ${root.toString('hex')}`));
});

test('damaged checkpoint records are refused; a torn last one is dropped', async (t) => {
  const dir = tempDir(t);
  await fill(dir, 12, 3);
  const path = join(dir, 'checkpoints.log');
  assert.ok(statSync(path).size / CHECKPOINT_RECORD >= 3, 'one head per committed batch');
  const good = readFileSync(path);

  appendFileSync(path, Buffer.alloc(20, 0xab)); // a torn append
  let store = await LogStore.open(dir);
  assert.equal(store.size, 12);
  await store.close();
  assert.equal(statSync(path).size, good.length, 'the torn bytes are cut off');
  appendFileSync(path, Buffer.alloc(CHECKPOINT_RECORD)); // allocated, never written
  store = await LogStore.open(dir);
  await store.close();

  const damaged = Buffer.from(good);
  damaged[CHECKPOINT_RECORD + 10] = damaged[CHECKPOINT_RECORD + 10]! ^ 0x01;
  writeFileSync(path, damaged);
  const err = await refusal(dir);
  assert.equal(err.integrity, 'CHECKPOINTS_DAMAGED');
  assert.match(err.message, /record 1 fails/);
  const lastDamaged = Buffer.from(good);
  lastDamaged[lastDamaged.length - 30] = lastDamaged[lastDamaged.length - 30]! ^ 0x01;
  writeFileSync(path, lastDamaged);
  assert.equal((await refusal(dir)).integrity, 'CHECKPOINTS_DAMAGED', 'a non-zero bad last record is damage');
});

test('entries that were durable but not committed, and folders without checkpoints, are committed on open', async (t) => {
  const dir = tempDir(t);
  await fill(dir, 10);
  const heads = statSync(join(dir, 'checkpoints.log')).size / CHECKPOINT_RECORD;
  // A crash between the entries' fdatasync and the head's: the record is there, the head is not.
  appendFileSync(
    join(dir, 'entries.log'),
    encodeRecord({ body: Buffer.from('late'), integratedTime: 1, searchDigests: Buffer.alloc(0) }),
  );
  let store = await LogStore.open(dir);
  assert.equal(store.size, 11);
  assert.equal(store.read(10).body.toString(), 'late');
  await store.close();
  assert.equal(statSync(join(dir, 'checkpoints.log')).size / CHECKPOINT_RECORD, heads + 1);
  truncateSync(join(dir, 'checkpoints.log'), 0);
  store = await LogStore.open(dir);
  assert.equal(store.size, 11);
  await store.close();
  assert.equal(statSync(join(dir, 'checkpoints.log')).size, CHECKPOINT_RECORD);
  // ... and from then on the head protects them.
  truncateSync(join(dir, 'entries.log'), recordOffsets(dir)[10]!);
  assert.equal((await refusal(dir)).integrity, 'LOG_SHORTER_THAN_CHECKPOINT');
});

test('an overwritten offset slot, hash or search record is found on open and rewritten', async (t) => {
  const dir = tempDir(t);
  const { root, bodies } = await fill(dir, 40);
  const overwrite = (file: string, at: number, bytes: Buffer) => {
    const fd = openSync(join(dir, file), 'r+');
    writeSync(fd, bytes, 0, bytes.length, at);
    closeSync(fd);
  };
  const offsets = readFileSync(join(dir, 'offsets.idx'));
  overwrite('offsets.idx', 17 * 8, offsets.subarray(3 * 8, 4 * 8)); // slot 17 points at entry 3
  overwrite('level-00.hash', 9 * 32, Buffer.alloc(32, 1));
  overwrite('level-03.hash', 2 * 32, Buffer.alloc(32, 2));
  overwrite('search.idx', 5 * 36, Buffer.alloc(36, 3));
  const messages: string[] = [];
  const store = await LogStore.open(dir, { onRecovery: (m) => messages.push(m) });
  t.after(() => store.close());
  const reported = messages.join('\n');
  assert.match(reported, /offsets\.idx disagreed with entries\.log from entry 17/);
  assert.match(reported, /level-00\.hash disagreed with entries\.log from hash 9/);
  assert.match(reported, /level-03\.hash disagreed with entries\.log from hash 2/);
  assert.match(reported, /search\.idx disagreed with entries\.log from record 5/);
  assert.equal(store.read(17).body.toString(), bodies[17]);
  assert.equal(store.findLeaf(hashLeaf(Buffer.from(bodies[17]!))), 17);
  assert.deepEqual(rootHash(store.merkle, 40), root);
  assert.deepEqual(
    store.findByKey('key:2'),
    Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 3 === 2),
  );
  assert.deepEqual(
    readFileSync(join(dir, 'offsets.idx')),
    offsets,
    'the file says what entries.log says again',
  );
});

test('a read checks the body against its leaf hash', async (t) => {
  const dir = tempDir(t);
  await fill(dir, 10);
  const store = await LogStore.open(dir);
  t.after(() => store.close());
  // Someone rewrites entry 4 under the running server, checksum and all.
  const data = readFileSync(join(dir, 'entries.log'));
  const at = recordOffsets(dir)[4]!;
  const length = data.readUInt32LE(at + 4);
  const payload = Buffer.from(data.subarray(at + 12, at + 12 + length));
  payload[4] = payload[4]! ^ 0x01;
  const header = Buffer.alloc(4);
  header.writeUInt32LE(crc32(payload));
  const fd = openSync(join(dir, 'entries.log'), 'r+');
  writeSync(fd, header, 0, 4, at + 8);
  writeSync(fd, payload, 0, payload.length, at + 12);
  closeSync(fd);
  assert.throws(() => store.read(4), StoredEntryDamagedError);
  assert.equal(store.read(5).body.toString(), 'entry 5');
});

test('a folder of the previous format (TGE1 records, no checkpoints.log) opens with its entries and keys', async (t) => {
  const dir = tempDir(t);
  const v1 = (body: string, keys: string[]) => {
    const meta = Buffer.from(JSON.stringify({ t: 1_700_000_000, k: keys }));
    const payload = Buffer.concat([Buffer.alloc(4), Buffer.from(body), meta]);
    payload.writeUInt32LE(Buffer.byteLength(body), 0);
    const header = Buffer.alloc(12);
    header.writeUInt32LE(0x54474531, 0);
    header.writeUInt32LE(payload.length, 4);
    header.writeUInt32LE(crc32(payload), 8);
    return Buffer.concat([header, payload]);
  };
  writeFileSync(
    join(dir, 'entries.log'),
    Buffer.concat([v1('old 0', ['sha256:aa', 'a@example.com']), v1('old 1', [])]),
  );
  let store = await LogStore.open(dir);
  assert.equal(store.size, 2);
  assert.equal(store.read(0).body.toString(), 'old 0');
  assert.equal(store.read(0).integratedTime, 1_700_000_000);
  assert.deepEqual(store.findByKey('a@example.com'), [0]);
  await store.append({ body: Buffer.from('new 2'), searchKeys: ['a@example.com'] });
  await store.close();
  store = await LogStore.open(dir);
  t.after(() => store.close());
  assert.deepEqual(store.findByKey('a@example.com'), [0, 2]);
  assert.equal(store.read(2).body.toString(), 'new 2');
  assert.equal(statSync(join(dir, 'checkpoints.log')).size, 2 * CHECKPOINT_RECORD);
});
