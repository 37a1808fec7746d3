// Lint findings: valid policies that are probably wrong or unsafe.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPolicy, loadPolicyTree } from '../../policy/index';

const NOW = new Date('2025-06-01T00:00:00Z');

interface Row {
  name: string;
  text: string;
  code: string;
  severity: 'error' | 'warning';
  line: number;
}

const signer = (extra: string) =>
  `version: 1\nrules:\n  - packages: [a]\n    signers:\n      - issuer: https://issuer.example\n${extra}`;

const rows: Row[] = [
  {
    name: 'an exact subject that looks like a glob',
    text: signer('        subject: "*@acme.example"\n'),
    code: 'exact-looks-like-glob',
    severity: 'warning',
    line: 6,
  },
  {
    name: 'a signer constrained only by its issuer',
    text: signer('        workflow: .github/workflows/release.yml\n'),
    code: 'signer-unconstrained',
    severity: 'warning',
    line: 5,
  },
  {
    name: 'a wildcard subject constrains nothing',
    text: signer('        subject: { glob: "**" }\n'),
    code: 'signer-unconstrained',
    severity: 'warning',
    line: 5,
  },
  {
    name: 'a regex that can backtrack catastrophically',
    text: signer('        subject: { regex: "^(a+)+@acme\\\\.example$" }\n'),
    code: 'regex-backtracking',
    severity: 'warning',
    line: 6,
  },
  {
    name: 'tag coupling contradicting an exact branch ref',
    text: signer(`        subject: a@b.example\n        ref: refs/heads/main\n        tag: v\${version}\n`),
    code: 'tag-contradicts-ref',
    severity: 'warning',
    line: 8,
  },
  {
    name: 'an issuer with a trailing slash',
    text: 'version: 1\nrules:\n  - packages: [a]\n    signers:\n      - issuer: https://issuer.example/\n        subject: a@b.example\n',
    code: 'issuer-trailing-slash',
    severity: 'warning',
    line: 5,
  },
  {
    name: 'a rule that repeats an earlier one',
    text: 'version: 1\nrules:\n  - packages: [a, b]\n  - packages: [b, a]\n    require: registry-signature\n',
    code: 'rule-shadowed',
    severity: 'warning',
    line: 4,
  },
  {
    name: 'overlapping version ranges on the same packages',
    text: 'version: 1\nrules:\n  - packages: [a]\n    versions: "<3"\n  - packages: [a]\n    versions: ">=2"\n',
    code: 'rule-overlap',
    severity: 'warning',
    line: 5,
  },
  {
    name: 'registries on a versioned rule',
    text: 'version: 1\nrules:\n  - packages: [a]\n    versions: ">=2"\n    registries: [https://npm.acme.example]\n',
    code: 'registry-binding-ignores-versions',
    severity: 'warning',
    line: 4,
  },
  {
    name: 'one name bound to different registries',
    text: 'version: 1\nrules:\n  - packages: [a]\n    registries: [https://one.example]\n  - packages: [a, b]\n    registries: [https://two.example]\n',
    code: 'registry-binding-conflict',
    severity: 'warning',
    line: 6,
  },
  {
    name: 'a plain-http registry',
    text: 'version: 1\nrules:\n  - packages: [a]\n    registries: [http://npm.acme.example]\n',
    code: 'registry-insecure',
    severity: 'warning',
    line: 4,
  },
  {
    name: 'a trust root nobody uses',
    text: 'version: 1\ntrustRoots:\n  acme: { file: acme.json }\n',
    code: 'trust-root-unused',
    severity: 'warning',
    line: 3,
  },
  {
    name: 'a package pattern no npm name can match',
    text: 'version: 1\nrules:\n  - packages: ["@Acme/Foo"]\n',
    code: 'package-pattern-suspicious',
    severity: 'warning',
    line: 3,
  },
  {
    name: 'non-npm sources under an evidence requirement',
    text: 'version: 1\nrules:\n  - packages: [a]\n    require: registry-signature\n    sources: [npm, git]\n',
    code: 'sources-without-evidence',
    severity: 'warning',
    line: 5,
  },
  {
    name: 'an expired exception',
    text: 'version: 1\nexceptions:\n  - package: a\n    reason: r\n    expires: 2025-05-31\n',
    code: 'exception-expired',
    severity: 'error',
    line: 5,
  },
  {
    name: 'an exception meant to last for years',
    text: 'version: 1\nexceptions:\n  - package: a\n    reason: r\n    expires: 2030-01-01\n',
    code: 'exception-long-lived',
    severity: 'warning',
    line: 5,
  },
  {
    name: 'two exceptions for the same package',
    text: 'version: 1\nexceptions:\n  - package: a\n    reason: r\n    expires: 2025-07-01\n  - package: a\n    versions: "1.x"\n    reason: r\n    expires: 2025-07-01\n',
    code: 'exception-overlap',
    severity: 'warning',
    line: 6,
  },
  {
    name: 'an exception waiving what no rule can raise',
    text: 'version: 1\nexceptions:\n  - package: a\n    reason: r\n    expires: 2025-07-01\n    waive: [release-too-new, evidence-missing]\n',
    code: 'exception-no-effect',
    severity: 'warning',
    line: 6,
  },
];

