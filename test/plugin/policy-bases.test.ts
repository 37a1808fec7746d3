// Base policies from URLs, as the plugin reads them: why a download failed, and the copy kept in
// Tollgate's cache — used offline only when it authenticates and matches the pin, written only once
// the base verified. (End to end with Yarn: test/e2e/policy-bases.test.ts.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuthenticatedStore } from '../../plugin/sources/engine/authenticated-store';
import { loadCacheSecret } from '../../plugin/sources/engine/cache-secret';
import {
  describeFetchFailure,
  MAX_BASE_BYTES,
  policyBaseResolver,
  prefetchPolicyBases,
} from '../../plugin/sources/engine/policy-bases';
import type { TollgateSettings } from '../../plugin/sources/settings';
import type { ExtendsReference, Referrer } from '../../policy';
import { tempDir } from '../harness/paths';
import { settingsFor } from '../harness/tollgate-settings';

// The cache key lives in the per-user state folder: a throwaway one for this test.
process.env.XDG_STATE_HOME = tempDir('state');

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const BASE = 'version: 1\nmode: enforce\n';

function pinned(url: string, digest: string): ExtendsReference {
  return {
    index: 0,
    location: { file: '.tollgate.yml', line: 2, column: 5 },
    kind: 'url',
    path: '',
    url,
    sha256: digest,
  };
}

function referrer(settings: TollgateSettings): Referrer {
  return { file: '.tollgate.yml', key: settings.policyPath!, dir: settings.projectCwd, trustRoots: [] };
}

/** A port nothing listens on (bound, then released; fetch refuses some well-known ports outright). */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const entryPath = (settings: TollgateSettings, url: string) =>
  join(settings.cacheFolder, 'policy-bases', `${sha256(url)}.json`);

