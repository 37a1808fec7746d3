// Durability under SIGKILL. The server process itself (the built executable, not a wrapper) is
// killed at random moments while clients append entries, request certificates (which append to
// the CT log) and read signed tree heads; it is restarted on the same data folder each time. After
// every restart: every acknowledged entry is there with its index and body, its inclusion proof
// verifies against the current root and its own acknowledged proof against its own checkpoint,
// and every checkpoint ever signed is consistent with the current tree (no two roots for one size).
//
// SIGKILL stops the process, not the machine: what it proves is that nothing acknowledged depends
// on memory, not that fdatasync reaches the platter. See server/README.md.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import { hashLeaf, rootFromInclusionProof, verifyConsistency } from '../../server/log/merkle';
import { hashedrekordProposal, proposalKey } from '../harness/log-proposals';
import { type CliServer, devToken, getJson, type Json, postJson, spawnCli, tempDir } from './helpers';

const ROUNDS = 4;
const WRITERS = 16;

// A small PRNG so that a failing run can be replayed: the seed is in every assertion message.
const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
let state = seed || 1;
const random = () => {
  state = (state * 48271) % 2147483647;
  return state / 2147483647;
};

const key = proposalKey();

function proposal(i: number) {
  const data = Buffer.from(`crash test entry ${i} ${seed} ${process.pid}`);
  return hashedrekordProposal(data, key);
}

interface Ack {
  uuid: string;
  body: string;
  logIndex: number;
  proof: { treeSize: number; hashes: string[]; checkpoint: string };
}

interface Checkpoint {
  size: number;
  root: Buffer;
}

function readCheckpoint(note: string, tlogKeyDer: Buffer): Checkpoint {
  const [body, signatureLine] = note.split('\n\n');
  const lines = body!.split('\n');
  const stamp = Buffer.from(signatureLine!.trim().split(' ')[2]!, 'base64');
  const publicKey = createPublicKey({ key: tlogKeyDer, format: 'der', type: 'spki' });
  assert.ok(
    verify('sha256', Buffer.from(`${body}\n`), publicKey, stamp.subarray(4)),
    `seed ${seed}: signature`,
  );
  return { size: Number(lines[1]), root: Buffer.from(lines[2]!, 'base64') };
}

/** Load against one server until it is killed at a random moment; collects acks and checkpoints. */
async function loadUntilKilled(server: CliServer, next: { i: number }, acks: Ack[], notes: string[]) {
  const { url } = server.ready;
  let alive = true;
  const writer = async () => {
    while (alive) {
      let res: Awaited<ReturnType<typeof postJson>>;
      try {
        res = await postJson(`${url}/api/v1/log/entries`, proposal(next.i++));
      } catch {
        return; // the server is gone; this request was never acknowledged
      }
      assert.equal(res.status, 201, `seed ${seed}: ${JSON.stringify(res.json)}`);
      const [uuid, entry] = Object.entries(res.json as Record<string, Json>)[0]!;
      acks.push({
        uuid,
        body: entry.body,
        logIndex: entry.logIndex,
        proof: entry.verification.inclusionProof,
      });
      notes.push(entry.verification.inclusionProof.checkpoint);
    }
  };
  // Certificates: each one appends a pre-certificate to the CT log before it is issued.
  const token = await devToken({ url }, { sub: 'crash@example.com', email: 'crash@example.com' });
  const certifier = async () => {
    while (alive) {
      const ephemeral = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      try {
        const res = await postJson(`${url}/api/v2/signingCert`, {
          credentials: { oidcIdentityToken: token },
          publicKeyRequest: {
            publicKey: {
              algorithm: 'ECDSA',
              content: ephemeral.publicKey.export({ format: 'pem', type: 'spki' }),
            },
            proofOfPossession: sign(
              'sha256',
              Buffer.from('crash@example.com'),
              ephemeral.privateKey,
            ).toString('base64'),
          },
        });
        assert.equal(res.status, 201, `seed ${seed}: ${JSON.stringify(res.json)}`);
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        return;
      }
    }
  };
  const reader = async () => {
    while (alive) {
      try {
        notes.push((await getJson(`${url}/api/v1/log`)).signedTreeHead);
      } catch {
        return;
      }
    }
  };
  const killer = (async () => {
    await new Promise((resolve) => setTimeout(resolve, 150 + random() * 1500));
    alive = false;
    server.kill();
  })();
  await Promise.all([killer, reader(), certifier(), ...Array.from({ length: WRITERS }, writer)]);
  assert.equal((await server.exit).signal, 'SIGKILL', `seed ${seed}: the server itself was killed`);
}

