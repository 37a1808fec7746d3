// The attestation store keeps every verified bundle for a version, deduplicated, with who attached
// it and the identity it verified as, and returns them all in the order attached. A first writer
// can no longer decide a version's evidence: the real publisher's bundle is stored next to theirs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AttestationStore } from '../../server/attestations/store';
import {
  attestPackage,
  entity,
  getJson,
  type Json,
  putAttestation,
  spawnCli,
  startTestServer,
  tempDir,
  verifierFor,
} from './helpers';

const tarball = Buffer.from('the real left-pad 1.0.0 tarball');

/** The sha512 the bundle's statement gives for its subject. */
function subjectDigest(bundle: Json): string {
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
  return statement.subject[0].digest.sha512;
}

test('every verified bundle is kept, in order, deduplicated, with who attached it', async (t) => {
  const server = await startTestServer(t, { attestationToken: 'a-token-of-sixteen-chars' });
  // The attacker attaches first: a valid bundle, by their own identity, for other bytes.
  const forged = await attestPackage(server, 'left-pad', '1.0.0', {
    email: 'mallory@evil.example',
    tarball: Buffer.from('something else'),
  });
  const real = await attestPackage(server, 'left-pad', '1.0.0', { email: 'alice@example.com', tarball });

  const first = await putAttestation(server, 'left-pad@1.0.0', forged);
  assert.equal(first.status, 201);
  const second = await putAttestation(server, 'left-pad@1.0.0', { bundle: real });
  assert.equal(second.status, 201, 'the publisher is not refused because someone attached first');
  const again = await putAttestation(server, 'left-pad@1.0.0', real);
  assert.equal(again.status, 200, 'the identical bundle again is idempotent');
  assert.deepEqual(again.json.attestations[0], second.json.attestations[0], 'and answers the stored record');
  const byToken = await fetch(`${server.url}/-/npm/v1/attestations/left-pad@1.0.0`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer a-token-of-sixteen-chars' },
    body: JSON.stringify(
      await attestPackage(server, 'left-pad', '1.0.0', { email: 'bob@example.com', tarball }),
    ),
  });
  assert.equal(byToken.status, 201);

  const listed = await getJson(`${server.url}/-/npm/v1/attestations/left-pad@1.0.0`);
  assert.equal(listed.attestations.length, 3);
  assert.deepEqual(
    listed.attestations.map((a: Json) => [a.signer.subjectAlternativeName, a.attachedBy.via]),
    [
      ['mallory@evil.example', 'loopback'],
      ['alice@example.com', 'loopback'],
      ['bob@example.com', 'token'],
    ],
  );
  for (const a of listed.attestations) {
    assert.equal(a.predicateType, 'https://slsa.dev/provenance/v1');
    assert.equal(a.attachedBy.peer, '127.0.0.1');
    assert.equal(a.signer.issuer, `${server.url}/oidc`);
    assert.ok(!Number.isNaN(Date.parse(a.attachedAt)));
  }
  assert.deepEqual(listed.attestations[1].bundle, real);

  // Each bundle verifies on its own; which ones describe the tarball is the verifier's check.
  const verifier = await verifierFor(server);
  const sha512 = createHash('sha512').update(tarball).digest('hex');
  for (const a of listed.attestations) verifier.verify(entity(a.bundle));
  assert.deepEqual(
    listed.attestations.map((a: Json) => subjectDigest(a.bundle) === sha512),
    [false, true, true],
  );
});

test('the store bounds what one version can hold', async (t) => {
  const server = await startTestServer(t);
  const root = await getJson(server.trustedRootUrl);
  const store = new AttestationStore(
    tempDir(t),
    () => root,
    () => {},
    { perVersion: 2, bytesPerVersion: 1 << 20 },
  );
  const pkg = { name: 'bounded', version: '1.0.0' };
  const attacher = { via: 'loopback' as const, peer: '127.0.0.1' };
  for (const email of ['a@example.com', 'b@example.com']) {
    assert.equal(
      (await store.add(pkg, await attestPackage(server, 'bounded', '1.0.0', { email }), attacher)).created,
      true,
    );
  }
  await assert.rejects(
    store.add(pkg, await attestPackage(server, 'bounded', '1.0.0', { email: 'c@example.com' }), attacher),
    (err: Json) =>
      err.status === 409 && err.reason === 'TOO_MANY_ATTESTATIONS' && /at most 2/.test(err.message),
  );
  assert.equal(store.list(pkg).length, 2);
});

