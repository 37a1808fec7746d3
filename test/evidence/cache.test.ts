import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { verifyPackageEvidenceCached } from '../../policy/evidence/cache/cached-verify';
import { openVerificationCache } from '../../policy/evidence/cache/verification-cache';
import { loadTrustRoots } from '../../policy/evidence/trust/context';
import { embeddedPublicGoodTrustedRoot } from '../../policy/evidence/trust/seeds';
import { verifyPackageEvidence } from '../../policy/evidence/verify-package';
import { loadNpmFixture, packageInput } from './fixtures';

const ctx = loadTrustRoots([{ name: 'public-good' }]);
const sigstore = loadNpmFixture('sigstore-2.3.1');
const gundam = loadNpmFixture('gundam-visor-1.0.1');

function withCacheDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cache-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const PACK = 'verdicts.pack.json';

/** Every .json file in the cache folder (the pack is the only one a cache writes). */
function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.json'))
    .map((d) => join(d.parentPath, d.name));
}

test('a second verification is served from the cache with an identical verdict', async (t) => {
  const cache = openVerificationCache(withCacheDir(t));
  const fresh = await verifyPackageEvidence(ctx, packageInput(sigstore));
  const first = await verifyPackageEvidenceCached(ctx, cache, packageInput(sigstore));
  const second = await verifyPackageEvidenceCached(ctx, cache, packageInput(sigstore));
  assert.deepEqual(first, fresh);
  assert.deepEqual(second, fresh);
  assert.deepEqual({ ...cache.stats }, { hits: 1, misses: 1, rejected: 0, writes: 1, writeErrors: 0 });
});

test('a package with no bundle and no tarball is compared, not cached: the same verdict, no entry written', async (t) => {
  const dir = withCacheDir(t);
  const cache = openVerificationCache(dir);
  for (const manifest of [
    { name: sigstore.name, version: sigstore.version },
    { name: 'someone-else', version: sigstore.version },
  ]) {
    const input = packageInput(sigstore, { bundles: [], unpackedManifest: manifest });
    delete input.tarball;
    const fresh = await verifyPackageEvidence(ctx, input);
    assert.deepEqual(await verifyPackageEvidenceCached(ctx, cache, input), fresh);
    assert.deepEqual(await verifyPackageEvidenceCached(ctx, cache, input), fresh);
  }
  assert.deepEqual({ ...cache.stats }, { hits: 0, misses: 0, rejected: 0, writes: 0, writeErrors: 0 });
  cache.flush();
  assert.deepEqual(jsonFiles(dir), []);
});

test('failures are cached as failures, never as passes', async (t) => {
  const dir = withCacheDir(t);
  const wrong = packageInput(gundam, { bundles: packageInput(sigstore).bundles });
  const writer = openVerificationCache(dir);
  await verifyPackageEvidenceCached(ctx, writer, wrong);
  writer.flush();
  const cache = openVerificationCache(dir);
  const again = await verifyPackageEvidenceCached(ctx, cache, wrong);
  assert.equal(cache.stats.hits, 1);
  assert.deepEqual(again.bundles, []);
  assert.deepEqual(
    again.failures.map((f) => f.code),
    ['SUBJECT_MISMATCH', 'SUBJECT_MISMATCH'],
  );
});

/** Opens the cache in `dir` and checks that its pack was refused: the package is verified afresh. */
async function verifiedAfreshFrom(dir: string, fixture: typeof sigstore) {
  const cache = openVerificationCache(dir);
  assert.deepEqual(
    await verifyPackageEvidenceCached(ctx, cache, packageInput(fixture)),
    await verifyPackageEvidence(ctx, packageInput(fixture)),
  );
  assert.deepEqual({ hits: cache.stats.hits, rejected: cache.stats.rejected }, { hits: 0, rejected: 1 });
  return cache;
}

test('a truncated pack, or one whose verdicts were moved to other keys, is ignored and rewritten', async (t) => {
  const dir = withCacheDir(t);
  const writer = openVerificationCache(dir);
  await verifyPackageEvidenceCached(ctx, writer, packageInput(sigstore));
  await verifyPackageEvidenceCached(ctx, writer, packageInput(gundam));
  writer.flush();
  const intact = readFileSync(join(dir, PACK), 'utf8');

  writeFileSync(join(dir, PACK), intact.slice(0, 40));
  (await verifiedAfreshFrom(dir, sigstore)).flush();
  const rewritten = openVerificationCache(dir);
  await verifyPackageEvidenceCached(ctx, rewritten, packageInput(sigstore));
  assert.equal(rewritten.stats.hits, 1, 'the rewritten pack is trusted again');

  // sigstore's verdict filed under gundam's key and the reverse, the pack's MAC kept
  const file = JSON.parse(intact);
  const doc = JSON.parse(file.body);
  const [k1, k2] = Object.keys(doc.entries);
  [doc.entries[k1!], doc.entries[k2!]] = [doc.entries[k2!], doc.entries[k1!]];
  writeFileSync(join(dir, PACK), JSON.stringify({ mac: file.mac, body: JSON.stringify(doc) }));
  await verifiedAfreshFrom(dir, gundam);
});

