// Organisation policies merged with their bases (policy/extends.ts): precedence, inheritance, what a
// repository may tighten and what it may relax only where a base permits, and locations that name the
// file each rule came from.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type BaseResolver,
  evaluate,
  loadPolicy,
  loadPolicyTree,
  type Policy,
  type PolicyLoadResult,
} from '../../policy/index';
import { NOW } from './helpers';

const ORG = `version: 1
mode: enforce
defaults:
  require: registry-signature
  minReleaseAge: 2d
rules:
  - name: acme-internal
    packages: ["@acme/*"]
    registries: [https://npm.acme.example]
    require: signature
    signers:
      - issuer: https://oidc.acme.example
        subject: { glob: "*@acme.example" }
`;

function tree(files: Record<string, string>, top = '.tollgate.yml'): PolicyLoadResult {
  const resolve: BaseResolver = (reference) => {
    const name = reference.kind === 'path' ? reference.path : reference.url;
    const text = files[name];
    if (text === undefined) return { error: `${name} does not exist (ENOENT)` };
    return { text, file: name, origin: 'path', key: name };
  };
  return loadPolicyTree(files[top]!, top, resolve, { now: NOW });
}

function ok(result: PolicyLoadResult): Policy {
  if (!result.ok)
    assert.fail(
      result.errors.map((e) => `${e.file}:${e.line}:${e.column} ${e.code} ${e.message}`).join('\n'),
    );
  return result.policy;
}

function errors(result: PolicyLoadResult): string[] {
  assert.equal(result.ok, false, 'the policy must be refused');
  return result.ok ? [] : result.errors.map((e) => `${e.file}:${e.line}:${e.column} ${e.code} ${e.message}`);
}

