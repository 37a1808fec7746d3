import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrustConfigError } from '../../policy/evidence/error';
import { loadTrustRoots } from '../../policy/evidence/trust/context';
import { embeddedPublicGoodTrustedRoot } from '../../policy/evidence/trust/seeds';

const publicGood = () => JSON.parse(embeddedPublicGoodTrustedRoot());

test('public-good loads offline from the @sigstore/tuf seed, with npm keys, and requires SCTs', () => {
  const ctx = loadTrustRoots([{ name: 'public-good' }]);
  assert.equal(ctx.roots[0]!.name, 'public-good');
  assert.equal(ctx.roots[0]!.thresholds.ctlogThreshold, 1);
  assert.equal(ctx.roots[0]!.thresholds.tlogThreshold, 1);
  assert.ok(ctx.npmKeys.some((k) => k.usage === 'npm:attestations'));
  assert.ok(ctx.npmKeys.some((k) => k.usage === 'npm:signatures'));
  assert.match(ctx.digest, /^[0-9a-f]{64}$/);
});

test('a trusted root without CT logs needs no SCT (ctlogThreshold 0); one with CT logs needs one', () => {
  const noCt = { ...publicGood(), ctlogs: [] };
  const ctx = loadTrustRoots([{ name: 'local', trustedRootJson: noCt }, { name: 'public-good' }]);
  assert.equal(ctx.roots[0]!.thresholds.ctlogThreshold, 0);
  assert.equal(ctx.roots[1]!.thresholds.ctlogThreshold, 1);
});

test('a tlog key without validFor.start is rejected when the root is loaded', () => {
  const root = publicGood();
  delete root.tlogs[0].publicKey.validFor.start;
  assert.throws(
    () => loadTrustRoots([{ name: 'broken', trustedRootJson: root }]),
    (err: unknown) =>
      err instanceof TrustConfigError &&
      err.code === 'TRUST_ROOT_INVALID' &&
      /validFor\.start/.test(err.message),
  );
});

test('bad trust configuration names the root and the problem', () => {
  assert.throws(
    () => loadTrustRoots([{ name: 'x', trustedRootJson: '{not json' }]),
    /trust root "x": not valid JSON/,
  );
  assert.throws(() => loadTrustRoots([{ name: 'y' }]), /trust root "y": give its trustedRootJson/);
  assert.throws(() => loadTrustRoots([{ name: 'public-good' }, { name: 'public-good' }]), /unique/);
  assert.throws(() => loadTrustRoots([]), /no trust roots/);
  assert.throws(
    () => loadTrustRoots([{ name: 'public-good' }], { npmKeys: [{ keys: [{ keyid: 'k', key: 'AAAA' }] }] }),
    /npmKeys\[0\] keys\[0\]: not a DER/,
  );
});

test('the trust digest changes with any root or key, and only then', () => {
  const a = loadTrustRoots([{ name: 'public-good' }]).digest;
  assert.equal(loadTrustRoots([{ name: 'public-good' }]).digest, a);
  const withLocal = loadTrustRoots([
    { name: 'public-good' },
    { name: 'local', trustedRootJson: { ...publicGood(), ctlogs: [] } },
  ]);
  assert.notEqual(withLocal.digest, a);
  assert.notEqual(loadTrustRoots([{ name: 'public-good' }], { embeddedNpmKeys: false }).digest, a);
});
