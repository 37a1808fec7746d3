// What policy diff reads from .yarnrc.yml (plugin/sources/review/yarnrc.ts): every setting that weakens
// what Tollgate can protect is a relaxation with its own code, and tightenings never are.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { diffYarnrc, readYarnrc, sha512Hex } from '../../plugin/sources/review/yarnrc';

const BUNDLE = Buffer.from('// the Tollgate bundle\n');
const BASE = {
  nodeLinker: 'node-modules',
  plugins: [{ path: '.yarn/plugins/@yarnpkg/plugin-tollgate.cjs', checksum: sha512Hex(BUNDLE) }],
  tollgatePolicyPath: '.tollgate.yml',
};

function changes(head: Record<string, unknown>, base: Record<string, unknown> = BASE) {
  const found = diffYarnrc(readYarnrc(stringify(base)), readYarnrc(stringify(head))!, 'enforce', {
    base: BUNDLE,
    head: BUNDLE,
  });
  return found.map((c) => ({
    code: c.code,
    relaxation: c.relaxation,
    subject: c.subject,
    line: c.location.line,
  }));
}

describe('policy diff: .yarnrc.yml', () => {
  test('an unchanged file has no findings', () => {
    assert.deepEqual(changes(BASE), []);
  });

  test('another plugin added, or its checksum changed, is code in every Yarn command', () => {
    const added = changes({
      ...BASE,
      plugins: [...BASE.plugins, { path: '.yarn/plugins/helper.cjs', checksum: 'aa' }],
    });
    assert.deepEqual(added, [
      {
        code: 'yarnrc-plugin-added',
        relaxation: true,
        subject: 'plugins: .yarn/plugins/helper.cjs',
        line: 5,
      },
    ]);
    const withHelper = {
      ...BASE,
      plugins: [...BASE.plugins, { path: '.yarn/plugins/helper.cjs', checksum: 'aa' }],
    };
    const changed = changes(
      { ...withHelper, plugins: [BASE.plugins[0], { path: '.yarn/plugins/helper.cjs', checksum: 'bb' }] },
      withHelper,
    );
    assert.equal(changed.length, 1);
    assert.equal(changed[0]!.code, 'yarnrc-plugin-added');
    assert.deepEqual(changes(withHelper, withHelper), []);
  });

  test('a registry moved, for everything or for one scope, is a relaxation naming the setting', () => {
    const found = changes({
      ...BASE,
      npmRegistryServer: 'https://mirror.example.test',
      npmScopes: { acme: { npmRegistryServer: 'https://public.example.test' } },
    });
    assert.deepEqual(
      found.map((c) => [c.code, c.subject]),
      [
        ['yarnrc-registry-changed', 'npmRegistryServer'],
        ['yarnrc-registry-changed', 'npmScopes.acme.npmRegistryServer'],
      ],
    );
  });

  test('TLS turned off, a new CA file, a proxy or a plain-http host weaken the connection to the registry', () => {
    const found = changes({
      ...BASE,
      enableStrictSsl: false,
      caFilePath: './ca.pem',
      httpsProxy: 'http://127.0.0.1:3128',
      unsafeHttpWhitelist: ['registry.example.test'],
    });
    assert.deepEqual(
      found.map((c) => [c.code, c.subject, c.relaxation]),
      [
        ['yarnrc-tls-weakened', 'enableStrictSsl', true],
        ['yarnrc-tls-weakened', 'caFilePath', true],
        ['yarnrc-tls-weakened', 'httpsProxy', true],
        ['yarnrc-tls-weakened', 'unsafeHttpWhitelist', true],
      ],
    );
    // Turning TLS back on, or removing a proxy, is not a relaxation.
    const weakened = { ...BASE, enableStrictSsl: false, httpsProxy: 'http://127.0.0.1:3128' };
    assert.deepEqual(changes(BASE, weakened), []);
  });

  test('the settings of the first review stay relaxations, and their reverse is a tightening', () => {
    const loose = {
      ...BASE,
      enableScripts: true,
      npmMinimalAgeGate: 0,
      approvedGitRepositories: ['**'],
      checksumBehavior: 'update',
      tollgateMode: 'warn',
    };
    const codes = changes(loose).map((c) => c.code);
    assert.deepEqual(codes, [
      'yarnrc-enable-scripts',
      'yarnrc-age-gate-lowered',
      'yarnrc-git-repositories-widened',
      'yarnrc-checksum-behavior',
      'yarnrc-mode-override',
    ]);
    assert.ok(changes(BASE, loose).every((c) => !c.relaxation));
  });
});
