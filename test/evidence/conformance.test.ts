// Every verification case of the Sigstore client conformance suite, with the artifact path and with
// its sha256 digest, through the conformance CLI's code path. The reference path (sigstore-js's own
// DER encoder, no memoisation) must give the same verdict and the same failure code on every case.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runConformance } from '../../policy/evidence/conformance-cli';
import { installFastDerEncoding, uninstallFastDerEncoding } from '../../policy/evidence/perf/der-encoding';
import { fixturePath } from './fixtures';

const SUITE = fixturePath('sigstore-conformance', 'bundle-verify');
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

/** Cases that cannot pass, with the reason. Reported in the output; empty while all pass. */
const CANNOT_PASS: Record<string, string> = {};

const cases = readdirSync(SUITE, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(SUITE, d.name, 'bundle.sigstore.json')))
  .map((d) => d.name)
  .sort();

function argvFor(name: string, mode: 'path' | 'digest'): string[] {
  const dir = join(SUITE, name);
  const optional = (file: string) => (existsSync(join(dir, file)) ? join(dir, file) : undefined);
  const artifactPath = optional('artifact') ?? join(SUITE, 'a.txt');
  const artifact =
    mode === 'path'
      ? artifactPath
      : `sha256:${createHash('sha256').update(readFileSync(artifactPath)).digest('hex')}`;
  const trustedRoot = optional('trusted_root.json');
  const key = optional('key.pub');
  const identity = optional('identity');
  const issuer = optional('issuer');
  return [
    'verify-bundle',
    '--bundle',
    join(dir, 'bundle.sigstore.json'),
    ...(key
      ? ['--key', key]
      : [
          '--certificate-identity',
          identity ? readFileSync(identity, 'utf8').trim() : DEFAULT_IDENTITY,
          '--certificate-oidc-issuer',
          issuer ? readFileSync(issuer, 'utf8').trim() : DEFAULT_ISSUER,
        ]),
    ...(trustedRoot ? ['--trusted-root', trustedRoot] : []),
    artifact,
  ];
}

test('the conformance suite is present and complete', () => {
  assert.ok(cases.length >= 70, `expected at least 70 cases in ${SUITE}, found ${cases.length}`);
});

for (const mode of ['path', 'digest'] as const) {
  test(`conformance (${mode} mode)`, async (t) => {
    let passed = 0;
    for (const name of cases) {
      const shouldFail = name.endsWith('_fail');
      if (CANNOT_PASS[name]) {
        await t.test(name, { todo: CANNOT_PASS[name] }, () => {});
        continue;
      }
      await t.test(name, () => {
        const { code, message } = runConformance(argvFor(name, mode));
        if (shouldFail) assert.notEqual(code, 0, `${name} must fail verification but passed: ${message}`);
        else assert.equal(code, 0, `${name} must verify: ${message}`);
        passed++;
      });
    }
    t.diagnostic(`${mode} mode: ${passed}/${cases.length} cases behave as expected`);
    for (const [name, reason] of Object.entries(CANNOT_PASS)) t.diagnostic(`cannot pass: ${name}: ${reason}`);
  });
}

test('the fast path gives the same verdict and failure code as the reference path on every case', () => {
  const codeOf = (message: string) => /^([A-Z_]+):/.exec(message)?.[1] ?? message;
  const verdicts = (reference: boolean) => {
    if (reference) uninstallFastDerEncoding();
    try {
      return cases.flatMap((name) =>
        (['path', 'digest'] as const).map((mode) => {
          const { code, message } = runConformance(argvFor(name, mode), { reference });
          return `${name} ${mode}: ${code} ${code === 0 ? '' : codeOf(message)}`;
        }),
      );
    } finally {
      installFastDerEncoding();
    }
  };
  const reference = verdicts(true);
  const fast = verdicts(false);
  assert.deepEqual(fast, reference);
});
