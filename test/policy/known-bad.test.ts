// The policy side of the known-bad database: the `known-bad` and `known-bad-unchecked` violations, the
// digest-only waiver, warn mode, the snippet, and the `knownBad` section.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KnownBadMatch } from '../../policy/decision';
import { evaluate, loadPolicy, type PackageFacts } from '../../policy/index';
import { codes, NOW, policyOf } from './helpers';

const INTEGRITY = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;
const OTHER = `sha512-${Buffer.alloc(64, 8).toString('base64')}`;
const MATCH: KnownBadMatch = {
  id: 'MAL-2025-47141',
  summary: 'Malicious code in @ctrl/tinycolor (npm)',
  link: 'https://github.com/advisories/GHSA-qjqf-7j6f-82c4',
  by: 'version',
  detail: 'version 4.1.1 in SEMVER introduced 0',
  source: 'osv (test)',
};

const facts = (extra: Partial<PackageFacts> = {}): PackageFacts => ({
  name: '@ctrl/tinycolor',
  version: '4.1.1',
  source: 'npm',
  registry: 'https://registry.example.org/',
  integrity: INTEGRITY,
  knownBad: [MATCH],
  ...extra,
});

const exceptionPolicy = (waive: string, integrity?: string) => `version: 1
exceptions:
  - package: "@ctrl/tinycolor"
    versions: 4.1.1
    reason: the record names another build
    expires: 2025-12-31
    waive: [${waive}]
${integrity ? `    integrity: ${integrity}\n` : ''}`;