async function checkEverything(url: string, acks: Ack[], notes: string[]) {
  const root = await getJson(`${url}/trusted_root.json`);
  const tlogKey = Buffer.from(root.tlogs[0].publicKey.rawBytes, 'base64');
  const info = await getJson(`${url}/api/v1/log`);
  const current = readCheckpoint(info.signedTreeHead, tlogKey);
  assert.equal(current.size, info.treeSize);
  assert.ok(
    info.treeSize >= acks.length,
    `seed ${seed}: ${info.treeSize} entries hold all ${acks.length} acknowledged`,
  );

  for (const ack of acks) {
    const res = await fetch(`${url}/api/v1/log/entries/${ack.uuid}`);
    assert.equal(res.status, 200, `seed ${seed}: entry ${ack.uuid} (index ${ack.logIndex}) is there`);
    const entry = ((await res.json()) as Record<string, Json>)[ack.uuid];
    assert.equal(entry.body, ack.body, `seed ${seed}`);
    assert.equal(entry.logIndex, ack.logIndex, `seed ${seed}`);
    const leaf = hashLeaf(Buffer.from(entry.body, 'base64'));
    const proof = entry.verification.inclusionProof;
    const hashes = proof.hashes.map((h: string) => Buffer.from(h, 'hex'));
    assert.deepEqual(rootFromInclusionProof(leaf, proof.logIndex, proof.treeSize, hashes), current.root);
    const own = readCheckpoint(ack.proof.checkpoint, tlogKey);
    const ownHashes = ack.proof.hashes.map((h) => Buffer.from(h, 'hex'));
    assert.deepEqual(
      rootFromInclusionProof(leaf, ack.logIndex, own.size, ownHashes),
      own.root,
      `seed ${seed}`,
    );
  }

  // Every signed checkpoint, once per (size, root): one root per size, each a prefix of today's tree.
  const bySize = new Map<number, string>();
  for (const note of new Set(notes)) {
    const checkpoint = readCheckpoint(note, tlogKey);
    const root = checkpoint.root.toString('hex');
    const seen = bySize.get(checkpoint.size);
    assert.ok(
      seen === undefined || seen === root,
      `seed ${seed}: two roots signed for size ${checkpoint.size}`,
    );
    bySize.set(checkpoint.size, root);
  }
  for (const [size, root] of bySize) {
    if (size === 0) {
      assert.equal(root, createHash('sha256').digest('hex'), `seed ${seed}: the empty tree's root`);
      continue;
    }
    const proof = await getJson(`${url}/api/v1/log/proof?firstSize=${size}&lastSize=${info.treeSize}`);
    const hashes = proof.hashes.map((h: string) => Buffer.from(h, 'hex'));
    assert.ok(
      verifyConsistency(size, info.treeSize, Buffer.from(root, 'hex'), current.root, hashes),
      `seed ${seed}: checkpoint of size ${size} is consistent with size ${info.treeSize}`,
    );
  }
  return { size: info.treeSize as number, checkpoints: bySize.size };
}

test('SIGKILL at random moments under load: every acknowledged entry and signed checkpoint survives', async (t) => {
  const data = tempDir(t);
  const acks: Ack[] = [];
  const notes: string[] = [];
  const next = { i: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const server = await spawnCli(t, ['--data', data, '--port', '0']);
    if (round > 0) await checkEverything(server.ready.url, acks, notes);
    await loadUntilKilled(server, next, acks, notes);
  }
  const last = await spawnCli(t, ['--data', data, '--port', '0']);
  const outcome = await checkEverything(last.ready.url, acks, notes);
  assert.ok(acks.length > 0 && outcome.checkpoints > 1, `seed ${seed}: the load ran`);
  t.diagnostic(
    `seed ${seed}: ${acks.length} acknowledged entries, ${outcome.checkpoints} distinct checkpoints, ${ROUNDS} kills`,
  );

  // The restarted log keeps appending after what it recovered.
  const fresh = await postJson(`${last.ready.url}/api/v1/log/entries`, proposal(next.i++));
  assert.equal(fresh.status, 201);
  assert.equal((Object.values(fresh.json)[0] as { logIndex: number }).logIndex, outcome.size);
  last.child.kill('SIGTERM');
  assert.deepEqual(await last.exit, { code: 0, signal: null });
});
