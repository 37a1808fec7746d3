import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../harness/paths';
import { run } from '../harness/process';

// The README's main command must keep telling the story it tells: every expectation met, exit 0.
test('npm run demo: the dependency-confusion story ends with every attack blocked', async () => {
  // A temp folder of its own, to see that the demo leaves nothing behind in it.
  const tmp = mkdtempSync(join(tmpdir(), 'demo-tmp-'));
  const res = await run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
    cwd: repoRoot,
    timeoutMs: 240_000,
    env: { ...process.env, TMPDIR: tmp },
  });
  // tsx keeps a compile cache of its own there; everything Tollgate's harness made must be gone.
  const left = readdirSync(tmp).filter((f) => f.startsWith('tollgate-'));
  rmSync(tmp, { recursive: true, force: true });
  assert.equal(res.code, 0, res.output);
  assert.deepEqual(left, [], 'the demo removed everything it created in the temp folder');
  assert.match(res.output, /(\d+) of \1 expectations met/);
  assert.match(res.output, /signer-mismatch/);
  assert.match(res.output, /YN9109: .*left-pad@1\.3\.1 .*its postinstall did not run/);
  assert.match(res.output, /tollgate-server and both registries stopped/);
});
