// TUF refresh of trust roots (policy/evidence/trust/tuf-*.ts) against real repositories: the one
// tollgate-server publishes (key rotation followed; rollback, freeze, tampered cache refused), and the
// public-good chain as recorded in @sigstore/tuf's releases (root v14 → v15 → v16, real signatures).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { loadTrustRoots } from '../../policy/evidence';
import { refreshTuf } from '../../policy/evidence/trust/tuf-client';
import { TufError } from '../../policy/evidence/trust/tuf-error';
import { resolvePublicGoodTrustRoot, resolveTufTrustRoot } from '../../policy/evidence/trust/tuf-trust-root';
import { startServer } from '../../server/index';
import { TufRepository } from '../../server/tuf/repository';
import { tempDir } from '../server/helpers';

const secret = randomBytes(32);

/** An HTTP server on 127.0.0.1 that forwards to `upstream()` unless `override` answers. */
async function proxy(
  t: TestContext,
  upstream: () => string,
): Promise<{ url: string; override: Map<string, Buffer | 404>; requests: string[] }> {
  const override = new Map<string, Buffer | 404>();
  const requests: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    const planted = override.get(path);
    if (planted === 404) {
      res.writeHead(404).end();
      return;
    }
    if (planted) {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(planted);
      return;
    }
    try {
      const answer = await fetch(`${upstream()}${path}`);
      res
        .writeHead(answer.status, { 'Content-Type': 'application/json' })
        .end(Buffer.from(await answer.arrayBuffer()));
    } catch {
      res.writeHead(502).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  t.after(() => new Promise<void>((done) => server.close(() => done())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, override, requests };
}

async function tufCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TufError) return err.code;
    throw err;
  }
  return 'OK';
}

async function startOn(t: TestContext, dataDir: string) {
  const server = await startServer({ dataDir, log: () => {} });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
  };
  t.after(close);
  return { ...server, close };
}

test('tollgate-server publishes its trusted root over TUF; a client follows key rotations from the committed root', async (t) => {
  const dataDir = tempDir(t);
  const cacheRoot = tempDir(t, 'tollgate-tuf-cache-');
  let server = await startOn(t, dataDir);
  const front = await proxy(t, () => server.url);
  const anchor = Buffer.from(await (await fetch(`${server.tufUrl}/1.root.json`)).arrayBuffer());
  const options = {
    metadataUrl: `${front.url}/tuf`,
    anchorRoot: anchor,
    cacheRoot,
    secret,
    targets: ['trusted_root.json'],
    optionalTargets: ['signing_config.v0.2.json'],
  };

  const first = await refreshTuf({ ...options, mode: 'online' });
  assert.equal(first.from, 'network');
  assert.equal(first.rootVersion, 1);
  const served = await (await fetch(server.trustedRootUrl)).json();
  assert.deepEqual(JSON.parse(first.targets['trusted_root.json']!.toString('utf8')), served);
  const config = JSON.parse(first.targets['signing_config.v0.2.json']!.toString('utf8'));
  assert.equal(config.mediaType, 'application/vnd.dev.sigstore.signingconfig.v0.2+json');
  assert.equal(config.caUrls[0].url, server.url);
  // The refreshed root verifies bundles like the file would.
  loadTrustRoots([{ name: 'local', trustedRootJson: first.targets['trusted_root.json']!.toString('utf8') }]);

  // While the cached timestamp is unexpired, 'auto' asks nothing.
  front.requests.length = 0;
  const cached = await refreshTuf({ ...options, mode: 'auto' });
  assert.equal(cached.from, 'cache');
  assert.deepEqual(front.requests, []);

  // The operator rotates every role key (server stopped), then restarts: root v2..v5.
  await server.close();
  const repo = TufRepository.open(dataDir);
  for (const role of ['timestamp', 'snapshot', 'targets', 'root'] as const) repo.rotateKey(role);
  assert.equal(repo.rootVersion, 5);
  server = await startOn(t, dataDir);
  const rotated = await refreshTuf({ ...options, mode: 'online' });
  assert.equal(rotated.rootVersion, 5, 'every new root version was followed');
  assert.deepEqual(
    JSON.parse(rotated.targets['trusted_root.json']!.toString('utf8')),
    await (await fetch(server.trustedRootUrl)).json(),
    'the new server URL is in the refreshed trusted root',
  );
  // A client that never refreshed before follows the whole chain from the committed 1.root.json.
  const fresh = await refreshTuf({
    ...options,
    cacheRoot: tempDir(t, 'tollgate-tuf-cache-'),
    mode: 'online',
  });
  assert.equal(fresh.rootVersion, 5);

  // A root version not signed by the previous root key is refused (an attacker's root).
  const forged = JSON.parse(repo.rootJson(5).toString('utf8'));
  forged.signed.version = 6;
  forged.signed.expires = '2099-01-01T00:00:00Z';
  front.override.set('/tuf/6.root.json', Buffer.from(JSON.stringify(forged)));
  assert.equal(await tufCode(refreshTuf({ ...options, mode: 'online' })), 'TUF_SIGNATURE');
  front.override.clear();
});

