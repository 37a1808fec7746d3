// Rekor v1's batch read, POST /api/v1/log/entries/retrieve: full entries (SET, inclusion proof,
// checkpoint) equal to what GET serves per entry, one checkpoint per answer, every proof verifying
// and accepted by @sigstore/verify in a bundle; the bodies-only view (?view=bodies, up to 1,000);
// UUIDs, proposed entries and indexes in request order with unknown ones left out as Rekor does;
// hostile bodies refused with a 4xx and a reason; SETs signed once and remembered. The same against
// the built executable, across a restart, with the Host, Origin and Content-Type checks in front.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { json as canonicalJson } from '@sigstore/core';
import { RETRIEVE_LIMITS } from '../../server/log/batch-read';
import { hashLeaf, rootFromInclusionProof } from '../../server/log/merkle';
import { SetCache } from '../../server/log/set-cache';
import { hashedrekordProposal, proposalKey } from '../harness/log-proposals';
import {
  attestPackage,
  entity,
  getJson,
  type Json,
  postJson,
  spawnCli,
  startTestServer,
  tempDir,
  verifierFor,
} from './helpers';

const ENTRIES = 1030; // more than one bodies-only batch holds
const key = proposalKey();

const proposals = new Map<string, ReturnType<typeof newProposal>>();

/** The same proposal each time it is asked for (ECDSA signatures differ from one signing to the next). */
function proposal(i: number, tag = `${process.pid}`) {
  const id = `${i} ${tag}`;
  if (!proposals.has(id)) proposals.set(id, newProposal(i, tag));
  return proposals.get(id)!;
}

function newProposal(i: number, tag: string) {
  const data = Buffer.from(`batch read entry ${i} ${tag}`);
  return hashedrekordProposal(data, key);
}

/** Appends entries 0..count-1 through the API, 16 at a time; answers their UUIDs by log index. */
async function appendEntries(url: string, count: number, tag?: string): Promise<string[]> {
  const uuids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const res = await postJson(`${url}/api/v1/log/entries`, proposal(i, tag));
      assert.equal(res.status, 201, JSON.stringify(res.json));
      const [uuid, entry] = Object.entries(res.json as Record<string, Json>)[0]!;
      uuids[entry.logIndex] = uuid;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return uuids;
}

interface Answer {
  status: number;
  json: Json;
  headers: Headers;
}

function retrieve(url: string, body: unknown, view?: string): Promise<Answer> {
  return postJson(`${url}/api/v1/log/entries/retrieve${view === undefined ? '' : `?view=${view}`}`, body);
}

/** [uuid, entry] of each item of a retrieve answer, checking that each item holds one entry. */
function items(answer: Answer): [string, Json][] {
  assert.equal(answer.status, 200, JSON.stringify(answer.json).slice(0, 500));
  assert.ok(Array.isArray(answer.json));
  return answer.json.map((item: Json) => {
    const pairs = Object.entries(item);
    assert.equal(pairs.length, 1);
    return pairs[0] as [string, Json];
  });
}

async function getByIndex(url: string, index: number): Promise<Json> {
  return getJson(`${url}/api/v1/log/entries?logIndex=${index}`);
}

async function logKey(url: string): Promise<KeyObject> {
  return createPublicKey(await (await fetch(`${url}/api/v1/log/publicKey`)).text());
}

/** Checks an entry as a verifier would: leaf hash = UUID, inclusion proof to the signed checkpoint, SET. */
function assertVerifies(uuid: string, entry: Json, publicKey: KeyObject): { size: number; root: string } {
  const leaf = hashLeaf(Buffer.from(entry.body, 'base64'));
  assert.equal(leaf.toString('hex'), uuid, 'the UUID is the leaf hash of the body');
  const proof = entry.verification.inclusionProof;
  assert.equal(proof.logIndex, entry.logIndex);
  const root = rootFromInclusionProof(
    leaf,
    entry.logIndex,
    proof.treeSize,
    proof.hashes.map((h: string) => Buffer.from(h, 'hex')),
  );
  assert.equal(root.toString('hex'), proof.rootHash, `entry ${entry.logIndex}: the proof leads to the root`);
  const [note, signatureLine] = proof.checkpoint.split('\n\n');
  const lines = note.split('\n');
  assert.equal(Number(lines[1]), proof.treeSize);
  assert.equal(Buffer.from(lines[2], 'base64').toString('hex'), proof.rootHash);
  const stamp = Buffer.from(signatureLine.trim().split(' ')[2], 'base64');
  assert.ok(verify('sha256', Buffer.from(`${note}\n`), publicKey, stamp.subarray(4)), 'checkpoint signature');
  const payload = canonicalJson.canonicalize({
    body: entry.body,
    integratedTime: entry.integratedTime,
    logID: entry.logID,
    logIndex: entry.logIndex,
  });
  assert.ok(
    verify(
      'sha256',
      Buffer.from(payload),
      publicKey,
      Buffer.from(entry.verification.signedEntryTimestamp, 'base64'),
    ),
    `entry ${entry.logIndex}: SET`,
  );
  return { size: proof.treeSize, root: proof.rootHash };
}

