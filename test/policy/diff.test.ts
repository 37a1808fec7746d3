// policy diff: every relaxation between two versions of a policy (and its pins) is its own finding,
// tightenings are listed and never count as relaxations.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  diffPins,
  diffPolicies,
  type Pins,
  POLICY_CHANGE_CODES,
  POLICY_CHANGE_HELP,
  type PolicyChange,
} from '../../policy/index';
import { policyOf } from './helpers';

const BASE = `version: 1
mode: enforce
trustRoots:
  acme: { file: acme.json }
defaults:
  require: registry-signature
  minReleaseAge: 3d
  unsignedTimeFallback: false
rules:
  - name: acme-internal
    packages: ["@acme/*"]
    registries: [https://npm.acme.example]
    require: provenance
    trust: [acme]
    signers:
      - issuer: https://token.actions.githubusercontent.com
        repository: github.com/acme/ui
        workflow: .github/workflows/release.yml
  - name: legacy
    packages: [legacy-lib]
    require: none
exceptions:
  - package: old-thing
    versions: 1.2.3
    reason: vendored
    expires: 2099-01-01
    waive: [evidence-missing]
scripts:
  default: deny
  allow:
    - package: esbuild
      reason: binary
      signers:
        - issuer: https://token.actions.githubusercontent.com
          repository: github.com/evanw/esbuild
knownBad:
  maxAge: 3d
  stale: deny
`;

function diff(before: string, after: string): PolicyChange[] {
  return diffPolicies({ base: policyOf(before), head: policyOf(after) });
}

function codes(changes: PolicyChange[], relaxation = true): string[] {
  return changes.filter((c) => c.relaxation === relaxation).map((c) => c.code);
}

function edit(text: string, from: string, to: string): string {
  assert.ok(text.includes(from), `the base contains ${from}`);
  return text.replace(from, to);
}

