// Trust-root declarations: a trusted_root.json file, or a TUF repository with its committed root.json.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPolicy } from '../../policy/index';
import { policyOf } from './helpers';

test('a trust root may be a TUF repository with its committed root.json', () => {
  const policy = policyOf(
    'version: 1\ntrustRoots:\n  acme: { tuf: "https://sigstore.acme.example/tuf", root: .tollgate/acme-root.json }\n  files: { file: x.json }\nrules:\n  - packages: ["@acme/*"]\n    trust: [acme, files]\n',
  );
  const acme = policy.trustRoots.find((r) => r.name === 'acme')!;
  assert.deepEqual(
    [acme.tuf, acme.root, acme.file],
    ['https://sigstore.acme.example/tuf', '.tollgate/acme-root.json', undefined],
  );
  assert.equal(policy.trustRoots.find((r) => r.name === 'files')!.file, 'x.json');
});

for (const [label, declaration, code, field] of [
  [
    'both file and tuf',
    '{ file: x.json, tuf: "https://a.example/tuf", root: r.json }',
    'invalid-value',
    'trustRoots.acme',
  ],
  ['neither', '{ description: nothing }', 'missing-key', 'trustRoots.acme'],
  ['tuf without root', '{ tuf: "https://a.example/tuf" }', 'missing-key', 'trustRoots.acme'],
  ['root without tuf', '{ root: r.json }', 'missing-key', 'trustRoots.acme'],
  [
    'a tuf URL that is not http(s)',
    '{ tuf: "file:///etc/tuf", root: r.json }',
    'invalid-value',
    'trustRoots.acme.tuf',
  ],
  [
    'an unknown key',
    '{ tuf: "https://a.example/tuf", root: r.json, mirror: x }',
    'unknown-key',
    'trustRoots.acme.mirror',
  ],
] as const) {
  test(`a trust root with ${label} is refused, located`, () => {
    const result = loadPolicy(`version: 1\ntrustRoots:\n  acme: ${declaration}\n`, '.tollgate.yml');
    assert.equal(result.ok, false);
    const error = result.errors.find((e) => e.code === code);
    assert.ok(error, `expected ${code}, got ${JSON.stringify(result.errors)}`);
    assert.equal(error!.field, field);
    assert.equal(error!.line, 3);
  });
}