test('rollback, freeze and a tampered cache are refused; unreachable falls back to the last verified copy with its age', async (t) => {
  const dataDir = tempDir(t);
  const cacheRoot = tempDir(t, 'tollgate-tuf-cache-');
  let server = await startOn(t, dataDir);
  const front = await proxy(t, () => server.url);
  const anchor = Buffer.from(await (await fetch(`${server.tufUrl}/1.root.json`)).arrayBuffer());
  const request = { name: 'acme', metadataUrl: `${front.url}/tuf`, anchorRoot: anchor, cacheRoot, secret };
  const options = { ...request, targets: ['trusted_root.json'] };

  await refreshTuf({ ...options, mode: 'online' });
  const oldTimestamp = Buffer.from(await (await fetch(`${server.tufUrl}/timestamp.json`)).arrayBuffer());
  // A restart on another port publishes a new trusted root: new targets, snapshot and timestamp.
  await server.close();
  server = await startOn(t, dataDir);
  const newer = await refreshTuf({ ...options, mode: 'online' });
  assert.ok(newer.timestampVersion > JSON.parse(oldTimestamp.toString('utf8')).signed.version);

  // Rollback: the mirror replays the older, genuinely signed timestamp.
  front.override.set('/tuf/timestamp.json', oldTimestamp);
  assert.equal(await tufCode(refreshTuf({ ...options, mode: 'online' })), 'TUF_ROLLBACK');
  // ...and the high-level resolver fails closed rather than falling back.
  assert.equal(await tufCode(resolveTufTrustRoot({ ...request, mode: 'online' })), 'TUF_ROLLBACK');

  // Freeze: a genuine timestamp (the server's own key) whose expiry has passed.
  const repo = TufRepository.open(dataDir);
  const expired = repo.signTimestamp({
    version: newer.timestampVersion + 1,
    expires: '2020-01-01T00:00:00Z',
  });
  front.override.set('/tuf/timestamp.json', expired);
  const frozen = resolveTufTrustRoot({ ...request, mode: 'online' });
  await assert.rejects(frozen, (err: TufError) => {
    assert.equal(err.code, 'TUF_EXPIRED');
    assert.match(err.message, /expired/);
    assert.match(err.message, new RegExp(front.url.replace(/[.]/g, '\\.')));
    return true;
  });
  front.override.clear();

  // A tampered cached target: refused (it no longer matches what was verified) and fetched again.
  const cacheDir = (await import('../../policy/evidence/trust/tuf-cache')).tufCacheDir(
    cacheRoot,
    `${front.url}/tuf`,
    anchor,
  );
  const cachedTarget = join(cacheDir, 'targets', 'trusted_root.json');
  const genuine = readFileSync(cachedTarget);
  const evil = JSON.parse(genuine.toString('utf8'));
  evil.tlogs[0].baseUrl = 'http://127.0.0.1:1';
  writeFileSync(cachedTarget, JSON.stringify(evil));
  const refetched = await resolveTufTrustRoot({ ...request, mode: 'auto' });
  assert.equal(refetched.from, 'network');
  assert.match(
    refetched.notices.join('\n'),
    /targets\/trusted_root\.json \(changed since it was verified\).*fetched again/,
  );
  assert.deepEqual(
    JSON.parse(refetched.spec.trustedRootJson as string),
    await (await fetch(server.trustedRootUrl)).json(),
  );

  // The same tampering while offline: refused, and nothing verified is left to use.
  writeFileSync(cachedTarget, JSON.stringify(evil));
  assert.equal(await tufCode(resolveTufTrustRoot({ ...request, mode: 'offline' })), 'TUF_NO_VERIFIED_COPY');
  await resolveTufTrustRoot({ ...request, mode: 'online' });

  // A planted root.json in the cache (an attacker's chain start) is thrown away, back to the committed root.
  const cachedRoot = join(cacheDir, 'metadata', 'root.json');
  writeFileSync(cachedRoot, readFileSync(cachedRoot, 'utf8').replace('"version":', '"version": '));
  const reset = await resolveTufTrustRoot({ ...request, mode: 'auto' });
  assert.match(reset.notices.join('\n'), /metadata\/root\.json/);
  assert.equal(reset.from, 'network');

  // Unreachable: the last verified copy, with a notice saying how old it is.
  await server.close();
  const offline = await resolveTufTrustRoot({ ...request, mode: 'online' });
  assert.equal(offline.from, 'last-verified');
  assert.match(
    offline.notices[0]!,
    /(?:answered HTTP 502|could not be reached).*using the copy verified \d+ minutes? ago/,
  );
  assert.deepEqual(
    JSON.parse(offline.spec.trustedRootJson as string),
    JSON.parse(reset.spec.trustedRootJson as string),
  );
  // A cache written under another user's key is not believed.
  assert.equal(
    await tufCode(resolveTufTrustRoot({ ...request, secret: randomBytes(32), mode: 'online' })),
    'TUF_NO_VERIFIED_COPY',
  );
});