describe('policy diff', () => {
  test('an unchanged policy has no findings', () => {
    assert.deepEqual(diff(BASE, BASE), []);
  });

  for (const [name, from, to, code, message] of [
    [
      'mode lowered',
      'mode: enforce',
      'mode: warn',
      'mode-lowered',
      /the policy lowers its mode: mode enforce → warn/,
    ],
    [
      'lower require',
      '    require: provenance',
      '    require: signature',
      'require-lowered',
      /rule acme-internal requires less evidence: require provenance → signature/,
    ],
    [
      'shorter minReleaseAge',
      'minReleaseAge: 3d',
      'minReleaseAge: 1d',
      'min-release-age-shortened',
      /the defaults shortens minReleaseAge: minReleaseAge 3d → 1d/,
    ],
    [
      'unsigned time',
      'unsignedTimeFallback: false',
      'unsignedTimeFallback: true',
      'unsigned-time-fallback-enabled',
      /unsignedTimeFallback false → true/,
    ],
    [
      'continuity off',
      'unsignedTimeFallback: false',
      'unsignedTimeFallback: false\n  continuity: false',
      'continuity-weakened',
      /continuity package → off/,
    ],
    [
      'widened signer (dropped claim)',
      '        workflow: .github/workflows/release.yml\n',
      '',
      'signer-widened',
      /accepts more signer identities/,
    ],
    [
      'signers any',
      '    signers:\n      - issuer: https://token.actions.githubusercontent.com\n        repository: github.com/acme/ui\n        workflow: .github/workflows/release.yml\n',
      '    signers: any\n',
      'signer-widened',
      /→ any/,
    ],
    [
      'trust widened',
      '    trust: [acme]',
      '    trust: [acme, public-good]',
      'trust-widened',
      /trust acme → acme, public-good/,
    ],
    [
      'registry binding removed',
      '    registries: [https://npm.acme.example]\n',
      '',
      'registry-binding-removed',
      /no longer binds its names to https:\/\/npm\.acme\.example\//,
    ],
    [
      'registry binding widened',
      '    registries: [https://npm.acme.example]',
      '    registries: [https://npm.acme.example, https://registry.example]',
      'registry-binding-widened',
      /now accepts its names from https:\/\/registry\.example\/ too/,
    ],
    [
      'rule removed',
      '  - name: legacy\n    packages: [legacy-lib]\n    require: none\n',
      '',
      'rule-removed',
      /rule legacy \(legacy-lib\) was removed \(at \.tollgate\.yml:19:5 in the base\)/,
    ],
    [
      'wider package glob',
      '    packages: [legacy-lib]',
      '    packages: [legacy-lib, "legacy-*"]',
      'package-glob-widened',
      /rule legacy now also covers legacy-\*, judged more strictly before: the defaults \(\.tollgate\.yml:6:3\): require registry-signature → none/,
    ],
    [
      'rule coverage reduced',
      '    packages: ["@acme/*"]',
      '    packages: ["@acme/ui"]',
      'rule-coverage-reduced',
      /no longer covers @acme\/\*/,
    ],
    [
      'new weaker rule',
      'exceptions:',
      '  - packages: ["@acme/tools"]\n    require: none\nexceptions:',
      'rule-added-weaker',
      /new rule rules\[2\] .* takes over names that were judged more strictly: acme-internal/,
    ],
    [
      'new exception',
      'scripts:',
      '  - package: left-pad\n    reason: why not\n    expires: 2099-01-01\nscripts:',
      'exception-added',
      /new exception left-pad@\* until 2099-01-01 waives every waivable violation: "why not"/,
    ],
    [
      'widened exception',
      '    versions: 1.2.3\n',
      '    versions: "*"\n',
      'exception-widened',
      /versions 1\.2\.3 → \*/,
    ],
    [
      'exception waives more',
      'waive: [evidence-missing]',
      'waive: [evidence-missing, signer-mismatch]',
      'exception-widened',
      /waives signer-mismatch too/,
    ],
    [
      'exception extended',
      'expires: 2099-01-01',
      'expires: 2099-06-01',
      'exception-widened',
      /expires 2099-01-01 → 2099-06-01/,
    ],
    [
      'new trust root',
      'trustRoots:\n',
      'trustRoots:\n  other: { file: other.json }\n',
      'trust-root-added',
      /new trust root other \(other\.json\)/,
    ],
    [
      'trust root file changed',
      'acme: { file: acme.json }',
      'acme: { file: elsewhere.json }',
      'trust-root-changed',
      /now comes from elsewhere\.json/,
    ],
    [
      'scripts default loosened',
      'default: deny',
      'default: allow-verified',
      'scripts-default-loosened',
      /scripts\.default deny → allow-verified/,
    ],
    [
      'allowance added',
      '  allow:\n',
      '  allow:\n    - package: sharp\n      reason: native\n      integrity: sha512-' +
        'A'.repeat(86) +
        '==\n',
      'script-allowance-added',
      /new script allowance: sharp \(tarball sha512-AAAAAAAA…\) may run its build/,
    ],
    [
      'allowance widened',
      '          repository: github.com/evanw/esbuild\n',
      '',
      'script-allowance-widened',
      /lets more builds run: signers/,
    ],
    ['known-bad weakened', 'stale: deny', 'stale: warn', 'known-bad-weakened', /stale deny → warn/],
  ] as const) {
    test(`relaxation: ${name}`, () => {
      const changes = diff(BASE, edit(BASE, from, to));
      const relaxations = changes.filter((c) => c.relaxation);
      assert.ok(
        relaxations.some((c) => c.code === code && message.test(c.message)),
        `expected ${code} ${message}, got:\n${changes.map((c) => `${c.code}: ${c.message}`).join('\n')}`,
      );
      for (const c of relaxations) assert.ok(c.location.line >= 1 && c.location.file === '.tollgate.yml');
      // ... and the reverse edit is a tightening, never a relaxation.
      const reverse = diff(edit(BASE, from, to), BASE);
      if (
        ![
          'trust-root-changed',
          'exception-widened',
          'rule-coverage-reduced',
          'package-glob-widened',
        ].includes(code)
      )
        assert.ok(
          !reverse.some((c) => c.relaxation && c.code === code),
          `the reverse of ${name} is no ${code}:\n${reverse.map((c) => `${c.code}: ${c.message}`).join('\n')}`,
        );
    });
  }

  test('tightenings are listed and are never relaxations', () => {
    const tighter = edit(
      edit(
        edit(BASE, 'require: registry-signature', 'require: signature\n  signers: any'),
        'minReleaseAge: 3d',
        'minReleaseAge: 7d',
      ),
      '    versions: 1.2.3\n    reason: vendored\n    expires: 2099-01-01\n    waive: [evidence-missing]\n',
      '    versions: 1.2.3\n    reason: vendored\n    expires: 2098-01-01\n    waive: [evidence-missing]\n',
    );
    const changes = diff(BASE, tighter);
    assert.deepEqual(codes(changes), [], changes.map((c) => c.message).join('\n'));
    assert.ok(codes(changes, false).length >= 3);
    assert.ok(changes.every((c) => c.code === 'policy-tightened'));
  });

  test('a trust root whose content changed is a relaxation', () => {
    const policy = policyOf(BASE);
    const changes = diffPolicies({
      base: policy,
      head: policy,
      baseTrustRootDigests: new Map([['acme', 'aaa']]),
      headTrustRootDigests: new Map([['acme', 'bbb']]),
    });
    assert.deepEqual(codes(changes), ['trust-root-changed']);
  });

  test('pins: removed and approved entries are relaxations, first use is not', () => {
    const signer = { since: '1.0.0', issuer: 'https://i', subject: 'a@acme.example' };
    const base: Pins = {
      version: 1,
      packages: {
        '@acme/ui': { '1': { signers: [signer], evidence: [{ since: '1.0.0', level: 'signature' }] } },
        other: { '2': { signers: [signer], evidence: [{ since: '2.0.0', level: 'provenance' }] } },
      },
    };
    const head: Pins = {
      version: 1,
      packages: {
        '@acme/ui': {
          '1': {
            signers: [
              signer,
              {
                since: '1.4.0',
                issuer: 'https://i',
                subject: 'b@acme.example',
                approved: { reason: 'new bot', at: 'x' },
              },
            ],
            evidence: [{ since: '1.0.0', level: 'signature' }],
          },
        },
        fresh: { '1': { signers: [signer], evidence: [{ since: '1.0.0', level: 'signature' }] } },
      },
    };
    const changes = diffPins(base, head, (name) => ({
      file: '.tollgate.pins.json',
      line: name.length,
      column: 1,
    }));
    assert.deepEqual(changes.map((c) => c.code).sort(), ['pin-approved', 'pin-removed']);
    assert.match(
      changes.find((c) => c.code === 'pin-approved')!.message,
      /change of signer to b@acme\.example was approved \("new bot"\)/,
    );
  });

  test('every code has help for its SARIF rule', () => {
    for (const code of POLICY_CHANGE_CODES) {
      assert.ok(POLICY_CHANGE_HELP[code].summary.length > 10, code);
      assert.ok(POLICY_CHANGE_HELP[code].fix.length > 5, code);
    }
  });
});
