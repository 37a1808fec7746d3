// Durability: entries appended under concurrent load and acknowledged before a SIGKILL are all
// there after a restart, each with a verifying inclusion proof, and the new tree is provably an
// extension of the last checkpoint published before the crash.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import { hashLeaf, rootFromInclusionProof, verifyConsistency } from '../../server/log/merkle';
import { getJson, postJson, spawnCli, tempDir } from './helpers';

const ENTRIES = 400;
const KILL_AFTER = 200;
const CONCURRENCY = 16;

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKeyB64 = Buffer.from(key.publicKey.export({ format: 'pem', type: 'spki' }).toString()).toString(
  'base64',
);

function proposal(i: number) {
  const data = Buffer.from(`crash test entry ${i} ${process.pid}`);
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(data).digest('hex') } },
      signature: {
        content: sign('sha256', data, key.privateKey).toString('base64'),
        publicKey: { content: publicKeyB64 },
      },
    },
  };
}

interface Ack {
  uuid: string;
  body: string;
  logIndex: number;
  treeSize: number;
  rootHash: string;
  checkpoint: string;
}

function checkCheckpoint(note: string, tlogKeyDer: Buffer): { size: number; root: Buffer } {
  const [body, signatureLine] = note.split('\n\n');
  const lines = body!.split('\n');
  const stamp = Buffer.from(signatureLine!.trim().split(' ')[2]!, 'base64');
  const publicKey = createPublicKey({ key: tlogKeyDer, format: 'der', type: 'spki' });
  assert.ok(
    verify('sha256', Buffer.from(`${body}\n`), publicKey, stamp.subarray(4)),
    'checkpoint signature verifies',
  );
  return { size: Number(lines[1]), root: Buffer.from(lines[2]!, 'base64') };
}

test('acknowledged entries survive SIGKILL and the restarted log extends every published checkpoint', async (t) => {
  const data = tempDir(t);
  const first = await spawnCli(t, ['--data', data, '--port', '0']);
  const acks: Ack[] = [];
  let next = 0;
  let killed = false;
  const worker = async () => {
    while (!killed && next < ENTRIES) {
      const i = next++;
      let res: Awaited<ReturnType<typeof postJson>>;
      try {
        res = await postJson(`${first.ready.url}/api/v1/log/entries`, proposal(i));
      } catch {
        return; // the server is gone
      }
      assert.equal(res.status, 201, JSON.stringify(res.json));
      const [uuid, entry] = Object.entries(res.json)[0] as [string, any];
      acks.push({ uuid, body: entry.body, logIndex: entry.logIndex, ...entry.verification.inclusionProof });
      if (acks.length >= KILL_AFTER && !killed) {
        killed = true;
        first.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  assert.equal((await first.exit).signal, 'SIGKILL');
  assert.ok(acks.length >= KILL_AFTER);

  const second = await spawnCli(t, ['--data', data, '--port', '0']);
  const url = second.ready.url;
  const root = await getJson(second.ready.trustedRoot);
  const tlogKey = Buffer.from(root.tlogs[0].publicKey.rawBytes, 'base64');
  const info = await getJson(`${url}/api/v1/log`);
  assert.ok(
    info.treeSize >= acks.length,
    `tree size ${info.treeSize} holds all ${acks.length} acknowledged entries`,
  );
  const current = checkCheckpoint(info.signedTreeHead, tlogKey);
  assert.equal(current.size, info.treeSize);

  for (const ack of acks) {
    const res = await fetch(`${url}/api/v1/log/entries/${ack.uuid}`);
    assert.equal(res.status, 200, `entry ${ack.uuid} is present`);
    const entry = ((await res.json()) as Record<string, any>)[ack.uuid];
    assert.equal(entry.body, ack.body);
    assert.equal(entry.logIndex, ack.logIndex);
    const proof = entry.verification.inclusionProof;
    const leaf = hashLeaf(Buffer.from(entry.body, 'base64'));
    const hashes = proof.hashes.map((h: string) => Buffer.from(h, 'hex'));
    assert.deepEqual(rootFromInclusionProof(leaf, proof.logIndex, proof.treeSize, hashes), current.root);
    // The proof that was acknowledged before the crash still holds for its own checkpoint.
    const old = checkCheckpoint(ack.checkpoint, tlogKey);
    const oldHashes = (ack as any).hashes.map((h: string) => Buffer.from(h, 'hex'));
    assert.deepEqual(rootFromInclusionProof(leaf, ack.logIndex, old.size, oldHashes), old.root);
  }

  const lastPublished = acks.reduce((a, b) => (b.treeSize > a.treeSize ? b : a));
  const old = checkCheckpoint(lastPublished.checkpoint, tlogKey);
  const consistency = await getJson(
    `${url}/api/v1/log/proof?firstSize=${old.size}&lastSize=${info.treeSize}`,
  );
  const hashes = consistency.hashes.map((h: string) => Buffer.from(h, 'hex'));
  assert.ok(
    verifyConsistency(old.size, info.treeSize, old.root, current.root, hashes),
    'consistency proof verifies',
  );

  // The restarted log keeps appending after what it recovered.
  const fresh = await postJson(`${url}/api/v1/log/entries`, proposal(ENTRIES + 1));
  assert.equal(fresh.status, 201);
  assert.equal((Object.values(fresh.json)[0] as { logIndex: number }).logIndex, info.treeSize);

  second.child.kill('SIGTERM');
  assert.deepEqual(await second.exit, { code: 0, signal: null });
});