describe('extends: organisation policies', () => {
  test('a repository inherits the base and its rules cite the base file and line', () => {
    const policy = ok(tree({ 'org.yml': ORG, '.tollgate.yml': 'version: 1\nextends: org.yml\n' }));
    assert.equal(policy.defaults.requirements.require, 'registry-signature');
    assert.equal(policy.defaults.requirements.minReleaseAge?.text, '2d');
    const rule = policy.rules[0]!;
    assert.equal(rule.id, 'acme-internal');
    assert.deepEqual(rule.location, { file: 'org.yml', line: 7, column: 5 });
    assert.deepEqual(
      policy.layers?.map((l) => l.file),
      ['org.yml', '.tollgate.yml'],
    );
    const decision = evaluate({
      policy,
      package: { name: '@acme/ui', version: '1.0.0', source: 'npm', registry: 'https://evil.example/' },
      now: NOW,
      stage: 'prefetch',
    });
    assert.equal(decision.verdict, 'deny');
    assert.equal(decision.rule.location.file, 'org.yml', 'the decision names the base file');
  });

  test('rules inherit the merged defaults; a repository may tighten freely', () => {
    const policy = ok(
      tree({
        'org.yml': ORG,
        '.tollgate.yml': `version: 1
extends: [org.yml]
defaults:
  minReleaseAge: 5d
rules:
  - name: tools
    packages: [esbuild]
    require: provenance
    signers: any
  - name: acme-internal
    packages: ["@acme/*", "acme-*"]
    registries: [https://npm.acme.example]
    require: provenance
    signers:
      - issuer: https://oidc.acme.example
        subject: release-bot@acme.example
`,
      }),
    );
    assert.equal(policy.defaults.requirements.require, 'registry-signature', 'inherited');
    assert.equal(policy.defaults.requirements.minReleaseAge?.text, '5d', 'tightened');
    assert.equal(policy.rules.length, 2, 'acme-internal replaced in place, tools appended');
    assert.equal(policy.rules[0]!.id, 'acme-internal');
    assert.equal(policy.rules[0]!.location.file, '.tollgate.yml');
    assert.equal(policy.rules[0]!.requirements.minReleaseAge?.text, '5d');
    assert.equal(policy.rules[1]!.index, 1);
  });

  test('every relaxation a base does not permit is refused, located in the repository file', () => {
    const found = errors(
      tree({
        'org.yml': ORG,
        '.tollgate.yml': `version: 1
extends: org.yml
mode: warn
defaults:
  require: none
rules:
  - name: acme-internal
    packages: ["@acme/*"]
    require: signature
    signers: any
  - packages: ["@acme/ui"]
    require: none
exceptions:
  - package: left-pad
    reason: legacy
    expires: 2099-01-01
scripts:
  default: allow
`,
      }),
    );
    const text = found.join('\n');
    assert.match(text, /\.tollgate\.yml:3:7 extends-relaxes mode warn is lower than the base's enforce/);
    assert.match(
      text,
      /\.tollgate\.yml:5:12 extends-relaxes defaults\.require none is weaker than the base's registry-signature \(the defaults at org\.yml:4:3\)/,
    );
    assert.match(
      text,
      /rule acme-internal replaces the base's rule acme-internal at org\.yml:7:5 with weaker requirements: .*signers.*registries https:\/\/npm\.acme\.example\/ → \(none\)/,
    );
    assert.match(
      text,
      /\.tollgate\.yml:11:5 extends-relaxes rule rules\[1\] judges names the base judges more strictly: acme-internal \(org\.yml:7:5\): require signature → none/,
    );
    assert.match(text, /exception for left-pad waives violations/);
    assert.match(text, /scripts\.default allow is looser than the base's deny/);
  });

  test('permits: a base lets repositories relax what it names, and nothing else', () => {
    const base = `${ORG}permits:
  mode: warn
  exceptions: true
  scriptAllowances: signed
  packages: ["@acme-labs/*"]
`;
    const policy = ok(
      tree({
        'org.yml': base,
        '.tollgate.yml': `version: 1
extends: org.yml
mode: warn
rules:
  - packages: ["@acme-labs/*"]
    require: none
exceptions:
  - package: left-pad
    reason: legacy
    expires: 2099-01-01
scripts:
  allow:
    - package: esbuild
      reason: platform binary
      signers:
        - issuer: https://token.actions.githubusercontent.com
          repository: github.com/evanw/esbuild
`,
      }),
    );
    assert.equal(policy.mode, 'warn');
    assert.equal(policy.exceptions.length, 1);
    const refused = errors(
      tree({
        'org.yml': base,
        '.tollgate.yml': `version: 1
extends: org.yml
mode: off
scripts:
  allow:
    - package: legacy-native
      reason: reviewed
      integrity: sha512-${'A'.repeat(86)}==
`,
      }),
    ).join('\n');
    assert.match(
      refused,
      /mode off is lower than the base's enforce; the base \(org\.yml\) does not permit that \(permits at org\.yml:\d+:\d+\)/,
    );
    assert.match(refused, /scripts\.allow entry for legacy-native lets a build run/);
  });

  test('a base may not be redeclared: trust roots keep the meaning the base gives them', () => {
    const base = `version: 1\ntrustRoots:\n  acme: { file: acme-root.json }\n`;
    const text = errors(
      tree({
        'org/base.yml': base,
        '.tollgate.yml': 'version: 1\nextends: org/base.yml\ntrustRoots:\n  acme: { file: mine.json }\n',
      }),
    ).join('\n');
    assert.match(
      text,
      /\.tollgate\.yml:4:3 extends-trust-root-conflict trust root "acme" is declared by the base at org\/base\.yml:3:3/,
    );
  });

  test('several bases fold in order: the second may not relax the first', () => {
    const strict = 'version: 1\ndefaults:\n  require: signature\n  signers: any\n';
    const loose = 'version: 1\ndefaults:\n  require: none\n';
    assert.match(
      errors(
        tree({ 'a.yml': strict, 'b.yml': loose, '.tollgate.yml': 'version: 1\nextends: [a.yml, b.yml]\n' }),
      ).join('\n'),
      /b\.yml:3:12 extends-relaxes defaults\.require none is weaker than the base's signature/,
    );
    const policy = ok(
      tree({ 'a.yml': loose, 'b.yml': strict, '.tollgate.yml': 'version: 1\nextends: [a.yml, b.yml]\n' }),
    );
    assert.equal(policy.defaults.requirements.require, 'signature');
  });

  test('fail closed: a base that cannot be read, a cycle, and a half-loaded policy', () => {
    assert.match(
      errors(tree({ '.tollgate.yml': 'version: 1\nextends: missing.yml\n' })).join('\n'),
      /\.tollgate\.yml:2:10 extends-unavailable the base policy missing\.yml cannot be used: missing\.yml does not exist \(ENOENT\); nothing is judged without it/,
    );
    assert.match(
      errors(
        tree({
          'a.yml': 'version: 1\nextends: .tollgate.yml\n',
          '.tollgate.yml': 'version: 1\nextends: a.yml\n',
        }),
      ).join('\n'),
      /extends-cycle/,
    );
    assert.match(
      errors(
        tree({ 'a.yml': 'version: 1\nrulez: []\n', '.tollgate.yml': 'version: 1\nextends: a.yml\n' }),
      ).join('\n'),
      /^a\.yml:2:1 unknown-key/m,
      'an invalid base is located in the base',
    );
    const single = loadPolicy('version: 1\nextends: org.yml\n');
    assert.equal(single.ok, false, 'a single-file load never judges with half a policy');
    assert.match(single.ok ? '' : single.errors[0]!.code, /extends-unresolved/);
    assert.equal(
      loadPolicy('version: 1\nextends: org.yml\n', '.tollgate.yml', { extends: 'ignore' }).ok,
      true,
    );
  });

  test('a URL must be pinned by sha256 or signed', () => {
    const text = errors(
      tree({ '.tollgate.yml': 'version: 1\nextends:\n  - url: https://policies.acme.example/base.yml\n' }),
    ).join('\n');
    assert.match(
      text,
      /extends-unpinned the base https:\/\/policies\.acme\.example\/base\.yml is neither pinned by sha256 nor signed/,
    );
  });
  test("trust-root files keep their meaning: a base's are relative to the base, the top policy's stay as written", () => {
    const files: Record<string, string> = {
      'org/base.yml': `${ORG}trustRoots:\n  org: { file: ../../roots/org-root.json }\n`,
      '.tollgate.yml':
        'version: 1\nextends: org/base.yml\ntrustRoots:\n  own: { file: ../shared/own-root.json }\n',
    };
    const resolve: BaseResolver = (reference) => {
      const name = reference.kind === 'path' ? reference.path : reference.url;
      return { text: files[name]!, file: name, origin: 'path', key: name, dir: 'org' };
    };
    const policy = ok(
      loadPolicyTree(files['.tollgate.yml']!, '.tollgate.yml', resolve, { now: NOW, dir: '.' }),
    );
    const fileOf = (name: string) => policy.trustRoots.find((root) => root.name === name)?.file;
    assert.equal(fileOf('org'), '../roots/org-root.json', 'a `..` beyond a relative base folder is kept');
    assert.equal(fileOf('own'), '../shared/own-root.json', "the repository policy's path is not rewritten");
  });
});