describe('lint', () => {
  for (const row of rows) {
    it(row.name, () => {
      const result = loadPolicy(row.text, '.tollgate.yml', { now: NOW });
      const all = [...(result.ok ? [] : result.errors), ...result.warnings];
      const finding = all.find((d) => d.code === row.code);
      assert.ok(finding, `no ${row.code} in ${JSON.stringify(all, null, 1)}`);
      assert.equal(finding.severity, row.severity);
      assert.equal(finding.line, row.line);
      assert.equal(result.ok, row.severity !== 'error');
    });
  }

  it('reports nothing for a careful policy', () => {
    const result = loadPolicy(
      `version: 1\ntrustRoots:\n  acme: { file: acme.json }\nrules:\n  - packages: ["@acme/*"]\n    registries: [https://npm.acme.example]\n    require: signature\n    trust: [acme]\n    signers:\n      - issuer: https://oidc.acme.example\n        subject: { glob: "*@acme.example" }\n  - packages: [sigstore]\n    require: provenance\n    signers:\n      - issuer: https://token.actions.githubusercontent.com\n        repository: github.com/sigstore/sigstore-js\n        repositoryId: 495574555\n        tag: v\${version}\nexceptions:\n  - package: legacy\n    versions: 1.2.3\n    reason: r\n    expires: 2025-07-01\n`,
      '.tollgate.yml',
      { now: NOW },
    );
    assert.ok(result.ok);
    assert.deepEqual(result.warnings, []);
  });

  it('counts a trust root that only verifies a signed base as used', () => {
    const url = 'https://policies.acme.example/base.yml';
    const result = loadPolicyTree(
      'version: 1\ntrustRoots:\n  policy-signing: { file: root.json }\nextends:\n  - url: https://policies.acme.example/base.yml\n    signers:\n      - issuer: https://oidc.acme.example\n        subject: policy-bot@acme.example\n    trust: [policy-signing]\n',
      '.tollgate.yml',
      () => ({ text: 'version: 1\n', file: url, origin: 'signed', key: url }),
    );
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(
      result.warnings.filter((w) => w.code === 'trust-root-unused'),
      [],
    );
  });

  it('stays quiet about plain http to this machine (loopback registries)', () => {
    for (const url of ['http://127.0.0.1:4873', 'http://localhost:4873', 'http://[::1]:4873']) {
      const result = loadPolicy(`version: 1\nrules:\n  - packages: [a]\n    registries: ["${url}"]\n`);
      assert.ok(result.ok);
      assert.deepEqual(
        result.warnings.filter((w) => w.code === 'registry-insecure'),
        [],
        url,
      );
    }
  });

  it('skips date checks without a clock', () => {
    const result = loadPolicy(
      'version: 1\nexceptions:\n  - package: a\n    reason: r\n    expires: 2000-01-01\n',
    );
    assert.ok(result.ok);
  });
});