describe('policy bases from URLs (plugin side)', () => {
  const served = new Map<string, string>();
  const server = createServer((req, res) => {
    if (req.url === '/endless.yml') {
      // No content-length, and more than any policy: the reader must stop on its own.
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = () => {
        while (!res.writableEnded && res.write(chunk));
      };
      res.on('drain', pump);
      req.on('close', () => res.destroy());
      pump();
      return;
    }
    const body = served.get(req.url ?? '');
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200).end(body);
  });
  let origin = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('says why a download failed (fetch itself only says "fetch failed")', async () => {
    const refused = await fetch(`http://127.0.0.1:${await closedPort()}/`, {
      signal: AbortSignal.timeout(2_000),
    }).catch((e: unknown) => e);
    assert.match(describeFetchFailure(refused, 2_000), /ECONNREFUSED/);
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), {
      name: 'TimeoutError',
    });
    assert.equal(describeFetchFailure(timeout, 30_000), 'no answer within 30 s (tollgateNetworkTimeout)');
    assert.equal(describeFetchFailure(new Error('HTTP 404'), 1_000), 'HTTP 404');
  });

  it('stops reading an answer larger than any policy, with or without a content-length', async () => {
    served.set('/huge.yml', `version: 1\n#${'x'.repeat(MAX_BASE_BYTES)}\n`);
    for (const name of ['huge.yml', 'endless.yml']) {
      const url = `${origin}/${name}`;
      const settings = settingsFor(`version: 1\nextends:\n  - url: ${url}\n    sha256: ${'ab'.repeat(32)}\n`);
      await prefetchPolicyBases(settings);
      const result = policyBaseResolver(settings)(pinned(url, 'ab'.repeat(32)), referrer(settings));
      assert.ok('error' in result, name);
      assert.match(result.error, /larger than 1024 KiB, more than any policy or bundle/, name);
    }
  });

  it('keeps a verified base for offline runs, re-hashes it, and refuses a copy that does not authenticate', async () => {
    const url = `${origin}/kept.yml`;
    served.set('/kept.yml', BASE);
    const settings = settingsFor(`version: 1\nextends:\n  - url: ${url}\n    sha256: ${sha256(BASE)}\n`);
    await prefetchPolicyBases(settings);
    assert.ok(!existsSync(entryPath(settings, url)), 'nothing is kept before the base verified');
    const online = policyBaseResolver(settings)(pinned(url, sha256(BASE)), referrer(settings));
    assert.ok(!('error' in online), JSON.stringify(online));
    assert.equal(online.origin, 'pinned by sha256');
    assert.ok(existsSync(entryPath(settings, url)), 'kept once verified');

    const offline = { ...settings, offline: true };
    // A URL that was never stored: offline, nothing stands in for it.
    const fromCopy = policyBaseResolver(offline)(pinned(`${url}?other`, sha256(BASE)), referrer(offline));
    assert.ok('error' in fromCopy);
    assert.match(fromCopy.error, /offline, and .* was never fetched on this machine/);

    // What a later offline process finds: a URL this process never fetched, only its copy in the
    // cache (written the way the plugin writes it).
    const storedUrl = `${origin}/stored-only.yml`;
    const store = new AuthenticatedStore(join(settings.cacheFolder, 'policy-bases'), loadCacheSecret());
    store.write(sha256(storedUrl), { url: storedUrl, bytes: Buffer.from(BASE).toString('base64') });
    const used = policyBaseResolver(offline)(pinned(storedUrl, sha256(BASE)), referrer(offline));
    assert.ok(!('error' in used), JSON.stringify(used));
    assert.equal(used.origin, 'pinned by sha256; the copy fetched earlier on this machine');

    // Edited in the cache folder: the MAC no longer matches, and the error says so.
    const path = entryPath(settings, storedUrl);
    const entry = JSON.parse(readFileSync(path, 'utf8'));
    const body = JSON.parse(entry.body);
    body.bytes = Buffer.from('version: 1\nmode: off\n').toString('base64');
    writeFileSync(path, JSON.stringify({ ...entry, body: JSON.stringify(body) }));
    const edited = policyBaseResolver(offline)(pinned(storedUrl, sha256(BASE)), referrer(offline));
    assert.ok('error' in edited);
    assert.match(edited.error, /does not authenticate with this machine's cache key/);
    assert.ok(edited.error.includes(path), 'names the file');

    // Even a copy that authenticates is re-hashed against the pin.
    store.write(sha256(storedUrl), {
      url: storedUrl,
      bytes: Buffer.from('version: 1\nmode: off\n').toString('base64'),
    });
    const rehashed = policyBaseResolver(offline)(pinned(storedUrl, sha256(BASE)), referrer(offline));
    assert.ok('error' in rehashed);
    assert.match(rehashed.error, /its sha256 is [0-9a-f]{64}, not the pinned/);
  });

  it('a server answering with other bytes does not evict the good copy', async () => {
    const url = `${origin}/evict.yml`;
    const settings = settingsFor(`version: 1\nextends:\n  - url: ${url}\n    sha256: ${sha256(BASE)}\n`);
    const store = new AuthenticatedStore(join(settings.cacheFolder, 'policy-bases'), loadCacheSecret());
    store.write(sha256(url), { url, bytes: Buffer.from(BASE).toString('base64') });
    const before = readFileSync(entryPath(settings, url), 'utf8');
    served.set('/evict.yml', 'version: 1\nmode: off\n');
    await prefetchPolicyBases(settings);
    const wrong = policyBaseResolver(settings)(pinned(url, sha256(BASE)), referrer(settings));
    assert.ok('error' in wrong);
    assert.match(wrong.error, /its sha256 is [0-9a-f]{64}, not the pinned/);
    assert.equal(readFileSync(entryPath(settings, url), 'utf8'), before, 'the cached copy is untouched');
  });

  it('online, a signed base is never taken from the cache, and the error says how to use the copy', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/signed.yml`;
    const settings = settingsFor(`version: 1\n`);
    const store = new AuthenticatedStore(join(settings.cacheFolder, 'policy-bases'), loadCacheSecret());
    store.write(sha256(url), { url, bytes: Buffer.from(BASE).toString('base64') });
    const signed: ExtendsReference = {
      ...pinned(url, ''),
      sha256: undefined,
      signature: { signers: [], trust: ['public-good'] },
    };
    const res = policyBaseResolver(settings)(signed, referrer(settings));
    assert.ok('error' in res);
    assert.equal(
      res.error,
      `${url} was not fetched; the copy verified earlier on this machine is used only offline (tollgateOffline: true, or --offline)`,
    );
  });

  it('names the reason when the URL cannot be fetched and there is no copy', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/base.yml`;
    const settings = settingsFor(`version: 1\nextends:\n  - url: ${url}\n    sha256: ${sha256(BASE)}\n`);
    await prefetchPolicyBases(settings);
    const res = policyBaseResolver(settings)(pinned(url, sha256(BASE)), referrer(settings));
    assert.ok('error' in res);
    assert.equal(res.error, `${url} could not be fetched (connect ECONNREFUSED 127.0.0.1:${port})`);
  });
});
