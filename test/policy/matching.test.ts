// The matching primitives: identity patterns, package selectors and precedence, registry URLs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedRegistries, normalizeRegistryUrl, selectRule } from '../../policy/index';
import { compilePattern, isPatternProblem } from '../../policy/patterns';
import { policyOf } from './helpers';

describe('identity patterns are anchored', () => {
  const rows: [spec: Parameters<typeof compilePattern>[0], value: string, matches: boolean][] = [
    ['a@acme.example', 'a@acme.example', true],
    ['a@acme.example', 'xa@acme.example', false],
    ['*@acme.example', '*@acme.example', true],
    ['*@acme.example', 'a@acme.example', false],
    [{ glob: '*@acme.example' }, 'a@acme.example', true],
    [{ glob: '*@acme.example' }, 'a@acme.example.evil.example', false],
    [{ glob: '*@acme.example' }, 'a/b@acme.example', false],
    [
      { glob: 'https://github.com/acme/*/.github/workflows/release.yml@refs/tags/v*' },
      'https://github.com/acme/tool/.github/workflows/release.yml@refs/tags/v1.2.3',
      true,
    ],
    [
      { glob: 'https://github.com/acme/*/.github/workflows/release.yml@refs/tags/v*' },
      'https://github.com/acme/a/b/.github/workflows/release.yml@refs/tags/v1',
      false,
    ],
    [
      { glob: 'https://github.com/acme-corp/*/.github/workflows/release.yml@refs/tags/v*' },
      'https://github.com/acme-corp/tool/.github/workflows/release.yml@refs/tags/v1.2.3',
      true,
    ],
    [{ glob: 'release-bot-*@acme.example' }, 'release-bot-2@acme.example', true],
    [{ glob: 'release-bot-*@acme.example' }, 'release_bot-2@acme.example', false],
    [{ glob: 'https://github.com/acme/**' }, 'https://github.com/acme/a/b/c', true],
    [{ glob: 'https://github.com/acme/*' }, 'https:/github.com/acme/x', false],
    [{ glob: 'refs/tags/v?.0.0' }, 'refs/tags/v1.0.0', true],
    [{ glob: 'a.b' }, 'aXb', false],
    [{ regex: '^refs/tags/v[0-9]+\\.[0-9]+\\.[0-9]+$' }, 'refs/tags/v1.2.3', true],
    [{ regex: '^refs/tags/v[0-9]+\\.[0-9]+\\.[0-9]+$' }, 'refs/tags/v1.2.3-evil', false],
    [{ regex: '^(?:a|b)@acme\\.example$' }, 'b@acme.example', true],
    [{ exact: '**' }, '**', true],
  ];
  for (const [spec, value, matches] of rows) {
    it(`${JSON.stringify(spec)} ${matches ? 'matches' : 'does not match'} ${value}`, () => {
      const pattern = compilePattern(spec);
      assert.ok(!isPatternProblem(pattern));
      assert.equal(pattern.test(value), matches);
    });
  }

  for (const [regex, code] of [
    ['acme', 'regex-unanchored'],
    ['^acme', 'regex-unanchored'],
    ['acme$', 'regex-unanchored'],
    ['^acme\\$', 'regex-unanchored'],
    ['^a|b$', 'regex-root-alternation'],
    ['^[|]a$', undefined],
    ['^\\|a$', undefined],
    ['^(a$', 'regex-invalid'],
  ] as const) {
    it(`regex ${regex} -> ${code ?? 'accepted'}`, () => {
      const pattern = compilePattern({ regex });
      assert.equal(isPatternProblem(pattern) ? pattern.code : undefined, code);
    });
  }
});

describe('rule precedence', () => {
  const policy = policyOf(`version: 1
rules:
  - name: everything
    packages: ["**"]
  - name: scope
    packages: ["@acme/*"]
  - name: narrower-scope
    packages: ["@acme/internal-*"]
  - name: exact
    packages: ["@acme/internal-tool"]
  - name: exact-versioned
    packages: ["@acme/internal-tool"]
    versions: "^2"
  - name: first-tie
    packages: [tie]
  - name: second-tie
    packages: [tie]
  - name: unscoped
    packages: ["*"]
`);
  const rows: [name: string, version: string, winner: string, precedence: RegExp][] = [
    ['@acme/internal-tool', '2.1.0', 'exact-versioned', /exact name, with a version range/],
    ['@acme/internal-tool', '1.0.0', 'exact', /more specific than narrower-scope/],
    ['@acme/internal-other', '1.0.0', 'narrower-scope', /more specific than scope/],
    ['@acme/x', '1.0.0', 'scope', /more specific than everything/],
    ['@other/x', '1.0.0', 'everything', /glob with 0 literal characters/],
    ['tie', '1.0.0', 'first-tie', /comes first in the file/],
    ['plain', '1.0.0', 'everything', /ties with unscoped and comes first/],
  ];
  for (const [name, version, winner, precedence] of rows) {
    it(`${name}@${version} -> ${winner}`, () => {
      const selection = selectRule(policy, name, version);
      assert.equal(selection.rule.id, winner);
      assert.match(selection.precedence, precedence);
    });
  }

  it('falls to the defaults when nothing matches', () => {
    const selection = selectRule(policyOf('version: 1\nrules:\n  - packages: [a]\n'), 'b', '1.0.0');
    assert.equal(selection.rule.id, 'defaults');
    assert.deepEqual(selection.candidates, []);
  });
});

describe('registry URLs', () => {
  for (const [input, output] of [
    ['https://npm.acme.example', 'https://npm.acme.example/'],
    ['https://NPM.Acme.Example/', 'https://npm.acme.example/'],
    ['https://npm.acme.example:443', 'https://npm.acme.example/'],
    ['http://npm.acme.example:80/', 'http://npm.acme.example/'],
    ['https://npm.acme.example:8443/repo//', 'https://npm.acme.example:8443/repo/'],
    ['https://npm.acme.example/Repo', 'https://npm.acme.example/Repo/'],
  ]) {
    it(`${input} -> ${output}`, () => assert.deepEqual(normalizeRegistryUrl(input!), { url: output }));
  }
  for (const input of [
    'npm.acme.example',
    'ftp://npm.acme.example',
    'https://u:p@npm.acme.example',
    'https://npm.acme.example/?a=1',
  ]) {
    it(`refuses ${input}`, () => assert.ok('problem' in normalizeRegistryUrl(input)));
  }

  it('binds by name before any version is known, the most specific binding winning', () => {
    const policy = policyOf(`version: 1
rules:
  - name: scope
    packages: ["@acme/*"]
    registries: [https://npm.acme.example]
  - name: mirror
    packages: ["@acme/mirrored"]
    registries: [https://npm.acme.example, https://mirror.acme.example/npm]
  - name: exact-unbound
    packages: ["@acme/legacy"]
`);
    assert.equal(allowedRegistries(policy, 'left-pad'), undefined);
    assert.deepEqual(allowedRegistries(policy, '@acme/x'), {
      rule: { id: 'scope', index: 0, location: { file: '.tollgate.yml', line: 3, column: 5 } },
      selector: '@acme/*',
      registries: ['https://npm.acme.example/'],
    });
    assert.equal(allowedRegistries(policy, '@acme/mirrored')?.rule.id, 'mirror');
    assert.equal(allowedRegistries(policy, '@acme/legacy')?.rule.id, 'scope');
  });
});
