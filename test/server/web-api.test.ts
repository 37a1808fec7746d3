// The web layer's server side without a browser: query parsing, search keys, the kept DSSE
// envelopes across a restart, the monitor configuration it writes (test/web/ drives the page).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { attest } from 'sigstore';
import { parseMonitorConfig } from '../../monitor/config/load';
import { startServer } from '../../server/index';
import { DigestIndex } from '../../server/log/digest-index';
import { EnvelopeStore } from '../../server/log/index-envelopes';
import { identityKey, packageKey, parsePurl, statementPackageKeys } from '../../server/log/index-keys';
import { normaliseDigest, packageKeyOf, parseSearchQuery } from '../../server/web/query';
import { watchConfig } from '../../server/web/watch';
import { tempDir } from '../harness/paths';
import { Scope } from '../harness/scope';

const scope = new Scope();
after(() => scope.close());

const query = (q: string) => parseSearchQuery(new URLSearchParams(q));

describe('web search queries', () => {
  test('each kind of query becomes the index keys it is stored under', () => {
    assert.deepEqual(query('email=Alice@Example.com').keys, ['alice@example.com']);
    assert.deepEqual(query('email=alice@example.com&issuer=https://oidc.example').keys, [
      identityKey('https://oidc.example', 'alice@example.com'),
    ]);
    assert.deepEqual(query('subject=https://github.com/a/b/.github/workflows/r.yml@refs/heads/main').keys, [
      'https://github.com/a/b/.github/workflows/r.yml@refs/heads/main',
    ]);
    const hex = 'ab'.repeat(64);
    assert.deepEqual(query(`digest=sha512:${hex.toUpperCase()}&digest=sha256:${'cd'.repeat(32)}`).keys, [
      `sha512:${hex}`,
      `sha256:${'cd'.repeat(32)}`,
    ]);
    assert.equal(normaliseDigest(`sha512-${Buffer.from(hex, 'hex').toString('base64')}`), `sha512:${hex}`);
    assert.equal(packageKeyOf('@acme/ui@1.2.0').key, 'package:npm/@acme/ui@1.2.0');
    assert.equal(packageKeyOf('pkg:npm/%40acme/ui@1.2.0').key, 'package:npm/@acme/ui@1.2.0');
    assert.equal(packageKeyOf('left-pad').key, 'package:npm/left-pad');
    assert.deepEqual(query('email=a@b&page=3&perPage=50'), {
      describe: { email: 'a@b' },
      keys: ['a@b'],
      page: 3,
      perPage: 50,
    });
  });

  test('hostile or malformed queries are refused with the reason', () => {
    const refused: [string, RegExp][] = [
      ['', /give one of/],
      ['email=a@b&digest=sha256:00', /only one of/],
      ['email=a@b&email=c@d', /more than once/],
      ['email=<script>', /email address/],
      ['subject=a%00b', /control characters/],
      ['subject=a%0Ab', /control characters/],
      ['subject=a b', /white space/],
      [`subject=${'x'.repeat(2049)}`, /longer than 2048/],
      ['digest=sha256:00', /64 hex/],
      ['digest=md5:00', /must be sha256/],
      [`digest=${'sha256:'.padEnd(71, '0')}&digest=a&digest=b&digest=c&digest=d`, /at most 4|must be/],
      ['package=<img src=x>', /npm name/],
      ['package=pkg:npm', /package URL/],
      ['package=pkg:npm/%E0%A4%A', /package URL/],
      [`issuer=https://x&digest=sha256:${'0'.repeat(64)}`, /qualifies/],
      ['email=a@b&issuer=javascript:alert(1)', /http\(s\) URL/],
      ['email=a@b&page=0', /page/],
      ['email=a@b&perPage=101', /perPage/],
      ['email=a@b&__proto__=1', /unknown parameter/],
    ];
    for (const [q, reason] of refused) {
      assert.throws(
        () => query(q),
        (err: { status?: number; message: string }) => err.status === 400 && reason.test(err.message),
        q,
      );
    }
  });

  test('purls in statements become package keys, with and without the version', () => {
    assert.deepEqual(parsePurl('pkg:npm/%40acme/ui@1.2.0?arch=x#sub'), {
      type: 'npm',
      name: '@acme/ui',
      version: '1.2.0',
    });
    assert.equal(parsePurl('not a purl'), undefined);
    assert.equal(parsePurl('pkg:npm/%0Aevil@1'), undefined);
    assert.deepEqual(
      statementPackageKeys([{ name: 'pkg:npm/%40acme/ui@1.2.0' }, { name: 'file.tgz' }, { nope: 1 }, 'x']),
      [
        packageKey({ type: 'npm', name: '@acme/ui' }),
        packageKey({ type: 'npm', name: '@acme/ui', version: '1.2.0' }),
      ],
    );
  });
});

