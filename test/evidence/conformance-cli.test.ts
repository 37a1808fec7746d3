// The executable's protocol surface: exit codes and messages of tollgate-conformance as a process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixturePath } from './fixtures';

const repoRoot = new URL('../..', import.meta.url).pathname;
const suite = fixturePath('sigstore-conformance', 'bundle-verify');
const identity =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const issuer = 'https://token.actions.githubusercontent.com';

function cli(...args: string[]) {
  return spawnSync(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'policy/evidence/conformance-cli.ts'), ...args],
    {
      cwd: repoRoot,
      encoding: 'utf8',
    },
  );
}

const happy = (id: string) => [
  'verify-bundle',
  '--bundle',
  join(suite, 'happy-path-v0.3', 'bundle.sigstore.json'),
  '--certificate-identity',
  id,
  '--certificate-oidc-issuer',
  issuer,
  join(suite, 'a.txt'),
];

test('exit 0 for a verified bundle with the exact identity, 1 for another identity, 2 for bad usage', () => {
  const ok = cli(...happy(identity));
  assert.equal(ok.status, 0, ok.stderr);
  const prefix = cli(...happy(identity.replace('@refs/heads/main', '')));
  assert.equal(prefix.status, 1, 'identity matching must be exact, not a prefix or regex');
  assert.match(prefix.stderr, /identity is ".*", expected/);
  const usage = cli('verify-bundle', '--bundle');
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /usage:/);
  const missing = cli(
    'verify-bundle',
    '--bundle',
    '/nonexistent.json',
    '--key',
    '/nonexistent.pub',
    join(suite, 'a.txt'),
  );
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /\/nonexistent\.pub: cannot read the public key \(ENOENT\)/);
});