const seedRoot = (pkg: string): Buffer => {
  const seeds = JSON.parse(readFileSync(createRequire(import.meta.url).resolve(`${pkg}/seeds.json`), 'utf8'));
  return Buffer.from(seeds['https://tuf-repo-cdn.sigstore.dev']['root.json'], 'base64');
};

test('public-good: the real root chain recorded in @sigstore/tuf releases is followed from the embedded root; a forged step is refused; never refreshed means the embedded copy, with its age', async (t) => {
  const v15 = seedRoot('tuf-seed-root-15');
  const v16 = seedRoot('tuf-seed-root-16');
  assert.equal(JSON.parse(v15.toString('utf8')).signed.version, 15);
  assert.equal(JSON.parse(v16.toString('utf8')).signed.version, 16);
  const mirror = await proxy(t, () => 'http://127.0.0.1:9');
  mirror.override.set('/15.root.json', v15);
  mirror.override.set('/16.root.json', v16);
  mirror.override.set('/17.root.json', 404);
  mirror.override.set('/timestamp.json', 404);
  const cacheRoot = tempDir(t, 'tollgate-tuf-cache-');
  const now = new Date();

  // Only the root chain was recorded: it is followed (v14 embedded → v15 → v16, each signed by the
  // previous root's keys at its threshold), then the missing timestamp stops the refresh, closed.
  const code = await tufCode(
    resolvePublicGoodTrustRoot({ metadataUrl: mirror.url, cacheRoot, secret, mode: 'online', now }),
  );
  assert.equal(code, 'TUF_NOT_FOUND');
  const { tufCacheDir } = await import('../../policy/evidence/trust/tuf-cache');
  const { embeddedPublicGoodTufRoot } = await import('../../policy/evidence/trust/seeds');
  const dir = tufCacheDir(cacheRoot, mirror.url, embeddedPublicGoodTufRoot().root);
  assert.equal(JSON.parse(readFileSync(join(dir, 'metadata', 'root.json'), 'utf8')).signed.version, 16);
  assert.deepEqual(mirror.requests.slice(0, 3), ['/15.root.json', '/16.root.json', '/17.root.json']);

  // One byte of v15's signed part changed: its signatures no longer verify.
  const forged = JSON.parse(v15.toString('utf8'));
  forged.signed.expires = '2099-01-01T00:00:00Z';
  mirror.override.set('/15.root.json', Buffer.from(JSON.stringify(forged)));
  const cleanCache = tempDir(t, 'tollgate-tuf-cache-');
  assert.equal(
    await tufCode(
      resolvePublicGoodTrustRoot({ metadataUrl: mirror.url, cacheRoot: cleanCache, secret, mode: 'online' }),
    ),
    'TUF_SIGNATURE',
  );

  // Offline with nothing verified: the embedded copy, said aloud with its age.
  const embedded = await resolvePublicGoodTrustRoot({ cacheRoot: cleanCache, secret, mode: 'offline', now });
  assert.equal(embedded.from, 'embedded');
  assert.match(
    embedded.notices[0]!,
    /^trust root "public-good": the copy embedded in @sigstore\/tuf.*newest key dates from \d{4}-\d{2}-\d{2}, \d+ days ago.*yarn tollgate trust update/,
  );
  assert.ok(embedded.npmKeys);

  // Online (`trust update`) and the repository not reached: the same copy, and why it was not refreshed.
  const closedPort = await new Promise<number>((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });
  const unreached = await resolvePublicGoodTrustRoot({
    metadataUrl: `http://127.0.0.1:${closedPort}`,
    cacheRoot: cleanCache,
    secret,
    mode: 'online',
    timeoutMs: 2_000,
    now,
  });
  assert.equal(unreached.from, 'embedded');
  assert.match(
    unreached.notices[0]!,
    /^trust root "public-good": the TUF repository http:\/\/127\.0\.0\.1:\d+ could not be reached \(.*ECONNREFUSED\); the copy embedded in @sigstore\/tuf is used/,
  );
});

test('offline with no timestamp ever cached: public-good answers with the embedded copy without loading tuf-js or its HTTP stack', async (t) => {
  const cacheRoot = tempDir(t, 'tollgate-tuf-cache-');
  const script = `
    const { resolvePublicGoodTrustRoot } = await import(${JSON.stringify(join(import.meta.dirname, '../../policy/evidence/trust/tuf-trust-root.ts'))});
    const { createRequire } = await import('node:module');
    const resolved = await resolvePublicGoodTrustRoot({ cacheRoot: ${JSON.stringify(cacheRoot)}, secret: Buffer.alloc(32, 7), mode: 'offline' });
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => /[\\\\/](tuf-js[\\\\/]dist[\\\\/]updater|make-fetch-happen)[\\\\/.]/.test(p));
    process.stdout.write(JSON.stringify({ from: resolved.from, notices: resolved.notices, loaded }));
  `;
  const { execFileSync } = await import('node:child_process');
  const answer = JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    }),
  ) as { from: string; notices: string[]; loaded: string[] };
  assert.equal(answer.from, 'embedded');
  assert.match(answer.notices[0]!, /embedded in @sigstore\/tuf/);
  assert.deepEqual(answer.loaded, []);
});