test('a pack written with another cache secret is not trusted', async (t) => {
  const dir = withCacheDir(t);
  const writer = openVerificationCache(dir, { secret: Buffer.alloc(32, 1) });
  await verifyPackageEvidenceCached(ctx, writer, packageInput(sigstore));
  writer.flush();
  const other = openVerificationCache(dir, { secret: Buffer.alloc(32, 2) });
  await verifyPackageEvidenceCached(ctx, other, packageInput(sigstore));
  assert.deepEqual({ hits: other.stats.hits, rejected: other.stats.rejected }, { hits: 0, rejected: 1 });
});

test('a changed trust root, bundle, integrity or tarball presence misses the cache', async (t) => {
  const cache = openVerificationCache(withCacheDir(t));
  const base = packageInput(sigstore);
  const key = cache.keyFor(ctx, base);
  const localRoot = { ...JSON.parse(embeddedPublicGoodTrustedRoot()), ctlogs: [] };
  const otherTrust = loadTrustRoots([{ name: 'public-good' }, { name: 'local', trustedRootJson: localRoot }]);
  assert.notEqual(cache.keyFor(otherTrust, base), key);
  const changedBundle = JSON.parse(base.bundles[0]!.json as string);
  changedBundle.verificationMaterial.tlogEntries[0].logIndex = '1';
  assert.notEqual(
    cache.keyFor(ctx, {
      ...base,
      bundles: [{ json: JSON.stringify(changedBundle), source: 'x' }, base.bundles[1]!],
    }),
    key,
  );
  assert.notEqual(cache.keyFor(ctx, { ...base, integrity: gundam.integrity }), key);
  assert.notEqual(cache.keyFor(ctx, { ...base, tarball: undefined }), key);
  assert.equal(
    cache.keyFor(ctx, { ...base, bundles: base.bundles.map((b) => ({ ...b, source: 'elsewhere' })) }),
    key,
  );
});

test('a tarball that does not match the integrity is never served from the cache', async (t) => {
  const cache = openVerificationCache(withCacheDir(t));
  await verifyPackageEvidenceCached(ctx, cache, packageInput(sigstore));
  const tampered = Buffer.from(sigstore.tarball);
  tampered[200]! ^= 1;
  const evidence = await verifyPackageEvidenceCached(
    ctx,
    cache,
    packageInput(sigstore, { tarball: tampered }),
  );
  assert.equal(cache.stats.hits, 0);
  assert.deepEqual(evidence.bundles, []);
  assert.ok(evidence.failures.every((f) => f.code === 'TARBALL_INTEGRITY_MISMATCH'));
});

test('nothing is written before flush, which writes one pack for the run: the next run reads it', async (t) => {
  const dir = withCacheDir(t);
  const first = openVerificationCache(dir);
  const fresh = await verifyPackageEvidence(ctx, packageInput(sigstore));
  await verifyPackageEvidenceCached(ctx, first, packageInput(sigstore));
  await verifyPackageEvidenceCached(ctx, first, packageInput(gundam));
  assert.deepEqual(readdirSync(dir), ['secret.key']);
  first.flush();
  assert.deepEqual(readdirSync(dir).sort(), ['secret.key', PACK]);
  const next = openVerificationCache(dir);
  assert.deepEqual(await verifyPackageEvidenceCached(ctx, next, packageInput(sigstore)), fresh);
  await verifyPackageEvidenceCached(ctx, next, packageInput(gundam));
  assert.deepEqual({ ...next.stats }, { hits: 2, misses: 0, rejected: 0, writes: 0, writeErrors: 0 });
  // nothing new: no rewrite
  const before = readFileSync(join(dir, PACK), 'utf8');
  next.flush();
  assert.equal(readFileSync(join(dir, PACK), 'utf8'), before);
});

test('a run that set nothing and used no old verdict writes no pack', async (t) => {
  const dir = withCacheDir(t);
  const cache = openVerificationCache(dir);
  const input = packageInput(sigstore, {
    bundles: [],
    unpackedManifest: { name: sigstore.name, version: sigstore.version },
  });
  delete input.tarball;
  await verifyPackageEvidenceCached(ctx, cache, input);
  cache.flush();
  assert.deepEqual(jsonFiles(dir), []);
});

