// Validation: every error is located (file:line:column), names the field, says what was expected and,
// where a typo is plausible, suggests the fix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPolicy } from '../../policy/index';

const VALID = `version: 1
mode: enforce
trustRoots:
  acme:
    file: .tollgate/acme-trusted_root.json
defaults:
  require: registry-signature
rules:
  - name: acme
    packages: ["@acme/*"]
    registries: [https://npm.acme.example]
    require: signature
    trust: [acme]
    signers:
      - issuer: https://oidc.acme.example
        subject: { glob: "*@acme.example" }
`;

interface Case {
  name: string;
  text: string;
  code: string;
  line: number;
  column: number;
  field?: string;
  suggestion?: RegExp;
  expected?: RegExp;
}

const cases: Case[] = [
  { name: 'empty document', text: '', code: 'wrong-type', line: 1, column: 1, expected: /object/ },
  { name: 'a list at the root', text: '- a\n- b\n', code: 'wrong-type', line: 1, column: 1 },
  {
    name: 'missing version',
    text: 'mode: warn\n',
    code: 'missing-key',
    line: 1,
    column: 1,
    field: 'version',
    suggestion: /add version/,
  },
  {
    name: 'wrong version',
    text: 'version: 2\n',
    code: 'invalid-value',
    line: 1,
    column: 10,
    field: 'version',
    expected: /number 1/,
  },
  {
    name: 'misspelt top-level key',
    text: 'version: 1\nrulez: []\n',
    code: 'unknown-key',
    line: 2,
    column: 1,
    field: 'rulez',
    suggestion: /did you mean "rules"/,
  },
  {
    name: 'misspelt rule key',
    text: VALID.replace('    require: signature', '    requires: signature'),
    code: 'unknown-key',
    line: 12,
    column: 5,
    field: 'rules[0].requires',
    suggestion: /"require"/,
  },
  {
    name: 'misspelt signer key',
    text: VALID.replace('issuer: https://oidc', 'isuer: https://oidc'),
    code: 'unknown-key',
    line: 15,
    column: 9,
    field: 'rules[0].signers[0].isuer',
    suggestion: /"issuer"/,
  },
  {
    name: 'misspelt evidence level',
    text: VALID.replace('require: signature', 'require: signatures'),
    code: 'invalid-value',
    line: 12,
    column: 14,
    field: 'rules[0].require',
    suggestion: /"signature"/,
  },
  {
    name: 'misspelt mode',
    text: 'version: 1\nmode: enforced\n',
    code: 'invalid-value',
    line: 2,
    column: 7,
    suggestion: /"enforce"/,
  },
  {
    name: 'unknown trust root name, with did-you-mean',
    text: VALID.replace('trust: [acme]', 'trust: [acmee]'),
    code: 'trust-root-unknown',
    line: 13,
    column: 13,
    field: 'rules[0].trust[0]',
    suggestion: /"acme"/,
  },
  {
    name: 'redeclaring public-good',
    text: 'version: 1\ntrustRoots:\n  public-good: { file: x.json }\n',
    code: 'invalid-value',
    line: 3,
    column: 3,
    field: 'trustRoots.public-good',
  },
  {
    name: 'unanchored regex',
    text: VALID.replace('subject: { glob: "*@acme.example" }', 'subject: { regex: ".*@acme\\\\.example" }'),
    code: 'regex-unanchored',
    line: 16,
    column: 27,
    field: 'rules[0].signers[0].subject.regex',
    suggestion: /\^\.\*@acme/,
  },
  {
    name: 'root-level alternation',
    text: VALID.replace(
      'subject: { glob: "*@acme.example" }',
      'subject: { regex: "^a@acme\\\\.example|b@acme\\\\.example$" }',
    ),
    code: 'regex-root-alternation',
    line: 16,
    column: 27,
    suggestion: /\^\(\?:/,
  },
  {
    name: 'invalid regex',
    text: VALID.replace('subject: { glob: "*@acme.example" }', 'subject: { regex: "^(a$" }'),
    code: 'regex-invalid',
    line: 16,
    column: 27,
  },
  {
    name: 'invalid semver range',
    text: 'version: 1\nrules:\n  - packages: [a]\n    versions: ">=banana"\n',
    code: 'semver-range-invalid',
    line: 4,
    column: 15,
    field: 'rules[0].versions',
  },
  {
    name: 'registry with credentials',
    text: 'version: 1\nrules:\n  - packages: [a]\n    registries: [https://user:pw@npm.acme.example]\n',
    code: 'registry-url-invalid',
    line: 4,
    column: 18,
    suggestion: /yarnrc/,
  },
  {
    name: 'signature without signers',
    text: 'version: 1\nrules:\n  - packages: [a]\n    require: signature\n',
    code: 'signers-required',
    line: 3,
    column: 5,
    suggestion: /signers: any/,
  },
  {
    name: 'defaults requiring provenance without signers',
    text: 'version: 1\ndefaults:\n  require: provenance\n',
    code: 'signers-required',
    line: 3,
    column: 3,
  },
  {
    name: 'signers as a misspelt word',
    text: 'version: 1\nrules:\n  - packages: [a]\n    signers: anyone\n',
    code: 'invalid-value',
    line: 4,
    column: 14,
    expected: /the word any/,
  },
  {
    name: 'pattern object with two kinds',
    text: 'version: 1\nrules:\n  - packages: [a]\n    signers:\n      - issuer: https://x.example\n        subject: { glob: a, regex: "^a$" }\n',
    code: 'invalid-value',
    line: 6,
    column: 18,
    field: 'rules[0].signers[0].subject',
  },
  {
    name: 'tag with unknown placeholder',
    text: `version: 1\nrules:\n  - packages: [a]\n    signers:\n      - issuer: https://x.example\n        tag: v\${verison}\n`,
    code: 'tag-template-invalid',
    line: 6,
    column: 14,
    suggestion: /\$\{version\}/,
  },
  {
    name: 'tag written as a ref',
    text: `version: 1\nrules:\n  - packages: [a]\n    signers:\n      - issuer: https://x.example\n        tag: refs/tags/v\${version}\n`,
    code: 'tag-template-invalid',
    line: 6,
    column: 14,
    suggestion: /tag: "v\$\{version\}"/,
  },
  {
    name: 'exception without reason',
    text: 'version: 1\nexceptions:\n  - package: a\n    expires: 2030-01-01\n',
    code: 'missing-key',
    line: 3,
    column: 5,
    field: 'exceptions[0].reason',
  },
  {
    name: 'exception with an impossible date',
    text: 'version: 1\nexceptions:\n  - package: a\n    reason: r\n    expires: 2030-02-30\n',
    code: 'invalid-value',
    line: 5,
    column: 14,
    expected: /YYYY-MM-DD/,
  },
  {
    name: 'exception waiving an unknown code',
    text: 'version: 1\nexceptions:\n  - package: a\n    reason: r\n    expires: 2030-01-01\n    waive: [signer-mismatches]\n',
    code: 'invalid-value',
    line: 6,
    column: 13,
    suggestion: /"signer-mismatch"/,
  },
  {
    name: 'exception trying to waive tampering',
    text: 'version: 1\nexceptions:\n  - package: a\n    reason: r\n    expires: 2030-01-01\n    waive: [tampered-archive]\n',
    code: 'invalid-value',
    line: 6,
    column: 13,
    suggestion: /tampered-\* violations can never be waived/,
  },
  {
    name: 'scripts allowance for a misspelt source',
    text: 'version: 1\nscripts:\n  allow:\n    - package: a\n      source: gitt\n      reason: reviewed\n',
    code: 'invalid-value',
    line: 5,
    column: 15,
    suggestion: /"git"/,
  },
  {
    name: 'scripts allowance with a repository for an exec: source',
    text: 'version: 1\nscripts:\n  allow:\n    - package: a\n      source: exec\n      repository: github.com/a/b\n      reason: reviewed\n',
    code: 'repository-not-applicable',
    line: 6,
    column: 19,
  },
  {
    name: 'continuity with an unknown scope',
    text: 'version: 1\ndefaults:\n  continuity: release-lines\n',
    code: 'invalid-value',
    line: 3,
    column: 15,
    suggestion: /"release-line"/,
  },
  {
    name: 'duplicate rule names',
    text: 'version: 1\nrules:\n  - name: x\n    packages: [a]\n  - name: x\n    packages: [b]\n',
    code: 'rule-name-duplicate',
    line: 5,
    column: 11,
  },
  {
    name: 'duplicate key',
    text: 'version: 1\nmode: warn\nmode: off\n',
    code: 'yaml-duplicate-key',
    line: 3,
    column: 1,
  },
  { name: 'YAML syntax error', text: 'version: 1\nrules: [\n', code: 'yaml-syntax', line: 3, column: 1 },
  {
    name: 'tab indentation',
    text: 'version: 1\nrules:\n\t- packages: [a]\n',
    code: 'yaml-syntax',
    line: 3,
    column: 1,
  },
  { name: 'two documents', text: 'version: 1\n---\nversion: 1\n', code: 'yaml-syntax', line: 2, column: 1 },
  {
    name: 'wrong type for packages',
    text: 'version: 1\nrules:\n  - packages: { a: 1 }\n',
    code: 'wrong-type',
    line: 3,
    column: 15,
    expected: /list of strings/,
  },
  {
    name: 'bad duration',
    text: 'version: 1\ndefaults:\n  minReleaseAge: 3 days\n',
    code: 'invalid-value',
    line: 3,
    column: 18,
    expected: /3d/,
  },
];

describe('loadPolicy: located validation errors', () => {
  for (const c of cases) {
    it(c.name, () => {
      const result = loadPolicy(c.text, 'policies/.tollgate.yml');
      assert.equal(result.ok, false, 'expected the policy to be refused');
      if (result.ok) return;
      const match = result.errors.find((e) => e.code === c.code);
      assert.ok(match, `no ${c.code} among ${JSON.stringify(result.errors, null, 1)}`);
      assert.equal(match.file, 'policies/.tollgate.yml');
      assert.deepEqual([match.line, match.column], [c.line, c.column], JSON.stringify(match));
      assert.equal(match.severity, 'error');
      assert.ok(match.message.length > 0);
      if (c.field) assert.equal(match.field, c.field);
      if (c.suggestion) assert.match(match.suggestion ?? '', c.suggestion);
      if (c.expected) assert.match(match.expected ?? '', c.expected);
    });
  }
});

describe('loadPolicy: valid policies', () => {
  it('loads the reference policy with locations for rules, signers and trust roots', () => {
    const result = loadPolicy(VALID, '.tollgate.yml');
    assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
    const policy = result.policy;
    assert.equal(policy.mode, 'enforce');
    assert.deepEqual(
      policy.trustRoots.map((t) => [t.name, t.file, t.builtin]),
      [
        ['public-good', undefined, true],
        ['acme', '.tollgate/acme-trusted_root.json', false],
      ],
    );
    const rule = policy.rules[0]!;
    assert.equal(rule.id, 'acme');
    assert.deepEqual([rule.location.line, rule.location.column], [9, 5]);
    assert.deepEqual(rule.registries, ['https://npm.acme.example/']);
    assert.equal(rule.requirements.require, 'signature');
    const signers = rule.requirements.signers;
    assert.ok(signers !== 'any');
    assert.deepEqual([signers[0]!.location.line, signers[0]!.location.column], [15, 9]);
    assert.equal(signers[0]!.subject?.kind, 'glob');
    assert.equal(policy.defaults.requirements.require, 'registry-signature');
  });

  it('fills built-in defaults: enforce, no evidence required, public-good, npm only, continuity on', () => {
    const result = loadPolicy('version: 1\n');
    assert.ok(result.ok);
    assert.equal(result.policy.file, '.tollgate.yml');
    assert.equal(result.policy.mode, 'enforce');
    assert.deepEqual(result.policy.defaults.requirements, {
      require: 'none',
      trust: ['public-good'],
      sources: ['npm'],
      signers: 'any',
      unsignedTimeFallback: true,
      continuity: true,
      continuityScope: 'package',
    });
  });

  it('lets rules inherit unset fields from the defaults and override the rest', () => {
    const result = loadPolicy(
      'version: 1\ndefaults:\n  require: registry-signature\n  minReleaseAge: 2d\n  sources: [npm, git]\nrules:\n  - packages: [a]\n    sources: [npm]\n',
    );
    assert.ok(result.ok);
    const rule = result.policy.rules[0]!;
    assert.equal(rule.requirements.require, 'registry-signature');
    assert.deepEqual(rule.requirements.minReleaseAge, { text: '2d', ms: 2 * 86_400_000 });
    assert.deepEqual(rule.requirements.sources, ['npm']);
    assert.deepEqual(rule.explicit, ['sources']);
  });

  it('accepts single strings for packages and registries, and numeric ids', () => {
    const result = loadPolicy(
      'version: 1\nrules:\n  - packages: a\n    registries: HTTPS://NPM.Acme.Example:443/path/\n    signers:\n      - issuer: https://x.example\n        repositoryId: 42\n        repository: https://github.com/o/r.git\n',
    );
    assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
    const rule = result.policy.rules[0]!;
    assert.deepEqual(rule.registries, ['https://npm.acme.example/path/']);
    assert.ok(rule.requirements.signers !== 'any');
    assert.equal(rule.requirements.signers[0]!.repositoryId, '42');
    assert.equal(rule.requirements.signers[0]!.repository, 'github.com/o/r');
  });

  it('reads JSON as well as YAML, and accepts a $schema key for editors', () => {
    const result = loadPolicy(
      '{"$schema": "./schema.json", "version": 1, "rules": [{"packages": ["a"]}]}',
      'tollgate.json',
    );
    assert.ok(result.ok);
  });

  it('never loads an alias bomb', () => {
    const bomb = ['version: 1', 'a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      );
    const result = loadPolicy(bomb.join('\n'));
    assert.equal(result.ok, false);
  });
});
