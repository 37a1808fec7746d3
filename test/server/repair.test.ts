// The executable refuses to start on a data folder whose log lost committed entries (exit 3, naming
// the folder, the sizes and the repair command); `verify` reports it; `repair --from` refuses a copy
// that cannot satisfy every committed checkpoint and restores from one that can, after which the
// log continues as the same log.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hashedrekordProposal, proposalKey } from '../harness/log-proposals';
import { getJson, postJson, runCli, spawnCli, tempDir } from './helpers';

const key = proposalKey();

function entry(i: number) {
  const data = Buffer.from(`repair test ${i} ${process.pid}`);
  return hashedrekordProposal(data, key);
}

function lastRecordOffset(entriesLog: string): number {
  const data = readFileSync(entriesLog);
  let last = 0;
  for (let at = 0; at < data.length; at += 12 + data.readUInt32LE(at + 4)) last = at;
  return last;
}

test('refuse, verify, repair from a copy, continue', async (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'data');
  const uuids: string[] = [];
  const session = async (from: number, to: number) => {
    const server = await spawnCli(t, ['--data', data, '--port', '0']);
    for (let i = from; i < to; i++) {
      const res = await postJson(`${server.ready.url}/api/v1/log/entries`, entry(i));
      assert.equal(res.status, 201);
      uuids.push(Object.keys(res.json)[0]!);
    }
    const info = await getJson(`${server.ready.url}/api/v1/log`);
    server.child.kill('SIGTERM');
    assert.equal((await server.exit).code, 0);
    return info as { treeSize: number; rootHash: string };
  };
  await session(0, 30);
  cpSync(data, join(dir, 'old-copy'), { recursive: true });
  const published = await session(30, 35);
  assert.equal(published.treeSize, 35);
  cpSync(data, join(dir, 'copy'), { recursive: true });

  // The last record is torn off: the server used to come up with 34 entries and sign another 35th.
  const entriesLog = join(data, 'tlog', 'entries.log');
  truncateSync(entriesLog, lastRecordOffset(entriesLog) + 30);
  const refused = await runCli(['--data', data, '--port', '0']);
  assert.equal(refused.code, 3, refused.stderr);
  assert.equal(refused.stdout, '');
  assert.match(refused.stderr, new RegExp(`${entriesLog.replace(/[.]/g, '\\.')} holds 34 readable entries`));
  assert.match(refused.stderr, /checkpoint of size 35 \(root [0-9a-f]{64}/);
  assert.ok(refused.stderr.includes(`tollgate-server repair --data ${data} --from`), refused.stderr);
  assert.doesNotMatch(refused.stderr, /\n\s+at /, 'one message, no stack trace');

  const verified = await runCli(['verify', '--data', data]);
  assert.equal(verified.code, 3);
  assert.match(verified.stdout, /tlog \(transparency log\): 34 entries, \d+ checkpoints/);
  assert.match(verified.stdout, /checkpoint of size 35: it holds 34 entries/);
  assert.match(
    verified.stdout,
    /ctlog \(certificate transparency log\): 0 entries, 0 checkpoints, every checkpoint satisfied/,
  );

  const tooOld = await runCli(['repair', '--data', data, '--from', join(dir, 'old-copy')]);
  assert.equal(tooOld.code, 1);
  assert.match(
    tooOld.stdout,
    /tlog: not repaired: the copy's entries\.log does not satisfy .* size 35: it holds 30 entries.*Nothing was changed/,
  );
  assert.equal((await runCli(['--data', data, '--port', '0'])).code, 3, 'still refused');

  const other = tempDir(t);
  const stranger = await spawnCli(t, ['--data', other, '--port', '0']);
  stranger.child.kill('SIGTERM');
  await stranger.exit;
  const foreign = await runCli(['repair', '--data', data, '--from', other]);
  assert.equal(foreign.code, 2);
  assert.match(foreign.stderr, /a copy of another instance/);

  const repaired = await runCli(['repair', '--data', data, '--from', join(dir, 'copy')]);
  assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
  assert.match(repaired.stdout, /tlog: restored from .*: 35 entries satisfy all \d+ checkpoints/);
  assert.match(repaired.stdout, /ctlog: intact/);
  assert.equal((await runCli(['verify', '--data', data])).code, 0);

  // The same log again: every acknowledged entry, the published root, and it keeps appending.
  const server = await spawnCli(t, ['--data', data, '--port', '0']);
  const info = await getJson(`${server.ready.url}/api/v1/log`);
  assert.equal(info.treeSize, 35);
  assert.equal(info.rootHash, published.rootHash);
  for (const uuid of uuids)
    assert.equal((await fetch(`${server.ready.url}/api/v1/log/entries/${uuid}`)).status, 200);
  const next = await postJson(`${server.ready.url}/api/v1/log/entries`, entry(35));
  assert.equal((Object.values(next.json)[0] as { logIndex: number }).logIndex, 35);
  server.child.kill('SIGTERM');
  assert.equal((await server.exit).code, 0);
});

test('repair and verify refuse a running server and bad usage', async (t) => {
  const data = tempDir(t);
  const server = await spawnCli(t, ['--data', data, '--port', '0']);
  const busy = await runCli(['verify', '--data', data]);
  assert.equal(busy.code, 4);
  assert.match(busy.stderr, new RegExp(`in use by another tollgate-server \\(pid ${server.child.pid}`));
  server.child.kill('SIGTERM');
  await server.exit;
  assert.equal((await runCli(['repair', '--data', data])).code, 2);
  assert.equal((await runCli(['verify'])).code, 2);
  assert.equal((await runCli(['verify', '--data', data, '--from', data])).code, 2);
  assert.equal((await runCli(['verify', '--data', data])).code, 0);
});