describe('kept DSSE envelopes', () => {
  test('persist across reopening; a torn index record is ignored', () => {
    const dir = tempDir('web-envelopes');
    const store = EnvelopeStore.open(dir);
    store.put(3, '{"a":1}');
    store.put(3, '{"a":2}'); // once per entry
    store.put(7, 'x'.repeat(10));
    store.close();
    appendFileSync(join(dir, 'envelopes.idx'), Buffer.alloc(9, 1));
    const again = EnvelopeStore.open(dir);
    assert.equal(again.get(3), '{"a":1}');
    assert.equal(again.get(7), 'x'.repeat(10));
    assert.equal(again.get(4), undefined);
    assert.equal(again.get(1_000_000), undefined);
    again.close();
  });
});

describe('the monitor configuration "watch this identity" writes', () => {
  test('is accepted by tollgate-monitor and names exactly the identity, whatever its text', () => {
    const dir = tempDir('web-watch-config');
    for (const subject of [
      'alice@example.com',
      'https://evil.example/"><img/src=x>\n- name: injected',
      "o'hara&{co}@example.com",
      'https://x.example/#{a}: [b]',
    ]) {
      const yaml = watchConfig({
        serverUrl: 'http://127.0.0.1:8080',
        subject,
        issuer: 'https://oidc.example',
        start: 5,
      });
      const loaded = parseMonitorConfig(yaml, '.tollgate-monitor.yml', join(dir, '.tollgate-monitor.yml'));
      assert.ok(loaded.ok, `${subject}: ${JSON.stringify(loaded)}`);
      assert.equal(loaded.config.identities.length, 1);
      const identity = loaded.config.identities[0]!;
      assert.equal(identity.issuer, 'https://oidc.example');
      assert.ok(identity.subject?.test(subject));
      assert.equal(identity.subject?.test(`${subject}x`), false);
      assert.equal(loaded.config.logs[0]!.url, 'http://127.0.0.1:8080');
    }
  });
});

