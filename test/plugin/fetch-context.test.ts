// Fetch contexts (gate/fetch-context.ts): inside a resolution or fetch step every fetch runs in its own
// context, which follows its awaits and names the fetch it happens inside; outside the steps (the link
// step) nothing is attributed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { structUtils } from '@yarnpkg/core';
import { currentFetch, runInFetch, withFetchContexts } from '../../plugin/sources/gate/fetch-context';

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
