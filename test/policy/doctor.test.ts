// `yarn tollgate doctor`, the checks that need only the policy, pins, installed names, trust-root
// documents and TUF metadata (policy/doctor.ts): each fires on what it names, with its severity, and
// stays silent on a healthy input.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkExceptions,
  checkStalePins,
  checkTrustedRootExpiry,
  checkTufMetadata,
  DOCTOR_CHECKS,
} from '../../policy/doctor';
import { embeddedPublicGoodTrustedRoot } from '../../policy/evidence';
import type { Pins } from '../../policy/index';
import { NOW, policyOf } from './helpers';

const day = (offset: number) => new Date(NOW.getTime() + offset * 86_400_000).toISOString().slice(0, 10);

function policyWithExceptions(expires: string[]) {
  return policyOf(`version: 1
defaults:
  require: none
exceptions:
${expires.map((e, i) => `  - package: pkg-${i}\n    versions: "*"\n    reason: reason ${i}\n    expires: ${e}`).join('\n')}
`);
}

describe('doctor: exceptions', () => {
  test('an expired exception is an error, one ending within 14 days a warning, a later one nothing', () => {
    const policy = policyWithExceptions([day(-3), day(5), day(13), day(30)]);
    const found = checkExceptions(policy, NOW);
    assert.deepEqual(
      found.map((f) => [f.subject, f.severity]),
      [
        ['exceptions[0]', 'error'],
        ['exceptions[1]', 'warning'],
        ['exceptions[2]', 'warning'],
      ],
    );
    assert.match(found[0]!.message, new RegExp(`pkg-0@\\* \\(reason 0\\) expired on ${day(-3)}`));
    assert.match(found[1]!.message, /expires on .*, in 6 day\(s\)/);
    assert.match(found[0]!.where, /^\.tollgate\.yml:\d+:\d+$/);
    assert.match(found[0]!.fix, /delete exceptions\[0\]/);
  });

  test('an exception ending on the last day covered (today, UTC) is still live', () => {
    // expires is the last day the exception applies: it ends at the following midnight.
    const found = checkExceptions(policyWithExceptions([day(0)]), NOW);
    assert.equal(found.length, 1);
    assert.equal(found[0]!.severity, 'warning');
  });
});

describe('doctor: pins', () => {
  const identity = { issuer: 'https://issuer.example', subject: 'a@example' };
  const pins: Pins = {
    version: 1,
    packages: {
      'left-pad': { '1': { signers: [{ ...identity, since: '1.0.0' }], evidence: [] } },
      '@acme/gone': { '2': { signers: [{ ...identity, since: '2.0.0' }], evidence: [] } },
    },
  };
  test('a pin of a package yarn.lock no longer installs is a warning naming it', () => {
    const found = checkStalePins(pins, new Set(['left-pad', 'is-even']), '.tollgate.pins.json');
    assert.deepEqual(
      found.map((f) => [f.check, f.severity, f.subject]),
      [['stale-pin', 'warning', '@acme/gone']],
    );
    assert.match(found[0]!.fix, /remove "@acme\/gone" from \.tollgate\.pins\.json/);
  });
  test('every pinned package installed: nothing', () => {
    assert.deepEqual(checkStalePins(pins, new Set(['left-pad', '@acme/gone']), 'p.json'), []);
  });
});

function root(cas: Array<{ end?: string }>, tlogs: Array<{ end?: string }>): string {
  const validity = (v: { end?: string }) => ({ start: '2020-01-01T00:00:00Z', ...v });
  return JSON.stringify({
    certificateAuthorities: cas.map((v, i) => ({ uri: `https://ca${i}.example`, validFor: validity(v) })),
    tlogs: tlogs.map((v, i) => ({
      baseUrl: `https://log${i}.example`,
      publicKey: { validFor: validity(v) },
    })),
  });
}

describe('doctor: trust-root validity', () => {
  test('every CA expired: an error; log keys ending within 30 days: a warning', () => {
    const found = checkTrustedRootExpiry(
      'acme',
      'acme.json',
      root(
        [{ end: '2025-01-01T00:00:00Z' }, { end: '2025-05-01T00:00:00Z' }],
        [{ end: `${day(20)}T00:00:00Z` }],
      ),
      NOW,
    );
    assert.deepEqual(
      found.map((f) => [f.check, f.severity]),
      [
        ['trust-root-expiry', 'error'],
        ['trust-root-expiry', 'warning'],
      ],
    );
    assert.match(found[0]!.message, /certificate authorities stopped being valid on 2025-05-01/);
    assert.match(found[1]!.message, /transparency-log keys stop being valid on .*, in 20 day\(s\)/);
    assert.match(found[0]!.fix, /trust update acme/);
  });

  test('one open-ended (or far) key per kind keeps the root fresh, whatever the retired keys say', () => {
    const cas = [{ end: '2022-01-01T00:00:00Z' }, {}];
    assert.deepEqual(
      checkTrustedRootExpiry('a', 'a.json', root(cas, [{ end: `${day(90)}T00:00:00Z` }]), NOW),
      [],
    );
  });

  test('the public-good root embedded in @sigstore/tuf is not stale today', () => {
    assert.deepEqual(
      checkTrustedRootExpiry('public-good', 'embedded', embeddedPublicGoodTrustedRoot(), new Date()),
      [],
    );
  });
});

describe('doctor: TUF metadata', () => {
  const meta = (expires: string) => JSON.stringify({ signed: { _type: 'x', expires } });
  const snapshot = (timestamp: string) => ({
    name: 'acme',
    metadataUrl: 'https://tuf.acme.example',
    verifiedAt: new Date('2025-05-01T00:00:00Z'),
    metadata: {
      root: meta('2026-01-01T00:00:00Z'),
      timestamp: meta(timestamp),
      targets: meta('2026-01-01T00:00:00Z'),
    },
  });
  test('an expired timestamp is an error naming the role and the refresh command', () => {
    const found = checkTufMetadata(snapshot('2025-05-02T00:00:00Z'), NOW);
    assert.equal(found.length, 1);
    assert.equal(found[0]!.severity, 'error');
    assert.match(found[0]!.message, /last verified 2025-05-01 has expired \(timestamp expired 2025-05-02/);
    assert.match(found[0]!.fix, /yarn tollgate trust update acme/);
  });
  test('a root installs refresh themselves (a policy root, online) is a warning saying so', () => {
    const [finding] = checkTufMetadata(snapshot('2025-05-02T00:00:00Z'), NOW, true);
    assert.equal(finding?.severity, 'warning');
    assert.match(finding!.message, /installs refresh it when they reach https:\/\/tuf\.acme\.example/);
    assert.match(
      checkTufMetadata(snapshot('2025-05-02T00:00:00Z'), NOW)[0]!.message,
      /installs never refresh it/,
    );
  });
  test('unexpired metadata: nothing', () => {
    assert.deepEqual(checkTufMetadata(snapshot('2025-06-02T00:00:00Z'), NOW), []);
  });
});

test('doctor: every check has a distinct name', () => {
  assert.equal(new Set(DOCTOR_CHECKS).size, DOCTOR_CHECKS.length);
});
