// The witness of patched archives Yarn builds (gate/patch-builds.ts), on Yarn's own Cache class: a
// patch is recorded only when its loader ran in this process, with the checksums Yarn computed of what
// came out and of what the build fetched through the cache; a cache hit, the global mirror's copy, a
// lookup whose checksum is the lockfile's word (checksumBehavior ignore) or a rejected build is not.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Cache, type Locator, structUtils } from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import { installFetchContexts, withFetchContexts } from '../../plugin/sources/gate/fetch-context';
import { installPatchBuildWitness, patchBuiltHere } from '../../plugin/sources/gate/patch-builds';
import { acmeArchive, newYarnCache } from '../harness/yarn-cache';

// as the gate installs them: the contexts first, so the witness's loaders run inside them
installFetchContexts(Cache);
installPatchBuildWitness(Cache);

const dir = mkdtempSync(join(tmpdir(), 'tollgate-patch-builds-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const base = structUtils.makeLocator(structUtils.makeIdent(null, 'acme'), 'npm:1.0.0');
const patch = structUtils.makeLocator(
  structUtils.makeIdent(null, 'acme'),
  'patch:acme@npm%3A1.0.0#./fix.patch::version=1.0.0&hash=abcdef',
);

const setup = (settings: Record<string, unknown> = {}, globalFolder?: string) =>
  newYarnCache(dir, settings, globalFolder);
const zipOf = acmeArchive;

/**
 * What PatchFetcher does during a fetch step (where each cache loader runs in the context of its
 * locator): fetch the base through the same cache, then make the patched archive.
 */
async function fetchPatch(cache: Cache, expected: string | null = null) {
  const [, release, checksum] = await withFetchContexts(() =>
    cache.fetchPackageFromCache(patch, expected, {
      loader: async () => {
        const [, releaseBase] = await cache.fetchPackageFromCache(base, null, {
          loader: () => zipOf('module.exports = "acme@1.0.0";\n'),
        });
        releaseBase();
        return zipOf('module.exports = "acme@1.0.0 (fixed)";\n');
      },
    }),
  );
  release();
  return checksum;
}

function checksumOfFile(cache: Cache, locator: Locator, checksum: string): string {
  const bytes = readFileSync(npath.fromPortablePath(cache.getLocatorPath(locator, checksum)));
  return `${cache.cacheKey}/${createHash('sha512').update(bytes).digest('hex')}`;
}

describe('patched archives Yarn builds in this process', () => {
  test('a patch whose loader ran is recorded with the checksums of its output and of the base it fetched', async () => {
    const { cache } = await setup();
    const checksum = await fetchPatch(cache);
    assert.ok(checksum);
    const built = patchBuiltHere(cache, patch);
    assert.ok(built, 'the build is recorded');
    assert.equal(built.archive, checksum);
    assert.equal(
      built.archive,
      checksumOfFile(cache, patch, checksum),
      'the checksum is of the file Yarn links',
    );
    const baseChecksum = built.inputs.get(base.locatorHash);
    assert.ok(baseChecksum, 'the base it fetched is recorded');
    assert.equal(baseChecksum, checksumOfFile(cache, base, baseChecksum));
    assert.equal(patchBuiltHere(cache, base), undefined, 'the base itself is not a patch build');
  });

  test('a cache hit is not a build', async () => {
    const { cache, globalFolder } = await setup();
    const checksum = await fetchPatch(cache);
    // another Cache on the same folder (a later install), with the archive already there
    const again = new Cache(cache.cwd, { configuration: cache.configuration });
    assert.equal(await fetchPatch(again, checksum), checksum);
    assert.equal(patchBuiltHere(again, patch), undefined);
    assert.ok(globalFolder);
  });

  test("the global mirror's copy is not a build", async () => {
    const { globalFolder } = await setup();
    const first = (await setup({}, globalFolder)).cache;
    const checksum = await fetchPatch(first);
    // an empty project cache, the same global mirror: Yarn copies the mirror's archive
    const { cache } = await setup({}, globalFolder);
    assert.equal(await fetchPatch(cache, checksum), checksum);
    assert.equal(patchBuiltHere(cache, patch), undefined);
  });

  test("under checksumBehavior ignore or reset the checksum may be the lockfile's word: nothing is recorded", async () => {
    for (const behavior of ['ignore', 'reset']) {
      const { cache } = await setup({ checksumBehavior: behavior });
      await fetchPatch(cache, `${cache.cacheKey}/${'0'.repeat(128)}`);
      assert.equal(patchBuiltHere(cache, patch), undefined, behavior);
    }
  });

  test('a build Yarn rejects (checksum mismatch under throw) is not recorded', async () => {
    const { cache } = await setup({ checksumBehavior: 'throw' });
    await assert.rejects(fetchPatch(cache, `${cache.cacheKey}/${'0'.repeat(128)}`), /checksum/);
    assert.equal(patchBuiltHere(cache, patch), undefined);
  });

  test('a patch fetched outside the resolution and fetch steps (no fetch context) is not recorded', async () => {
    const { cache } = await setup();
    const [, release] = await cache.fetchPackageFromCache(patch, null, {
      loader: () => zipOf('module.exports = "acme@1.0.0 (fixed)";\n'),
    });
    release();
    assert.equal(patchBuiltHere(cache, patch), undefined);
  });

  test('a non-patch locator whose loader ran is not recorded', async () => {
    const { cache } = await setup();
    const [, release] = await cache.fetchPackageFromCache(base, null, {
      loader: () => zipOf('module.exports = "acme@1.0.0";\n'),
    });
    release();
    assert.equal(patchBuiltHere(cache, base), undefined);
  });
});
