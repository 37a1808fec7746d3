// Policy review of the project's known-bad list (knownbad/list-diff.ts): the list only denies, so each
// release, bundle or compromised-signer window it stops covering is a relaxation, found by what it
// covers (ids default to positions, so reordering is no change).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffKnownBadLists, type KnownBadList, loadKnownBadList } from '../../knownbad/index';

const FILE = '.tollgate.known-bad.yml';
const ACME = 'https://npm.acme.example/';

function list(text: string): KnownBadList {
  const loaded = loadKnownBadList(`version: 1\n${text}`, FILE);
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
  return loaded.list;
}

const RELEASE = `  - package: acme-utils
    registry: ${ACME}
    versions: [1.4.0, 1.4.1]
`;
const BUNDLE = `  - digest: sha256:${'cd'.repeat(32)}
`;
const SIGNER = `  - issuer: https://oidc.acme.example
    subject: release-bot@acme.example
    from: 2026-05-01T00:00:00Z
    until: 2026-05-03T00:00:00Z
`;
const BASE = list(`releases:\n${RELEASE}bundles:\n${BUNDLE}signers:\n${SIGNER}`);

const relaxations = (head: KnownBadList | null) =>
  diffKnownBadLists(BASE, head, FILE)
    .filter((c) => c.relaxation)
    .map((c) => c.message);

describe('policy review: the project known-bad list', () => {
  it('the same list, reordered or with entries added, relaxes nothing', () => {
    assert.deepEqual(relaxations(list(`signers:\n${SIGNER}bundles:\n${BUNDLE}releases:\n${RELEASE}`)), []);
    const more = diffKnownBadLists(
      BASE,
      list(
        `releases:\n${RELEASE}  - package: left-pad\n    versions: 9.9.9\nbundles:\n${BUNDLE}signers:\n${SIGNER}`,
      ),
      FILE,
    );
    assert.deepEqual(
      more.map((c) => [c.code, c.relaxation]),
      [['policy-tightened', false]],
    );
  });

  it('a version no longer denied is a relaxation naming the package, registry and version, and where it was', () => {
    const head = list(
      `releases:\n${RELEASE.replace('[1.4.0, 1.4.1]', '[1.4.1]')}bundles:\n${BUNDLE}signers:\n${SIGNER}`,
    );
    const changes = diffKnownBadLists(BASE, head, FILE);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.code, 'known-bad-weakened');
    assert.match(
      changes[0]!.message,
      /acme-utils from https:\/\/npm\.acme\.example\/ is no longer denied for version 1\.4\.0/,
    );
    assert.deepEqual(changes[0]!.baseLocation, { file: FILE, line: 3, column: 5 });
  });

  it('a bundle removed, a signer removed or its window shortened are relaxations; a longer window is not', () => {
    assert.deepEqual(relaxations(list(`releases:\n${RELEASE}signers:\n${SIGNER}`)), [
      `bundle ${'cd'.repeat(32)} is no longer denied`,
    ]);
    const [removed] = relaxations(list(`releases:\n${RELEASE}bundles:\n${BUNDLE}`));
    assert.match(removed!, /release-bot@acme\.example.* is no longer listed as compromised/);
    const [shortened] = relaxations(
      list(`releases:\n${RELEASE}bundles:\n${BUNDLE}signers:\n${SIGNER.replace('2026-05-03', '2026-05-02')}`),
    );
    assert.match(shortened!, /was shortened: signatures in the part removed are believed again/);
    assert.deepEqual(
      relaxations(
        list(
          `releases:\n${RELEASE}bundles:\n${BUNDLE}signers:\n${SIGNER.replace('2026-05-01', '2026-04-01')}`,
        ),
      ),
      [],
    );
  });

  it('the whole file removed is one relaxation', () => {
    assert.deepEqual(relaxations(null), [`${FILE} was removed: none of its denials apply any more`]);
  });
});