describe('tollgate-server web API (in process)', () => {
  test('a DSSE entry is found by package and identity after a restart, with its statement', async () => {
    const dataDir = join(tempDir('web-api'), 'data');
    mkdirSync(dataDir);
    let server = await startServer({ dataDir, log: () => {} });
    scope.defer(() => server.close());
    const token = async () => {
      const res = await fetch(`${server.url}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub: 'carol@example.com', email: 'carol@example.com' }),
      });
      return ((await res.json()) as { id_token: string }).id_token;
    };
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'pkg:npm/%40acme/ui@2.0.0', digest: { sha512: 'ef'.repeat(64) } }],
      predicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1',
      predicate: {},
    };
    await attest(Buffer.from(JSON.stringify(statement)), 'application/vnd.in-toto+json', {
      fulcioURL: server.url,
      rekorURL: server.url,
      identityToken: await token(),
    });
    // The dev issuer's URL has the port in it: the certificate names the first server's.
    const issuer = `${server.url}/oidc`;
    const check = async () => {
      const search = async (q: string) =>
        (await (await fetch(`${server.url}/api/web/v1/search?${q}`)).json()) as {
          total: number;
          entries: {
            logIndex: number;
            statement?: { subjects: { name: string }[] };
            identity: { subject: string };
          }[];
        };
      for (const q of [
        'package=@acme/ui@2.0.0',
        'package=@acme/ui',
        `email=carol@example.com&issuer=${issuer}`,
        `digest=sha512:${'ef'.repeat(64)}`,
      ]) {
        const result = await search(q);
        assert.equal(result.total, 1, q);
        assert.equal(result.entries[0]!.statement?.subjects[0]?.name, 'pkg:npm/%40acme/ui@2.0.0', q);
        assert.equal(result.entries[0]!.identity.subject, 'carol@example.com');
      }
      assert.equal((await search('email=carol@example.com&issuer=https://other.example')).total, 0);
      const bundle = await fetch(`${server.url}/api/web/v1/entries/0/bundle`);
      assert.equal(bundle.status, 200);
      assert.ok(((await bundle.json()) as { dsseEnvelope?: unknown }).dsseEnvelope);
    };
    await check();
    await server.close();
    server = await startServer({ dataDir, log: () => {} });
    await check();
    const res = await fetch(`${server.url}/api/web/v1/search?email=carol@example.com`);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });
});

describe('the search index pages a key without reading all of it', () => {
  test('count and newest-first pages agree with the full list, before and after a posting list is made', () => {
    const index = new DigestIndex();
    const key = (n: number) => createHash('sha256').update(`key ${n}`).digest();
    const expected = new Map<number, number[]>();
    const add = (k: number, v: number) => {
      index.add(key(k), v);
      expected.set(k, [...(expected.get(k) ?? []), v]);
    };
    for (let v = 0; v < 6000; v++) add(v % 3 === 0 ? 0 : 1 + (v % 7), v);
    const check = () => {
      for (const [k, values] of expected) {
        assert.equal(index.count(key(k)), values.length);
        const newest = [...values].reverse();
        for (const [skip, limit] of [
          [0, 20],
          [20, 20],
          [1990, 20],
          [values.length - 5, 20],
          [values.length, 20],
          [0, 100],
        ] as const)
          assert.deepEqual(
            index.newest(key(k), skip, limit),
            newest.slice(skip, skip + limit),
            `${k} ${skip}`,
          );
      }
      assert.equal(index.count(key(99)), 0);
      assert.deepEqual(index.newest(key(99), 0, 20), []);
    };
    check(); // key 0 has 2000 values: walked; the deep pages of nothing bigger
    for (let v = 6000; v < 9000; v++) add(0, v); // key 0 now has 5000: its posting list is made on a deep page
    check();
    for (let v = 9000; v < 9100; v++) add(0, v); // and kept current afterwards
    check();
  });
});

// fetch() sets Sec-Fetch-Mode itself; a navigation's headers are sent as they are with node:http.
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? '') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('links to the page from other sites', () => {
  test('a top-level navigation to the page is answered; nothing else cross-site is', async () => {
    const dataDir = join(tempDir('web-links'), 'data');
    mkdirSync(dataDir);
    const server = await startServer({ dataDir, log: () => {} });
    scope.defer(() => server.close());
    const navigation = {
      'Sec-Fetch-Site': 'cross-site',
      'Sec-Fetch-Mode': 'navigate',
      'Sec-Fetch-Dest': 'document',
    };
    for (const path of ['/', '/entry/0', '/?email=a@b']) {
      const res = await raw(server.url, 'GET', path, navigation);
      assert.notEqual(res.status, 403, path);
      assert.match(res.type, /text\/html/);
    }
    const refused: [string, Record<string, string>, string?][] = [
      ['/api/web/v1/search?email=a@b', navigation],
      ['/trusted_root.json', navigation],
      ['/', { ...navigation, 'Sec-Fetch-Dest': 'iframe' }],
      ['/', { ...navigation, 'Sec-Fetch-Mode': 'cors' }],
      ['/', { ...navigation, Origin: 'https://evil.example' }],
      ['/', { Origin: 'https://evil.example' }],
      ['/oidc/token', navigation, 'POST'],
    ];
    for (const [path, headers, method] of refused) {
      const res = await raw(server.url, method ?? 'GET', path, headers);
      assert.equal(res.status, 403, `${method ?? 'GET'} ${path} ${JSON.stringify(headers)}`);
    }
  });
});