test('a data folder of the first layout is converted on start', async (t) => {
  const dataDir = tempDir(t);
  let server = await startTestServer(t, { dataDir });
  const bundle = await attestPackage(server, '@acme/util', '0.1.0');
  await server.close();
  const legacy = join(dataDir, 'attestations', `${encodeURIComponent('@acme/util@0.1.0')}.json`);
  writeFileSync(
    legacy,
    JSON.stringify({ attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', bundle }] }),
  );
  const messages: string[] = [];
  server = await startTestServer(t, { dataDir, log: (m) => messages.push(m) });
  assert.match(messages.join('\n'), /converted %40acme%2Futil%400\.1\.0\.json/);
  assert.ok(!readdirSync(join(dataDir, 'attestations')).some((f) => f.endsWith('.json')));
  const listed = await getJson(`${server.url}/-/npm/v1/attestations/@acme%2futil@0.1.0`);
  assert.equal(listed.attestations.length, 1);
  assert.deepEqual(listed.attestations[0].bundle, bundle);
  assert.equal(listed.attestations[0].attachedBy.via, 'unknown');
  // Attaching the same bundle again is recognised as the stored one.
  assert.equal((await putAttestation(server, '@acme%2futil@0.1.0', bundle)).status, 200);
});

test('the executable keeps every attachment across a SIGKILL', async (t) => {
  const dataDir = tempDir(t);
  let server = await spawnCli(t, ['--data', dataDir, '--port', '0']);
  const target = { url: server.ready.url };
  const bundles = [
    await attestPackage(target, 'kept', '2.0.0', { email: 'a@example.com' }),
    await attestPackage(target, 'kept', '2.0.0', { email: 'b@example.com' }),
  ];
  for (const bundle of bundles)
    assert.equal((await putAttestation(target, 'kept@2.0.0', bundle)).status, 201);
  server.kill();
  await server.exit;
  server = await spawnCli(t, ['--data', dataDir, '--port', '0']);
  const listed = await getJson(`${server.ready.url}/-/npm/v1/attestations/kept@2.0.0`);
  assert.deepEqual(
    listed.attestations.map((a: Json) => a.bundle),
    bundles,
  );
  server.child.kill('SIGTERM');
  await server.exit;
});

test('many versions are answered in one request, each as its own GET answers it', async (t) => {
  const server = await startTestServer(t);
  const real = await attestPackage(server, 'left-pad', '1.0.0', { email: 'alice@example.com', tarball });
  const scoped = await attestPackage(server, '@acme/util', '2.0.0', { email: 'alice@example.com', tarball });
  assert.equal((await putAttestation(server, 'left-pad@1.0.0', real)).status, 201);
  assert.equal((await putAttestation(server, '@acme%2futil@2.0.0', scoped)).status, 201);
  const ask = (body: unknown) =>
    fetch(`${server.url}/-/tollgate/v1/attestations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  const answer = await ask({ packages: ['left-pad@1.0.0', '@acme/util@2.0.0', 'none-here@1.0.0'] });
  assert.equal(answer.status, 200);
  const { packages } = (await answer.json()) as Json;
  assert.deepEqual(Object.keys(packages), ['left-pad@1.0.0', '@acme/util@2.0.0', 'none-here@1.0.0']);
  assert.deepEqual(
    packages['left-pad@1.0.0'],
    await getJson(`${server.url}/-/npm/v1/attestations/left-pad@1.0.0`),
  );
  assert.deepEqual(
    packages['@acme/util@2.0.0'],
    await getJson(`${server.url}/-/npm/v1/attestations/@acme%2futil@2.0.0`),
  );
  assert.deepEqual(packages['none-here@1.0.0'], { attestations: [] }, 'a version without any: an empty list');

  for (const [body, problem] of [
    [{}, /1 to 512 entries/],
    [{ packages: [] }, /1 to 512 entries/],
    [{ packages: Array.from({ length: 513 }, (_, i) => `p${i}@1.0.0`) }, /1 to 512 entries/],
    [{ packages: [42] }, /packages\[0\] must be a string/],
    [{ packages: ['left-pad'] }, /must be <name>@<version>/],
    [{ packages: ['left-pad@latest'] }, /not a valid semver version/],
  ] as const) {
    const refused = await ask(body);
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(await refused.json()), problem);
  }
});

test('a batch answer stops before the versions past its size bound, to be asked one by one', (t) => {
  const dir = tempDir(t, 'tollgate-attestations-batch-');
  const store = new AttestationStore(dir, () => ({}));
  const folder = (spec: string) => join(dir, 'attestations', createHash('sha256').update(spec).digest('hex'));
  for (const [spec, size] of [
    ['a@1.0.0', 600],
    ['b@1.0.0', 600],
    ['c@1.0.0', 10],
  ] as const) {
    const record = JSON.stringify({ predicateType: 'p', bundle: { pad: 'x'.repeat(size) } });
    mkdirSync(folder(spec), { recursive: true });
    writeFileSync(join(folder(spec), `000000-${'0'.repeat(64)}.json`), `${record}\n`);
  }
  const pkgs = ['a', 'b', 'c'].map((name) => ({ name, version: '1.0.0' }));
  assert.equal(store.listMany(pkgs, 1000).length, 1, 'b would pass the bound: b and c are left out');
  assert.equal(store.listMany(pkgs, 10_000).length, 3);
  assert.equal(store.listMany(pkgs, 10).length, 1, 'the first version is always answered');
});
