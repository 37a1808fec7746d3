// An install asks each configured store for all its packages at once (engine/store-batches.ts) where the
// store answers POST /-/tollgate/v1/attestations; whatever a batch does not answer — a store without
// the endpoint, a version left out, an entry that does not read, a failed request — is asked one by one
// as before, so the evidence each package gets is the same either way.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { structUtils } from '@yarnpkg/core';
import { fetchRemoteEvidence } from '../../plugin/sources/engine/check/sources';
import { STORE_BATCH_PATH } from '../../plugin/sources/engine/fetching';
import { askStoresInBatches, STORE_BATCH_SIZE } from '../../plugin/sources/engine/store-batches';
import { listenOnLoopback, stopServer, yarnNetwork } from '../harness/yarn-network';

/** what each store holds: name@version → bundles */
const held = (spec: string) => (spec.startsWith('signed') ? [{ predicateType: 'p', bundle: { spec } }] : []);

type Mode = 'batch' | 'no-endpoint' | 'leaves-out-odd' | 'garbled' | 'fails';
const requests: string[] = [];
let server: http.Server;
let base: string;

before(async () => {
  server = http.createServer(async (req, res) => {
    const [, mode, ...rest] = (req.url ?? '').split('/');
    const path = `/${rest.join('/')}`;
    requests.push(`${req.method} /${mode}${path}`);
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'POST' && path === STORE_BATCH_PATH) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const { packages } = JSON.parse(Buffer.concat(chunks).toString()) as { packages: string[] };
      if (mode === 'no-endpoint') return json(404, { message: 'no endpoint' });
      if (mode === 'fails') return json(500, { message: 'broken' });
      const answer: Record<string, unknown> = {};
      packages.forEach((spec, i) => {
        if (mode === 'leaves-out-odd' && i % 2 === 1) return;
        answer[spec] = mode === 'garbled' ? { attestations: 'none' } : { attestations: held(spec) };
      });
      return json(200, { packages: answer });
    }
    const match = /^\/-\/npm\/v1\/attestations\/(.+)$/.exec(path);
    if (req.method === 'GET' && match) {
      const spec = decodeURIComponent(match[1]!);
      return held(spec).length ? json(200, { attestations: held(spec) }) : json(404, { message: 'none' });
    }
    // the registry: every version's document
    const [, name, version] = path.split('/');
    return json(200, { name, version, dist: { integrity: `sha512-${'A'.repeat(86)}==` } });
  });
  base = await listenOnLoopback(server);
});

after(() => stopServer(server));

const versions = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ name: i % 3 === 0 ? `plain${i}` : `signed${i}`, version: '1.0.0' }));

/** Every package's evidence from `store`, with the store asked in batches first, as an install does. */
async function evidence(mode: Mode, packages: Array<{ name: string; version: string }>, batched: boolean) {
  const net = yarnNetwork({}, { timeoutMs: 5_000 });
  const store = `${base}/${mode}`;
  if (batched) askStoresInBatches(net, [store], packages);
  const answers = [];
  for (const { name, version } of packages) {
    const remote = await fetchRemoteEvidence(
      net,
      [store],
      structUtils.parseIdent(name),
      name,
      version,
      `${base}/registry`,
    );
    answers.push(remote.attestations);
  }
  return answers;
}

const take = () => requests.splice(0);
const storeGets = (seen: string[]) =>
  seen.filter(
    (r) => r.startsWith('GET') && r.includes('/-/npm/v1/attestations/') && !r.includes('tollgate-probe'),
  );
const batches = (seen: string[]) => seen.filter((r) => r.startsWith('POST'));

describe('attestation store batches', () => {
  const packages = versions(STORE_BATCH_SIZE + 5);

  test('a store that answers batches is asked once per batch, with the same evidence for each package', async () => {
    take();
    const one = await evidence('batch', packages, false);
    assert.equal(storeGets(take()).length, packages.length, 'without batches: one request per package');
    const many = await evidence('batch', packages, true);
    const seen = take();
    assert.deepEqual(many, one);
    assert.equal(batches(seen).length, 2);
    assert.deepEqual(storeGets(seen), [], 'no package was asked on its own');
    assert.ok(
      many.some((a) => (a[0]?.bundles?.length ?? 0) > 0),
      'some packages have bundles',
    );
  });

  for (const mode of ['no-endpoint', 'fails', 'garbled'] as const) {
    test(`a store whose batch answer cannot be used (${mode}): every package is asked on its own`, async () => {
      take();
      const one = await evidence(mode, packages, false);
      take();
      const many = await evidence(mode, packages, true);
      const seen = take();
      assert.deepEqual(many, one);
      assert.equal(storeGets(seen).length, packages.length);
      assert.equal(
        batches(seen).length,
        mode === 'garbled' ? 2 : 1,
        'a store without usable batches is not asked again',
      );
    });
  }

  test('versions a batch leaves out are asked on their own, and only those', async () => {
    take();
    const one = await evidence('leaves-out-odd', packages, false);
    take();
    const many = await evidence('leaves-out-odd', packages, true);
    const seen = take();
    assert.deepEqual(many, one);
    assert.equal(batches(seen).length, 2);
    const expected = [...Array(STORE_BATCH_SIZE).keys()]
      .filter((i) => i % 2 === 1)
      .concat([...Array(5).keys()].filter((i) => i % 2 === 1).map((i) => STORE_BATCH_SIZE + i));
    assert.deepEqual(
      storeGets(seen).map((r) => decodeURIComponent(r.split('/attestations/')[1]!)),
      expected.map((i) => `${packages[i]!.name}@1.0.0`),
    );
  });
});
