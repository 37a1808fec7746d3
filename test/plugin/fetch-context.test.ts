// Fetch contexts (gate/fetch-context.ts): inside a resolution or fetch step every cache loader runs in
// its own context, which follows its awaits and names the load it happens inside; a lookup the cache
// answers opens none; outside the steps (the link step) nothing is attributed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Cache, type Locator, structUtils } from '@yarnpkg/core';
import {
  currentFetch,
  installFetchContexts,
  runInFetch,
  withFetchContexts,
} from '../../plugin/sources/gate/fetch-context';
import { acmeArchive, newYarnCache } from '../harness/yarn-cache';

installFetchContexts(Cache);

const base = structUtils.makeLocator(structUtils.makeIdent(null, 'acme'), 'npm:1.0.0');
const patch = structUtils.makeLocator(
  structUtils.makeIdent(null, 'acme'),
  'patch:acme@npm%3A1.0.0#./p.patch',
);
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('fetch contexts', () => {
  test('inside a step, a fetch has its context across awaits, and a nested fetch names its parent', async () => {
    await withFetchContexts(async () => {
      await runInFetch(patch, async () => {
        await tick();
        assert.equal(currentFetch()?.locator, patch);
        await runInFetch(base, async () => {
          await tick();
          assert.equal(currentFetch()?.locator, base);
          assert.equal(currentFetch()?.parent?.locator, patch);
        });
        assert.equal(currentFetch()?.locator, patch);
      });
      assert.equal(currentFetch(), undefined, 'the step itself is not a fetch');
    });
  });

  test('concurrent fetches keep their own contexts', async () => {
    const seen: string[] = [];
    await withFetchContexts(() =>
      Promise.all(
        [patch, base].map((locator) =>
          runInFetch(locator, async () => {
            await tick();
            seen.push(`${locator.reference}=${currentFetch()?.locator.reference}`);
          }),
        ),
      ),
    );
    assert.deepEqual(seen.sort(), [
      `${base.reference}=${base.reference}`,
      `${patch.reference}=${patch.reference}`,
    ]);
  });

  test('outside the steps nothing is attributed, and a step stays open until the outermost ends', async () => {
    assert.equal(
      runInFetch(base, () => currentFetch()),
      undefined,
    );
    await withFetchContexts(async () => {
      await withFetchContexts(async () => {});
      assert.equal(await runInFetch(base, async () => currentFetch()?.locator), base, 'still open');
    });
    assert.equal(await runInFetch(base, async () => currentFetch()), undefined);
  });
});

describe("fetch contexts on Yarn's cache", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-fetch-contexts-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const newCache = async () => (await newYarnCache(dir, { enableMirror: false })).cache;
  const zip = () => acmeArchive();
  const lookup = async (cache: Cache, locator: Locator, seen: string[], load = zip) => {
    const label = () => currentFetch()?.locator.reference ?? 'none';
    const [, release] = await cache.fetchPackageFromCache(locator, null, {
      onHit: () => seen.push(`hit ${locator.reference} in ${label()}`),
      onMiss: () => seen.push(`miss ${locator.reference} in ${label()}`),
      loader: async () => {
        await tick();
        seen.push(`load ${locator.reference} in ${label()}`);
        return load();
      },
    });
    release();
  };

  test("a loader runs in its locator's context; a lookup its loader makes nests inside; a hit opens none", async () => {
    const cache = await newCache();
    const seen: string[] = [];
    await withFetchContexts(() =>
      lookup(cache, patch, seen, async () => {
        await lookup(cache, base, seen);
        return zip();
      }),
    );
    assert.deepEqual(seen, [
      `miss ${patch.reference} in none`,
      `load ${patch.reference} in ${patch.reference}`,
      `miss ${base.reference} in ${patch.reference}`,
      `load ${base.reference} in ${base.reference}`,
    ]);
    const hits: string[] = [];
    await withFetchContexts(() => lookup(cache, base, hits));
    assert.deepEqual(hits, [`hit ${base.reference} in none`]);
  });

  test("a loader's nested load names its parent", async () => {
    const cache = await newCache();
    let named: Locator | undefined;
    await withFetchContexts(() =>
      cache.fetchPackageFromCache(patch, null, {
        loader: async () => {
          const [, release] = await cache.fetchPackageFromCache(base, null, {
            loader: async () => {
              await tick();
              named = currentFetch()?.parent?.locator;
              return zip();
            },
          });
          release();
          return zip();
        },
      }),
    ).then(([, release]) => release());
    assert.equal(named, patch);
  });

  test('outside the steps a loader runs in no context', async () => {
    const cache = await newCache();
    const seen: string[] = [];
    await lookup(cache, base, seen);
    assert.deepEqual(seen, [`miss ${base.reference} in none`, `load ${base.reference} in none`]);
  });
});