const BODY_FIELDS = ['body', 'integratedTime', 'logID', 'logIndex'];

test('SetCache: remembers the SETs it was given, least recently used dropped first, only for the same entry', () => {
  const cache = new SetCache(2);
  const entry = (index: number, time = 100) => ({
    body: Buffer.from(`e${index}`),
    integratedTime: time,
    index,
    leafHash: hashLeaf(Buffer.from(`e${index}`)),
  });
  cache.put(entry(0), 'set-0');
  cache.put(entry(1), 'set-1');
  assert.equal(cache.get(entry(0)), 'set-0'); // 0 is now the most recently used
  cache.put(entry(2), 'set-2');
  assert.equal(cache.size, 2);
  assert.equal(cache.get(entry(1)), undefined, 'the least recently used was dropped');
  assert.equal(cache.get(entry(0)), 'set-0');
  assert.equal(cache.get(entry(2, 101)), undefined, 'another integrated time is another payload');
  const other = { ...entry(0), leafHash: hashLeaf(Buffer.from('another body')) };
  assert.equal(cache.get(other), undefined, 'another body at the index is another payload');
  assert.equal(cache.get(entry(0)), undefined, 'and the mismatching SET is forgotten');
  const none = new SetCache(0);
  none.put(entry(0), 'set-0');
  assert.equal(none.get(entry(0)), undefined);
});