describe('known-bad in evaluation', () => {
  it('a match is a known-bad violation naming the record id, summary and link', () => {
    const d = evaluate({ policy: policyOf('version: 1\n'), package: facts(), now: NOW });
    assert.equal(d.verdict, 'deny');
    assert.deepEqual(codes(d), ['known-bad']);
    const reason = d.reasons.find((r) => r.code === 'known-bad')!;
    assert.match(
      reason.message,
      /^MAL-2025-47141: Malicious code in @ctrl\/tinycolor \(npm\) \(https:\/\/github/,
    );
    assert.equal(reason.actual, 'version 4.1.1 in SEMVER introduced 0');
    assert.equal(reason.evidence, 'osv (test)');
  });

  it('denies in warn mode too, and is allowed only when the mode is off', () => {
    assert.equal(
      evaluate({ policy: policyOf('version: 1\nmode: warn\n'), package: facts(), now: NOW }).verdict,
      'deny',
    );
    assert.equal(
      evaluate({ policy: policyOf('version: 1\n'), package: facts(), now: NOW, modeOverride: 'off' }).verdict,
      'allow',
    );
  });

  it('an exception waives it only when it lists known-bad and names this exact tarball', () => {
    const waived = evaluate({
      policy: policyOf(exceptionPolicy('known-bad', INTEGRITY)),
      package: facts(),
      now: NOW,
    });
    assert.equal(waived.verdict, 'allow');
    assert.deepEqual(waived.exception?.waived, ['known-bad']);
    const otherBytes = evaluate({
      policy: policyOf(exceptionPolicy('known-bad', OTHER)),
      package: facts(),
      now: NOW,
    });
    assert.equal(otherBytes.verdict, 'deny', 'an exception for other bytes does not apply');
    assert.equal(otherBytes.exception, undefined);
    const defaults = evaluate({
      policy: policyOf(`version: 1
exceptions:
  - package: "@ctrl/tinycolor"
    reason: everything
    expires: 2025-12-31
`),
      package: facts(),
      now: NOW,
    });
    assert.equal(defaults.verdict, 'deny', 'the default waive set does not include known-bad');
  });

  it('an exception that waives known-bad without an integrity is a policy error', () => {
    const loaded = loadPolicy(exceptionPolicy('known-bad'), '.tollgate.yml');
    assert.equal(loaded.ok, false);
    if (loaded.ok) return;
    const error = loaded.errors.find((e) => e.code === 'known-bad-waiver-needs-integrity');
    assert.ok(error, JSON.stringify(loaded.errors));
    assert.equal(error.field, 'exceptions[0].waive');
    assert.equal(error.line, 7);
  });

  it('the snippet of a known-bad denial names the tarball', () => {
    const d = evaluate({ policy: policyOf('version: 1\n'), package: facts(), now: NOW });
    assert.match(d.exceptionSnippet!, /integrity: sha512-/);
    assert.match(d.exceptionSnippet!, /- known-bad/);
    assert.match(d.exceptionSnippet!, /false positive/);
    const loaded = loadPolicy(`version: 1\n${d.exceptionSnippet!.replaceAll('TODO', 'x')}\n`);
    assert.equal(loaded.ok, true, 'the snippet loads as a policy');
  });

  it('a known-bad source that could not be consulted is known-bad-unchecked, never waivable', () => {
    const gap = { code: 'DATABASE_STALE', message: 'the database is 9d old (maxAge 7d)', source: 'db' };
    const d = evaluate({
      policy: policyOf(`version: 1
exceptions:
  - package: "@ctrl/tinycolor"
    reason: everything
    expires: 2025-12-31
`),
      package: facts({ knownBad: [], knownBadUnchecked: [gap] }),
      now: NOW,
    });
    assert.equal(d.verdict, 'deny');
    assert.deepEqual(codes(d), ['known-bad-unchecked']);
    assert.equal(d.exceptionSnippet, undefined);
    const warned = evaluate({
      policy: policyOf('version: 1\nmode: warn\n'),
      package: facts({ knownBad: [], knownBadUnchecked: [gap] }),
      now: NOW,
    });
    assert.equal(warned.verdict, 'warn', 'in warn mode an unchecked database warns');
    const listed = loadPolicy(exceptionPolicy('known-bad-unchecked'));
    assert.equal(listed.ok, false);
  });

  it('a patch is judged on its base: matches on either level count once', () => {
    const base = facts();
    const d = evaluate({
      policy: policyOf('version: 1\n'),
      package: { name: '@ctrl/tinycolor', version: '4.1.1', source: 'patch', base, knownBad: [MATCH] },
      now: NOW,
    });
    assert.deepEqual(codes(d), ['known-bad']);
  });
});

describe('the knownBad section', () => {
  it('compiles maxAge, stale, public registries, signed sources and a verdict service', () => {
    const policy = policyOf(`version: 1
trustRoots:
  acme: { file: acme.json }
knownBad:
  maxAge: 7d
  stale: deny
  publicRegistries: [HTTPS://Mirror.Acme.Example:443]
  sources:
    - name: acme-list
      url: https://lists.acme.example/known-bad.zip
      trust: [acme]
      signers:
        - issuer: https://oidc.acme.example
          subject: security@acme.example
  verdictService: { url: https://tollgate.acme.example, publicKey: verdict.pem }
`);
    const kb = policy.knownBad!;
    assert.deepEqual(kb.maxAge, { text: '7d', ms: 7 * 86_400_000 });
    assert.equal(kb.stale, 'deny');
    assert.deepEqual(kb.publicRegistries, ['https://mirror.acme.example/']);
    assert.equal(kb.sources[0]!.name, 'acme-list');
    assert.deepEqual(kb.sources[0]!.trust, ['acme']);
    assert.equal(kb.sources[0]!.signers[0]!.subject!.test('security@acme.example'), true);
    assert.equal(kb.verdictService!.url, 'https://tollgate.acme.example/');
    assert.equal(kb.verdictService!.publicKey, 'verdict.pem');
    assert.equal(policyOf('version: 1\n').knownBad, undefined);
  });

  it('refuses unknown keys, unknown trust roots and a bad staleness value, located', () => {
    const cases: Array<[string, string, string]> = [
      ['knownBad: { maxAge: 7d, stael: deny }', 'unknown-key', 'knownBad.stael'],
      ['knownBad: { stale: block }', 'invalid-value', 'knownBad.stale'],
      ['knownBad: { maxAge: 7 }', 'wrong-type', 'knownBad.maxAge'],
      [
        'knownBad: { sources: [{ name: a, trust: [acme], signers: [{ issuer: https://i.example }] }] }',
        'trust-root-unknown',
        'knownBad.sources[0].trust[0]',
      ],
      ['knownBad: { sources: [{ name: a }] }', 'missing-key', 'knownBad.sources[0].signers'],
      [
        'knownBad: { verdictService: { url: "https://u:p@x.example", publicKey: k.pem } }',
        'registry-url-invalid',
        'knownBad.verdictService.url',
      ],
    ];
    for (const [yaml, code, field] of cases) {
      const loaded = loadPolicy(`version: 1\n${yaml}\n`);
      assert.equal(loaded.ok, false, yaml);
      if (loaded.ok) continue;
      const error = loaded.errors.find((e) => e.code === code);
      assert.ok(error, `${yaml}: ${JSON.stringify(loaded.errors)}`);
      assert.equal(error.field, field, yaml);
      assert.equal(error.line, 2, yaml);
    }
  });
});