test('an edited pack (a forged pass, MAC kept) or one written with another secret is not used', async (t) => {
  const dir = withCacheDir(t);
  const wrong = packageInput(gundam, { bundles: packageInput(sigstore).bundles });
  const writer = openVerificationCache(dir);
  const honest = await verifyPackageEvidenceCached(ctx, writer, wrong);
  writer.flush();
  const packed = JSON.parse(readFileSync(join(dir, PACK), 'utf8'));
  const doc = JSON.parse(packed.body);
  const good = await verifyPackageEvidence(ctx, packageInput(sigstore));
  for (const entry of Object.values(doc.entries) as [string, number][]) {
    const body = JSON.parse(entry[0]);
    body.bundles = good.bundles.map(({ source: _source, ...facts }) => ({ facts }));
    entry[0] = JSON.stringify(body);
  }
  writeFileSync(join(dir, PACK), JSON.stringify({ mac: packed.mac, body: JSON.stringify(doc) }));
  const reader = openVerificationCache(dir);
  const after = await verifyPackageEvidenceCached(ctx, reader, wrong);
  assert.deepEqual(after, honest);
  assert.deepEqual(after.bundles, []);
  assert.deepEqual({ hits: reader.stats.hits, rejected: reader.stats.rejected }, { hits: 0, rejected: 1 });

  // a pack authenticated with another key (another user's cache copied in) reads as empty too
  const other = openVerificationCache(withCacheDir(t), { secret: Buffer.alloc(32, 3) });
  await verifyPackageEvidenceCached(ctx, other, packageInput(sigstore));
  other.flush();
  writeFileSync(join(dir, PACK), readFileSync(join(other.dir, PACK)));
  const third = openVerificationCache(dir);
  await verifyPackageEvidenceCached(ctx, third, packageInput(sigstore));
  assert.deepEqual({ hits: third.stats.hits, rejected: third.stats.rejected }, { hits: 0, rejected: 1 });
});

test('a packed verdict no run used for 30 days leaves the pack; one in use is kept', async (t) => {
  const dir = withCacheDir(t);
  const day = 24 * 3600_000;
  let clock = Date.UTC(2026, 0, 1);
  const open = () => openVerificationCache(dir, { now: () => clock });
  const a = open();
  await verifyPackageEvidenceCached(ctx, a, packageInput(sigstore));
  await verifyPackageEvidenceCached(ctx, a, packageInput(gundam));
  a.flush();
  const packedKeys = () =>
    Object.keys(JSON.parse(JSON.parse(readFileSync(join(dir, PACK), 'utf8')).body).entries);
  assert.equal(packedKeys().length, 2);
  // 20 days on, only sigstore is used: its time is refreshed
  clock += 20 * day;
  const b = open();
  await verifyPackageEvidenceCached(ctx, b, packageInput(sigstore));
  b.flush();
  // 15 more days: gundam was last used 35 days ago, sigstore 15
  clock += 15 * day;
  const c = open();
  await verifyPackageEvidenceCached(ctx, c, packageInput(sigstore));
  c.flush();
  assert.deepEqual(packedKeys(), [c.keyFor(ctx, packageInput(sigstore))]);
});

test('a pack larger than any the cache writes is not read: its packages are verified again', async (t) => {
  const dir = withCacheDir(t);
  const writer = openVerificationCache(dir);
  const fresh = await verifyPackageEvidenceCached(ctx, writer, packageInput(sigstore));
  writer.flush();
  writeFileSync(join(dir, PACK), Buffer.alloc((64 << 20) + 1, 0x20));
  const reader = openVerificationCache(dir);
  assert.deepEqual(await verifyPackageEvidenceCached(ctx, reader, packageInput(sigstore)), fresh);
  assert.deepEqual({ hits: reader.stats.hits, rejected: reader.stats.rejected }, { hits: 0, rejected: 1 });
});

test('a thread that does not flush hands its verdicts to the cache that does', async (t) => {
  const dir = withCacheDir(t);
  const worker = openVerificationCache(dir);
  const pool = openVerificationCache(dir);
  await verifyPackageEvidenceCached(ctx, worker, packageInput(sigstore));
  await verifyPackageEvidenceCached(ctx, worker, packageInput(gundam));
  const handed = worker.drain();
  assert.deepEqual(
    handed.map(([key]) => key),
    [worker.keyFor(ctx, packageInput(sigstore)), worker.keyFor(ctx, packageInput(gundam))],
  );
  assert.deepEqual(worker.drain(), [], 'each verdict is handed over once');
  pool.absorb(handed);
  pool.flush();
  const next = openVerificationCache(dir);
  await verifyPackageEvidenceCached(ctx, next, packageInput(sigstore));
  await verifyPackageEvidenceCached(ctx, next, packageInput(gundam));
  assert.deepEqual({ hits: next.stats.hits, misses: next.stats.misses }, { hits: 2, misses: 0 });
});

test("two runs flushing one folder keep both runs' verdicts", async (t) => {
  const dir = withCacheDir(t);
  const a = openVerificationCache(dir);
  const b = openVerificationCache(dir);
  // both read the (empty) pack before either writes it
  assert.equal(a.get('0'.repeat(64)), undefined);
  assert.equal(b.get('0'.repeat(64)), undefined);
  await verifyPackageEvidenceCached(ctx, a, packageInput(sigstore));
  await verifyPackageEvidenceCached(ctx, b, packageInput(gundam));
  a.flush();
  b.flush();
  const next = openVerificationCache(dir);
  await verifyPackageEvidenceCached(ctx, next, packageInput(sigstore));
  await verifyPackageEvidenceCached(ctx, next, packageInput(gundam));
  assert.deepEqual({ hits: next.stats.hits, misses: next.stats.misses }, { hits: 2, misses: 0 });
});