test('batch read in process: full entries, bodies only, lookups, limits and hostile bodies', async (t) => {
  const messages: string[] = [];
  const server = await startTestServer(t, { log: (m) => messages.push(m) });
  const { url } = server;
  const uuids = await appendEntries(url, ENTRIES);
  const attested = await attestPackage(server, 'left-pad', '1.2.3');
  const attestedIndex = Number(attested.verificationMaterial.tlogEntries[0].logIndex);
  assert.equal(attestedIndex, ENTRIES);
  const size = ENTRIES + 1;
  const publicKey = await logKey(url);
  const info = await getJson(`${url}/api/v1/log`);
  const treePrefix = BigInt(info.treeID).toString(16).padStart(16, '0');

  await t.test('full entries equal the per-entry reads, in request order, at one tree size', async () => {
    const asked = [7, 0, attestedIndex, 3, 1000, 999, 12, 5, 1, 2];
    const answer = await retrieve(url, { logIndexes: asked });
    assert.equal(answer.headers.get('tollgate-retrieve-view'), 'full');
    assert.equal(answer.headers.get('tollgate-retrieve-limit'), String(RETRIEVE_LIMITS.full));
    const got = items(answer);
    assert.deepEqual(
      got.map(([, e]) => e.logIndex),
      asked,
    );
    for (const [uuid, entry] of got) {
      // The tree did not grow in between, and SETs are remembered: the very same entry, field by field.
      assert.deepEqual({ [uuid]: entry }, await getByIndex(url, entry.logIndex));
    }
    const checkpoints = new Set(got.map(([, e]) => e.verification.inclusionProof.checkpoint));
    assert.equal(checkpoints.size, 1, 'one signed checkpoint for the whole answer');
    for (const [uuid, entry] of got) assert.deepEqual(assertVerifies(uuid, entry, publicKey).size, size);
    assert.equal(got[0]![0], uuids[7]);
  });

  await t.test('a full entry read in a batch makes a bundle that @sigstore/verify accepts', async () => {
    const uuid = createHash('sha256')
      .update(
        Buffer.concat([
          Buffer.of(0),
          Buffer.from(attested.verificationMaterial.tlogEntries[0].canonicalizedBody, 'base64'),
        ]),
      )
      .digest('hex');
    const [[gotUuid, entry]] = items(await retrieve(url, { entryUUIDs: [uuid] })) as [[string, Json]];
    assert.equal(gotUuid, uuid);
    const bundle = JSON.parse(JSON.stringify(attested));
    const tlog = bundle.verificationMaterial.tlogEntries[0];
    const proof = entry.verification.inclusionProof;
    tlog.integratedTime = String(entry.integratedTime);
    tlog.inclusionPromise = { signedEntryTimestamp: entry.verification.signedEntryTimestamp };
    tlog.inclusionProof = {
      logIndex: String(proof.logIndex),
      rootHash: Buffer.from(proof.rootHash, 'hex').toString('base64'),
      treeSize: String(proof.treeSize),
      hashes: proof.hashes.map((h: string) => Buffer.from(h, 'hex').toString('base64')),
      checkpoint: { envelope: proof.checkpoint },
    };
    const verifier = await verifierFor(server);
    verifier.verify(entity(bundle));
    tlog.inclusionProof.hashes[0] = Buffer.alloc(32, 7).toString('base64');
    assert.throws(() => verifier.verify(entity(bundle)), 'a changed proof no longer verifies');
  });

  await t.test('bodies only: up to 1,000, the four fields, equal to the per-entry reads', async () => {
    const asked = Array.from({ length: RETRIEVE_LIMITS.bodies }, (_, i) => i + 30);
    const answer = await retrieve(url, { logIndexes: asked }, 'bodies');
    assert.equal(answer.headers.get('tollgate-retrieve-view'), 'bodies');
    assert.equal(answer.headers.get('tollgate-retrieve-limit'), '1000');
    assert.equal(answer.headers.get('content-length'), null, 'an answer this large is sent in slices');
    const got = items(answer);
    assert.deepEqual(
      got.map(([, e]) => e.logIndex),
      asked,
    );
    let next = 0;
    const compare = async () => {
      while (next < got.length) {
        const [uuid, entry] = got[next++]!;
        assert.deepEqual(Object.keys(entry).sort(), BODY_FIELDS);
        assert.equal(uuid, uuids[entry.logIndex]);
        const single = (await getByIndex(url, entry.logIndex))[uuid];
        for (const field of BODY_FIELDS) assert.deepEqual(entry[field], single[field], field);
      }
    };
    await Promise.all(Array.from({ length: 8 }, compare));
    // A small answer has a length.
    const small = await retrieve(url, { logIndexes: [attestedIndex] }, 'bodies');
    assert.ok(Number(small.headers.get('content-length')) > 0);
    assert.deepEqual(Object.keys(items(small)[0]![1]).sort(), BODY_FIELDS);
    // view=full is the default, spelled out.
    assert.equal(
      (await retrieve(url, { logIndexes: [1] }, 'full')).headers.get('tollgate-retrieve-view'),
      'full',
    );
  });

  await t.test('UUIDs, proposed entries, then indexes; what the log does not hold is left out', async () => {
    const unknownUuid = 'ab'.repeat(32);
    const otherTree = treePrefix === '0000000000000001' ? '0000000000000002' : '0000000000000001';
    const unlogged = proposal(999_999, 'never appended');
    for (const view of ['full', 'bodies']) {
      const answer = await retrieve(
        url,
        {
          entryUUIDs: [uuids[5], `${treePrefix}${uuids[2]}`, unknownUuid, `${otherTree}${uuids[9]}`],
          entries: [proposal(3), unlogged],
          logIndexes: [4, size, Number.MAX_SAFE_INTEGER],
        },
        view,
      );
      assert.deepEqual(
        items(answer).map(([uuid, e]) => [e.logIndex, uuid]),
        [5, 2, 3, 4].map((i) => [i, uuids[i]]),
        view,
      );
    }
    // An upper-case UUID is the same UUID.
    assert.deepEqual(
      items(await retrieve(url, { entryUUIDs: [uuids[6]!.toUpperCase()] })).map(([, e]) => e.logIndex),
      [6],
    );
    // Nothing appended by the lookups.
    assert.equal((await getJson(`${url}/api/v1/log`)).treeSize, size);
  });

  await t.test('null fields are absent (as Rekor clients send them); empty queries answer []', async () => {
    assert.deepEqual(
      items(await retrieve(url, { entryUUIDs: null, entries: null, logIndexes: [1] })).map(
        ([, e]) => e.logIndex,
      ),
      [1],
    );
    for (const body of [{}, { logIndexes: [] }, { entryUUIDs: [], entries: [], logIndexes: null }]) {
      const answer = await retrieve(url, body);
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.json, []);
    }
  });

  await t.test('a query asked twice is answered twice, as Rekor answers it', async () => {
    for (const view of ['full', 'bodies']) {
      const answer = await retrieve(
        url,
        {
          entryUUIDs: [uuids[1], `${treePrefix}${uuids[1]!.toUpperCase()}`],
          entries: [proposal(1)],
          logIndexes: [1, 2, 1],
        },
        view,
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      assert.deepEqual(
        items(answer).map(([uuid, e]) => [e.logIndex, uuid]),
        [1, 1, 1, 1, 2, 1].map((i) => [i, uuids[i]]),
        view,
      );
    }
  });

  await t.test('too many queries: 422 as Rekor answers, naming the limit and the bodies view', async () => {
    const cases: [unknown, string | undefined, RegExp][] = [
      [{ logIndexes: Array.from({ length: 11 }, (_, i) => i) }, undefined, /max allowed 10 .*view=bodies/],
      [
        { entryUUIDs: uuids.slice(0, 5), logIndexes: [20, 21, 22, 23, 24, 25] },
        undefined,
        /max allowed 10 entries in request: 11/,
      ],
      [{ logIndexes: Array.from({ length: 1001 }, (_, i) => i) }, 'bodies', /max allowed 1000/],
      [
        { entries: Array.from({ length: 11 }, (_, i) => proposal(i)) },
        'bodies',
        /max allowed 10 proposed "entries"/,
      ],
    ];
    for (const [body, view, message] of cases) {
      const answer = await retrieve(url, body, view);
      assert.equal(answer.status, 422, JSON.stringify(answer.json));
      assert.equal(answer.json.reason, 'TOO_MANY_QUERIES');
      assert.match(answer.json.message, message);
    }
  });

  await t.test('hostile bodies: a 4xx naming the field, never a 5xx', async () => {
    const cases: [string | unknown, number, string, RegExp][] = [
      ['{"logIndexes": [1, 2', 400, 'BAD_REQUEST', /not valid JSON/],
      ['', 400, 'BAD_REQUEST', /empty/],
      [[1, 2, 3], 400, 'BAD_REQUEST', /must be a JSON object/],
      ['"logIndexes"', 400, 'BAD_REQUEST', /must be a JSON object/],
      ['null', 400, 'BAD_REQUEST', /must be a JSON object/],
      [{ logIndex: [1] }, 400, 'BAD_REQUEST', /unknown field "logIndex".*did you mean "logIndexes"/],
      [{ logIndexes: [1], hash: 'sha256:00' }, 400, 'BAD_REQUEST', /unknown field "hash"/],
      [{ logIndexes: 5 }, 400, 'BAD_REQUEST', /"logIndexes" must be a JSON list/],
      [{ entryUUIDs: 'ab'.repeat(32) }, 400, 'BAD_REQUEST', /"entryUUIDs" must be a JSON list/],
      [{ logIndexes: [-1] }, 400, 'BAD_REQUEST', /logIndexes\[0\] must be a log index.*got -1/],
      [{ logIndexes: [0, 1.5] }, 400, 'BAD_REQUEST', /logIndexes\[1\].*got 1\.5/],
      [{ logIndexes: ['3'] }, 400, 'BAD_REQUEST', /logIndexes\[0\].*got "3"/],
      [{ logIndexes: [null] }, 400, 'BAD_REQUEST', /logIndexes\[0\]/],
      [{ logIndexes: [true] }, 400, 'BAD_REQUEST', /logIndexes\[0\]/],
      [{ logIndexes: [[1]] }, 400, 'BAD_REQUEST', /logIndexes\[0\]/],
      [{ logIndexes: [1e20] }, 400, 'BAD_REQUEST', /logIndexes\[0\].*9007199254740991/],
      ['{"logIndexes": [9007199254740993]}', 400, 'BAD_REQUEST', /logIndexes\[0\]/],
      ['{"logIndexes": [1e400]}', 400, 'BAD_REQUEST', /logIndexes\[0\]/],
      [{ entryUUIDs: ['xyz'] }, 400, 'BAD_REQUEST', /entryUUIDs\[0\] must be an entry UUID/],
      [{ entryUUIDs: ['ab'.repeat(33)] }, 400, 'BAD_REQUEST', /entryUUIDs\[0\]/],
      [{ entryUUIDs: [42] }, 400, 'BAD_REQUEST', /entryUUIDs\[0\]/],
      [
        { entries: [{ kind: 'rekord', apiVersion: '0.0.1' }] },
        400,
        'INVALID_ENTRY',
        /^entries\[0\]: unsupported/,
      ],
      [
        {
          entries: [
            {
              ...proposal(1),
              spec: {
                ...proposal(1).spec,
                signature: { ...proposal(1).spec.signature, content: proposal(2).spec.signature.content },
              },
            },
          ],
        },
        400,
        'INVALID_SIGNATURE',
        /^entries\[0\]/,
      ],
      [`{"logIndexes": ${'['.repeat(40)}${']'.repeat(40)}}`, 400, 'JSON_TOO_DEEP', /nests/],
      [
        `{"logIndexes": [${Array.from({ length: 20_001 }, () => '0').join(',')}]}`,
        400,
        'JSON_TOO_COMPLEX',
        /20000/,
      ],
    ];
    for (const [body, status, reason, message] of cases) {
      const answer = await retrieve(url, body, 'bodies');
      assert.equal(
        answer.status,
        status,
        `${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(answer.json)}`,
      );
      assert.equal(answer.json.reason, reason, JSON.stringify(body).slice(0, 80));
      assert.match(answer.json.message, message);
    }
    for (const view of ['Bodies', 'proofs', '']) {
      const answer = await retrieve(url, { logIndexes: [1] }, view);
      assert.equal(answer.status, 400, `view=${view}`);
      assert.match(answer.json.message, /"view" must be "bodies".*or "full"/);
    }
    const twice = await postJson(`${url}/api/v1/log/entries/retrieve?view=bodies&view=full`, {
      logIndexes: [1],
    });
    assert.equal(twice.status, 400);
    const tooLarge = await retrieve(url, `{"logIndexes": [1], "pad": "${'x'.repeat(5 * 1024 * 1024)}"}`);
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.json.reason, 'BODY_TOO_LARGE');
    const text = await fetch(`${url}/api/v1/log/entries/retrieve`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: '{"logIndexes": [1]}',
    });
    assert.equal(text.status, 415);
    const get = await fetch(`${url}/api/v1/log/entries/retrieve`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.deepEqual(
      messages.filter((m) => /internal error/.test(m)),
      [],
    );
  });

  await t.test('a client that goes away mid-answer costs nothing more', async () => {
    const { hostname, port } = new URL(url);
    for (let round = 0; round < 3; round++) {
      const socket = connect({ host: hostname, port: Number(port) });
      await once(socket, 'connect');
      const body = JSON.stringify({ logIndexes: Array.from({ length: 1000 }, (_, i) => i) });
      socket.write(
        `POST /api/v1/log/entries/retrieve?view=bodies HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      await once(socket, 'data'); // the first slice
      socket.destroy();
    }
    const after = items(await retrieve(url, { logIndexes: [0, 1, 2] }, 'bodies'));
    assert.equal(after.length, 3);
    assert.deepEqual(
      messages.filter((m) => /internal error/.test(m)),
      [],
    );
  });

  await t.test('a SET is signed once per entry and remembered', async () => {
    const appended = await postJson(`${url}/api/v1/log/entries`, proposal(5000));
    const [uuid, entry] = Object.entries(appended.json as Record<string, Json>)[0]!;
    const set = entry.verification.signedEntryTimestamp;
    const again = (await getByIndex(url, entry.logIndex))[uuid];
    assert.equal(again.verification.signedEntryTimestamp, set, 'the SET of the append answers later reads');
    const [[, batched]] = items(await retrieve(url, { logIndexes: [entry.logIndex] })) as [[string, Json]];
    assert.equal(batched.verification.signedEntryTimestamp, set);
    assertVerifies(uuid, batched, publicKey);
  });
});

test('a batch read checks every body against its leaf hash: a body changed on disk is a 500, never served', async (t) => {
  const messages: string[] = [];
  const server = await startTestServer(t, { log: (m) => messages.push(m) });
  await appendEntries(server.url, 3, 'damaged');
  // Someone changes entry 1's body in entries.log under the running server.
  const file = join(server.dataDir, 'tlog', 'entries.log');
  const data = readFileSync(file);
  const digest = proposal(1, 'damaged').spec.data.hash.value;
  const at = data.indexOf(digest);
  assert.ok(at > 0);
  data[at] = data[at] === 0x30 ? 0x31 : 0x30;
  writeFileSync(file, data);
  for (const view of ['full', 'bodies']) {
    const damaged = await retrieve(server.url, { logIndexes: [0, 1, 2] }, view);
    assert.equal(damaged.status, 500, view);
    assert.equal(damaged.json.reason, 'STORAGE_DAMAGED');
    assert.match(damaged.json.message, /entry 1 of .*entries\.log no longer matches its leaf hash/);
    assert.deepEqual(
      items(await retrieve(server.url, { logIndexes: [0, 2] }, view)).map(([, e]) => e.logIndex),
      [0, 2],
    );
  }
  assert.ok(messages.some((m) => /retrieve.*no longer matches its leaf hash/.test(m)));
});

test('the executable: batch reads behind its request checks, the same answers after a restart', async (t) => {
  const data = `${tempDir(t)}/data`;
  const first = await spawnCli(t, ['--data', data, '--port', '0']);
  let { url } = first.ready;
  const count = 25;
  const uuids = await appendEntries(url, count, 'executable');
  const publicKey = await logKey(url);

  const full = items(await retrieve(url, { logIndexes: [9, 0, 1, 2, 3, 4, 5, 6, 7, 8] }));
  for (const [uuid, entry] of full) {
    assert.deepEqual({ [uuid]: entry }, await getByIndex(url, entry.logIndex));
    assertVerifies(uuid, entry, publicKey);
  }
  const all = Array.from({ length: count }, (_, i) => i);
  const bodies = items(await retrieve(url, { logIndexes: all, entryUUIDs: [uuids[3]] }, 'bodies'));
  assert.deepEqual(
    bodies.map(([, e]) => e.logIndex),
    [3, ...all],
  );

  const { host, port } = new URL(url);
  const post = (headers: Record<string, string>, body = '{"logIndexes": [1]}') =>
    fetch(`${url}/api/v1/log/entries/retrieve?view=bodies`, { method: 'POST', headers, body });
  assert.equal((await post({ 'Content-Type': 'text/plain' })).status, 415);
  assert.equal(
    (await post({ 'Content-Type': 'application/json', Origin: 'https://evil.example' })).status,
    403,
  );
  assert.equal(
    (await post({ 'Content-Type': 'application/json', 'Sec-Fetch-Site': 'cross-site' })).status,
    403,
  );
  assert.equal(
    (await post({ 'Content-Type': 'application/json', Origin: `http://${host}` })).status,
    200,
    'its own origin',
  );
  const rebound = await new Promise<number>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
      if (answer.includes('\r\n')) {
        resolve(Number(answer.split(' ')[1]));
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.write(
      'POST /api/v1/log/entries/retrieve HTTP/1.1\r\nHost: attacker.example\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
    );
  });
  assert.equal(rebound, 421);
  for (const [body, status] of [
    ['{"logIndexes": [', 400],
    ['{"logIndexes": [-5]}', 400],
    ['{"logIndexes": [4, "4"]}', 400],
    [`{"logIndexes": [${Array.from({ length: 1001 }, (_, i) => i).join(',')}]}`, 422],
  ] as const) {
    const answer = await post({ 'Content-Type': 'application/json' }, body);
    assert.equal(answer.status, status, body.slice(0, 40));
    assert.ok(((await answer.json()) as { reason: string }).reason);
  }

  first.child.kill('SIGTERM');
  assert.equal((await first.exit).code, 0);
  const second = await spawnCli(t, ['--data', data, '--port', '0']);
  url = second.ready.url;
  const afterRestart = items(await retrieve(url, { logIndexes: all }, 'bodies'));
  assert.deepEqual(afterRestart, bodies.slice(1), 'the same bodies, times and indexes after a restart');
  for (const [uuid, entry] of items(await retrieve(url, { logIndexes: [0, 24, 12] }))) {
    assertVerifies(uuid, entry, publicKey);
  }
  second.child.kill('SIGTERM');
  assert.equal((await second.exit).code, 0);
});
