// The go/no-go endpoint of the built tollgate-server: answers from the known-bad database and from its
// own log and attestation store, each signed with the verdict key and verifiable by a client that has
// only the public key; the snapshots it loaded are served for `db update --from <url>`.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { digestOfIntegrity, type Envelope, VerdictError, verifyVerdict } from '../../knownbad';
import { malRecord, recordText } from '../knownbad/records';
import { attestPackage, putAttestation, runCli, spawnCli, tempDir } from './helpers';

test('GET /api/v1/verdict answers go, no-go and unknown, signed, with the database matches and the log evidence', async (t) => {
  const lists = tempDir(t, 'tollgate-verdict-lists-');
  mkdirSync(join(lists, 'osv'), { recursive: true });
  writeFileSync(
    join(lists, 'osv', 'MAL-2026-301.json'),
    recordText(malRecord({ id: 'MAL-2026-301', name: 'evil-pkg', ranges: [[{ introduced: '0' }]] })),
  );
  const snapshot = join(lists, 'acme.zip');
  writeFileSync(
    snapshot,
    zipSync({
      'MAL-2026-302.json': Buffer.from(
        recordText(malRecord({ id: 'MAL-2026-302', name: 'zip-pkg', versions: ['1.0.0'] })),
      ),
    }),
  );
  const server = await spawnCli(t, [
    '--data',
    join(tempDir(t), 'data'),
    '--port',
    '0',
    '--known-bad',
    join(lists, 'osv'),
    '--known-bad',
    snapshot,
  ]);
  const base = server.ready.url;
  const publicKey = createPublicKey(await (await fetch(`${base}/api/v1/verdict/public-key`)).text());

  const tarball = Buffer.from('good-pkg@1.0.0 tarball bytes');
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
  const bundle = await attestPackage({ url: base }, 'good-pkg', '1.0.0', {
    tarball,
    email: 'release@acme.example',
  });
  assert.equal((await putAttestation({ url: base }, 'good-pkg@1.0.0', bundle)).status, 201);

  const ask = async (purl: string, digest?: string, nonce = 'n0nce') => {
    const query = new URLSearchParams({ purl, ...(digest ? { digest } : {}), nonce });
    const res = await fetch(`${base}/api/v1/verdict?${query}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Envelope;
    return { body, answer: verifyVerdict(body, publicKey, { purl, ...(digest ? { digest } : {}), nonce }) };
  };

  const go = await ask('pkg:npm/good-pkg@1.0.0', digestOfIntegrity(integrity));
  assert.equal(go.answer.verdict, 'go');
  assert.deepEqual(go.answer.matches, []);
  assert.equal(go.answer.signatures.length, 1);
  assert.equal(go.answer.signatures[0]!.subject, 'release@acme.example');
  assert.match(go.answer.signatures[0]!.integratedTime!, /^\d{4}-\d\d-\d\dT/);
  assert.equal(go.answer.database.records, 2);

  const nogo = await ask('pkg:npm/evil-pkg@3.1.4', digestOfIntegrity(integrity));
  assert.equal(nogo.answer.verdict, 'no-go');
  assert.equal(nogo.answer.matches[0]!.id, 'MAL-2026-301');
  assert.match(nogo.answer.matches[0]!.detail, /version 3\.1\.4 in SEMVER introduced 0/);
  assert.equal(
    (await ask('pkg:npm/zip-pkg@1.0.0')).answer.verdict,
    'no-go',
    'records of a zip snapshot count too',
  );

  const other = Buffer.from('other bytes');
  const unknown = await ask(
    'pkg:npm/good-pkg@1.0.0',
    `sha512:${createHash('sha512').update(other).digest('hex')}`,
  );
  assert.equal(unknown.answer.verdict, 'unknown', 'the log holds nothing for those bytes');
  assert.equal((await ask('pkg:npm/never-seen@1.0.0')).answer.verdict, 'unknown');

  // A client verifies: another key, an altered answer, and a replayed answer to another question fail.
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  assert.throws(
    () =>
      verifyVerdict(go.body, stranger, {
        purl: 'pkg:npm/good-pkg@1.0.0',
        digest: digestOfIntegrity(integrity),
        nonce: 'n0nce',
      }),
    VerdictError,
  );
  const altered = structuredClone(nogo.body);
  const payload = JSON.parse(Buffer.from(altered.payload, 'base64').toString('utf8'));
  payload.verdict = 'go';
  altered.payload = Buffer.from(JSON.stringify(payload)).toString('base64');
  assert.throws(
    () =>
      verifyVerdict(altered, publicKey, {
        purl: 'pkg:npm/evil-pkg@3.1.4',
        digest: digestOfIntegrity(integrity),
        nonce: 'n0nce',
      }),
    /not signed by the configured verdict key/,
  );
  assert.throws(
    () =>
      verifyVerdict(go.body, publicKey, {
        purl: 'pkg:npm/good-pkg@1.0.0',
        digest: digestOfIntegrity(integrity),
        nonce: 'fresh',
      }),
    /about another question/,
  );

  // Bad questions are 4xx, with the field.
  const bad = await fetch(`${base}/api/v1/verdict?purl=left-pad`);
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { message: string }).message, /not an npm purl/);
  const badDigest = await fetch(`${base}/api/v1/verdict?purl=pkg:npm/a@1.0.0&digest=md5:00`);
  assert.equal(badDigest.status, 400);
  assert.equal(
    (
      await fetch(`${base}/api/v1/verdict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
    ).status,
    405,
  );

  // The snapshot file it loaded is served as it is, for `yarn tollgate db update --from <url>`.
  const listing = (await (await fetch(`${base}/api/v1/known-bad`)).json()) as {
    snapshots: Array<{ name: string; url: string }>;
  };
  assert.deepEqual(
    listing.snapshots.map((s) => s.name),
    ['acme.zip'],
  );
  const served = Buffer.from(await (await fetch(`${base}${listing.snapshots[0]!.url}`)).arrayBuffer());
  assert.equal(served.readUInt32LE(0), 0x04034b50);
  assert.equal(
    (await fetch(`${base}/api/v1/known-bad/acme.zip.sigstore.json`)).status,
    404,
    'no bundle beside it',
  );
});

test('tollgate-server refuses a --known-bad source with nothing usable in it, naming it', async (t) => {
  const empty = tempDir(t, 'tollgate-verdict-empty-');
  writeFileSync(join(empty, 'x.json'), '{"summary":"no id"}');
  const res = await runCli(['--data', join(tempDir(t), 'data'), '--port', '0', '--known-bad', empty]);
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /--known-bad .*holds no valid OSV record/);
});
