import assert from 'node:assert/strict';
import { test } from 'node:test';
import { repoRoot } from '../harness/paths';
import { run } from '../harness/process';

// The README's main command must keep telling the story it tells: every expectation met, exit 0.
test('npm run demo: the dependency-confusion story ends with every attack blocked', async () => {
  const res = await run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
    cwd: repoRoot,
    timeoutMs: 240_000,
  });
  assert.equal(res.code, 0, res.output);
  assert.match(res.output, /(\d+) of \1 expectations met/);
  assert.match(res.output, /signer-mismatch/);
  assert.match(res.output, /tollgate-server and both registries stopped/);
});
