// The gate's JSON requests (engine/json-requests.ts) go through Node's client only where Yarn's client
// would send the same request: after Yarn's client has reached the origin once, with no proxy, no
// client certificate and no other plugin between Yarn and the network, with the npm authentication
// Yarn would send and inside the project's wrapNetworkRequest hooks. Everything else goes through
// Yarn's client. Which client sent a request is told by its user-agent (got's or Tollgate's).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type Plugin, structUtils } from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import { FetchFailure, fetchAttestations, fetchVersionDocument } from '../../plugin/sources/engine/fetching';
import { TOLLGATE_PLUGIN_NAME } from '../../plugin/sources/engine/json-requests';
import { selfSignedLoopbackServer } from '../evidence/self-signed';
import { tempDir } from '../harness/paths';
import { listenOnLoopback, stopServer, yarnNetwork } from '../harness/yarn-network';

interface Seen {
  url: string;
  userAgent: string;
  authorization?: string;
}

const seen: Seen[] = [];
let server: http.Server;
let base: string;
let failNext = 0;
let trickleClosed = false;

function document(name: string, version: string) {
  return { name, version, dist: { integrity: `sha512-${'A'.repeat(86)}==`, tarball: `${base}/t.tgz` } };
}

before(async () => {
  server = http.createServer((req, res) => {
    seen.push({
      url: req.url ?? '',
      userAgent: String(req.headers['user-agent'] ?? ''),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path.startsWith('/flaky/') && failNext > 0) {
      failNext--;
      res.writeHead(503).end('{"message":"busy"}');
      return;
    }
    if (path.startsWith('/moved/')) {
      res.writeHead(302, { location: path.replace('/moved/', '/pkg/') }).end();
      return;
    }
    if (path.startsWith('/slow/')) return; // never answers
    if (path.startsWith('/trickle/')) {
      // a byte every 100 ms: never idle long enough for a socket timeout
      res.writeHead(200, { 'content-type': 'application/json' });
      const drip = setInterval(() => res.write(' '), 100);
      res.on('close', () => {
        clearInterval(drip);
        trickleClosed = true;
      });
      return;
    }
    if (path.startsWith('/missing/')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    if (path.startsWith('/-/npm/v1/attestations/')) {
      const body = JSON.stringify({ attestations: [{ predicateType: 'p', bundle: { n: path } }] });
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(body));
      return;
    }
    const [, , scopeOrName, nameOrVersion, maybeVersion] = path.split('/');
    const name = decodeURIComponent(maybeVersion ? `${scopeOrName}/${nameOrVersion}` : scopeOrName!);
    const version = decodeURIComponent(maybeVersion ?? nameOrVersion!);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document(name, version)));
  });
  // as a proxy too: hpagent tunnels every request with CONNECT, here back to this same server
  server.on('connect', (req: http.IncomingMessage, client: Socket) => {
    seen.push({ url: `CONNECT ${req.url}`, userAgent: 'proxy' });
    const upstream = connect((server.address() as AddressInfo).port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  base = await listenOnLoopback(server);
});

after(() => stopServer(server));

const network = (settings: Record<string, unknown>, plugins: Array<[string, Plugin]> = []) =>
  yarnNetwork(settings, { plugins });

const ident = (name: string) => structUtils.parseIdent(name);
const gotAgent = (s: Seen) => !s.userAgent.startsWith('tollgate/');
const fresh = () => seen.splice(0);

describe('JSON requests of the gate', () => {
  test("after Yarn's client reached the origin, documents come through Node's client, unchanged", async () => {
    const net = network({});
    fresh();
    const registry = `${base}/r1`;
    const first = await fetchVersionDocument(ident('left-pad'), '1.3.0', registry, net);
    const second = await fetchVersionDocument(ident('left-pad'), '1.3.0', registry, net);
    const third = await fetchVersionDocument(ident('@acme/util'), '2.0.0', registry, net);
    assert.deepEqual(first, document('left-pad', '1.3.0'));
    assert.deepEqual(second, first, 'the same document whichever client asked');
    assert.deepEqual(third, document('@acme/util', '2.0.0'));
    const requests = fresh();
    assert.deepEqual(
      requests.map((r) => [r.url, gotAgent(r)]),
      [
        ['/r1/left-pad/1.3.0', true],
        ['/r1/left-pad/1.3.0', false],
        ['/r1/@acme%2futil/2.0.0', false],
      ],
    );
  });

  test('a gzip-encoded attestations list and a 404 read the same through either client', async () => {
    const net = network({});
    fresh();
    const url = `${base}/-/npm/v1/attestations/left-pad@1.3.0`;
    const viaYarn = await fetchAttestations(url, net);
    const direct = await fetchAttestations(url, net);
    assert.deepEqual(direct, viaYarn);
    assert.equal(direct.attestations.length, 1);
    const missing = await fetchVersionDocument(ident('gone'), '1.0.0', `${base}/missing`, net);
    const missingAgain = await fetchVersionDocument(ident('gone'), '1.0.0', `${base}/missing`, net);
    assert.equal(missing, null);
    assert.equal(missingAgain, null, 'a 404 is "not there" through Node\'s client too');
    assert.deepEqual(
      fresh().map(gotAgent),
      [true, false, false, false],
      'the origin was reached through Yarn once; a 404 counts as reached',
    );
  });

  test('a 503 is retried once, then reported with its status; a redirect is left to Yarn', async () => {
    const net = network({});
    await fetchVersionDocument(ident('warm'), '1.0.0', `${base}/pkg`, net);
    fresh();
    failNext = 1;
    assert.deepEqual(
      await fetchVersionDocument(ident('flaky'), '1.0.0', `${base}/flaky`, net),
      document('flaky', '1.0.0'),
    );
    failNext = 2;
    await assert.rejects(fetchVersionDocument(ident('flaky'), '1.0.0', `${base}/flaky`, net), (err) => {
      assert.ok(err instanceof FetchFailure);
      assert.match(err.message, /HTTP 503: busy/);
      return true;
    });
    const moved = await fetchVersionDocument(ident('moved'), '1.0.0', `${base}/moved`, net);
    assert.deepEqual(moved, document('moved', '1.0.0'));
    const requests = fresh();
    assert.deepEqual(
      requests.map((r) => [r.url, gotAgent(r)]),
      [
        ['/flaky/flaky/1.0.0', false],
        ['/flaky/flaky/1.0.0', false],
        ['/flaky/flaky/1.0.0', false],
        ['/flaky/flaky/1.0.0', false],
        ['/moved/moved/1.0.0', false],
        ['/moved/moved/1.0.0', true],
        ['/pkg/moved/1.0.0', true],
      ],
    );
  });

  test('a request that gets no answer times out and opens the circuit for its origin', async () => {
    const net = yarnNetwork({ httpRetry: '0' }, { timeoutMs: 300 });
    await fetchVersionDocument(ident('warm'), '1.0.0', `${base}/pkg`, net);
    fresh();
    await assert.rejects(
      fetchVersionDocument(ident('slow'), '1.0.0', `${base}/slow`, net),
      /ETIMEDOUT|timed out/i,
    );
    assert.ok(net.circuits.blocked(`${base}/anything`), 'the origin is not asked again in this run');
    assert.deepEqual(fresh().map(gotAgent), [false]);
  });

  test('an answer that trickles in is cut off at the bound, its socket closed', async () => {
    const net = yarnNetwork({ httpRetry: '0' }, { timeoutMs: 300 });
    await fetchVersionDocument(ident('warm'), '1.0.0', `${base}/pkg`, net);
    fresh();
    await assert.rejects(
      fetchVersionDocument(ident('drip'), '1.0.0', `${base}/trickle`, net),
      /timed out|ETIMEDOUT/i,
    );
    for (let i = 0; i < 50 && !trickleClosed; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(trickleClosed, 'the request was destroyed, not left holding the process open');
    assert.deepEqual(fresh().map(gotAgent), [false]);
  });

  test('npm authentication is what Yarn would send: a scope token for scoped packages, none otherwise', async () => {
    const registry = `${base}/auth`;
    const net = network({
      npmRegistryServer: registry,
      npmAuthToken: 'unscoped-token',
      npmScopes: { acme: { npmRegistryServer: registry, npmAuthToken: 'acme-token' } },
    });
    fresh();
    for (let round = 0; round < 2; round++) {
      await fetchVersionDocument(ident('@acme/util'), '1.0.0', registry, net);
      await fetchVersionDocument(ident('left-pad'), '1.0.0', registry, net);
    }
    const requests = fresh();
    assert.deepEqual(requests.map(gotAgent), [true, false, false, false]);
    assert.deepEqual(
      requests.map((r) => r.authorization ?? null),
      ['Bearer acme-token', null, 'Bearer acme-token', null],
    );
    const always = network({ npmRegistryServer: registry, npmAuthToken: 't0k', npmAlwaysAuth: true });
    await fetchVersionDocument(ident('left-pad'), '1.0.0', registry, always);
    await fetchVersionDocument(ident('left-pad'), '1.0.0', registry, always);
    assert.deepEqual(
      fresh().map((r) => [gotAgent(r), r.authorization]),
      [
        [true, 'Bearer t0k'],
        [false, 'Bearer t0k'],
      ],
    );
  });

  test("a proxy, a plugin that wraps requests or supplies auth: every request through Yarn's client", async () => {
    const proxied = network({ httpProxy: base });
    const wrapped: string[] = [];
    const foreign: Plugin = {
      hooks: {
        wrapNetworkRequest: async (executor: () => Promise<unknown>, extra: { target: string | URL }) => {
          wrapped.push(String(extra.target));
          return executor;
        },
      },
    } as Plugin;
    const withPlugin = network({}, [['some-company-plugin', foreign]]);
    const authPlugin = network({}, [
      ['auth-plugin', { hooks: { getNpmAuthenticationHeader: async () => null } } as Plugin],
    ]);
    fresh();
    // distinct URLs: Yarn's client answers a URL it fetched before in this process from memory
    for (const [n, net] of [proxied, withPlugin, authPlugin].entries()) {
      for (let i = 0; i < 3; i++)
        await fetchVersionDocument(ident('left-pad'), `1.0.${i}`, `${base}/p${n}`, net);
    }
    const requests = fresh();
    assert.equal(
      requests.filter((r) => r.url.startsWith('CONNECT ')).length,
      3,
      'each proxied request was tunnelled',
    );
    const documents = requests.filter((r) => !r.url.startsWith('CONNECT '));
    assert.equal(documents.length, 9);
    assert.ok(documents.every(gotAgent), "no request went around Yarn's client");
    assert.equal(wrapped.length, 3, "the other plugin's hook saw every request");
  });

  test("Tollgate's own network hook wraps the requests Node's client sends, and can refuse them", async () => {
    const wrapped: string[] = [];
    const tollgate: Plugin = {
      hooks: {
        wrapNetworkRequest: async (executor: () => Promise<unknown>, extra: { target: string | URL }) => {
          wrapped.push(String(extra.target));
          if (String(extra.target).includes('confused'))
            return async () => {
              throw new Error('dependency confusion blocked');
            };
          return executor;
        },
      },
    } as Plugin;
    const net = network({}, [[TOLLGATE_PLUGIN_NAME, tollgate]]);
    fresh();
    await fetchVersionDocument(ident('left-pad'), '1.0.0', `${base}/h`, net);
    await fetchVersionDocument(ident('left-pad'), '1.0.1', `${base}/h`, net);
    await assert.rejects(
      fetchVersionDocument(ident('confused'), '9.9.9', `${base}/h`, net),
      /dependency confusion/,
    );
    assert.deepEqual(wrapped, [
      `${base}/h/left-pad/1.0.0`,
      `${base}/h/left-pad/1.0.1`,
      `${base}/h/confused/9.9.9`,
    ]);
    assert.deepEqual(
      fresh().map((r) => [r.url, gotAgent(r)]),
      [
        ['/h/left-pad/1.0.0', true],
        ['/h/left-pad/1.0.1', false],
      ],
      'the refused request never left the process',
    );
  });

  test('an origin Yarn refuses (plain http not whitelisted, network disabled) is never asked', async () => {
    const unsafe = network({ unsafeHttpWhitelist: [] });
    const disabled = network({ enableNetwork: false });
    fresh();
    for (const net of [unsafe, disabled]) {
      for (let i = 0; i < 2; i++) {
        await assert.rejects(
          fetchVersionDocument(ident('left-pad'), '1.0.0', `${base}/u`, net),
          FetchFailure,
        );
        await assert.rejects(
          fetchAttestations(`${base}/-/npm/v1/attestations/left-pad@1.0.0`, net),
          FetchFailure,
        );
      }
    }
    assert.deepEqual(fresh(), []);
  });

  test('an attestations URL of another scheme (a registry document names it) goes to Yarn, which refuses it', async () => {
    const net = network({});
    await fetchVersionDocument(ident('warm'), '1.0.0', `${base}/pkg`, net);
    for (const url of [
      'file:///etc/hostname',
      'ftp://127.0.0.1/x',
      'data:application/json,{"attestations":[]}',
    ]) {
      for (let i = 0; i < 2; i++) await assert.rejects(fetchAttestations(url, net), FetchFailure, url);
    }
  });

  test("over https, Node's client trusts what Yarn's does: the configured CA file, or nothing but Node's roots", async () => {
    const { cert, key } = await selfSignedLoopbackServer();
    const tls = https.createServer({ cert, key }, (req, res) => {
      seen.push({ url: `https ${req.url}`, userAgent: String(req.headers['user-agent'] ?? '') });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(document('tls', '1.0.0')));
    });
    const origin = await listenOnLoopback(tls, 'https');
    try {
      const caFile = join(tempDir('tollgate-json-requests-ca-'), 'ca.pem');
      writeFileSync(caFile, cert);
      const trusting = network({ httpsCaFilePath: npath.toPortablePath(caFile) });
      fresh();
      for (let i = 0; i < 2; i++)
        assert.deepEqual(
          await fetchVersionDocument(ident('tls'), '1.0.0', `${origin}/a`, trusting),
          document('tls', '1.0.0'),
        );
      assert.deepEqual(fresh().map(gotAgent), [true, false]);
      // without the CA, neither client gets past the handshake, however often it is asked
      const strict = network({});
      for (let i = 0; i < 2; i++)
        await assert.rejects(
          fetchVersionDocument(ident('tls'), '1.0.0', `${origin}/b`, strict),
          /self.signed|certificate/i,
        );
      assert.deepEqual(fresh(), []);
    } finally {
      stopServer(tls);
    }
  });
});
