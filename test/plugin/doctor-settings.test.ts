// `yarn tollgate doctor`, the checks of Yarn's settings and the plugin bundle
// (plugin/sources/doctor/settings-checks.ts): each weakening setting is its own finding naming where it
// was set, and Yarn's defaults with a matching bundle give none.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { doctorCode } from '../../plugin/sources/doctor/codes';
import {
  approvesAnyRepository,
  checkYarnSettings,
  type PolicyBuildFacts,
  type YarnSettingFacts,
} from '../../plugin/sources/doctor/settings-checks';
import { sha512Hex } from '../../plugin/sources/review/yarnrc';
import { DOCTOR_CHECKS } from '../../policy/doctor';

const BUNDLE = Buffer.from('// the Tollgate bundle\n');
const PLUGIN = '.yarn/plugins/@yarnpkg/plugin-tollgate.cjs';

function healthy(): YarnSettingFacts {
  return {
    enableScripts: { value: false, source: '<default>' },
    ageGates: [{ setting: 'npmMinimalAgeGate', value: 1440, source: '<default>' }],
    approvedGitRepositories: { value: [], source: '<default>' },
    checksumBehavior: { value: 'throw', source: '<default>' },
    rcModes: [],
    plugins: [{ rcFile: '.yarnrc.yml', path: PLUGIN, checksum: sha512Hex(BUNDLE), bytes: BUNDLE }],
  };
}

const POLICY: PolicyBuildFacts = { file: '.tollgate.yml', scriptsDefault: 'deny', scriptsMode: 'enforce' };

const checks = (facts: YarnSettingFacts, policy: PolicyBuildFacts = POLICY) =>
  checkYarnSettings(facts, policy).map((f) => [f.check, f.subject, f.where]);

describe('doctor: Yarn settings', () => {
  test("Yarn's defaults and a bundle matching its checksum: nothing", () => {
    assert.deepEqual(checkYarnSettings(healthy(), POLICY), []);
  });

  test('enableScripts: true is a finding only when the policy lets every build run', () => {
    const facts = { ...healthy(), enableScripts: { value: true, source: '.yarnrc.yml' } };
    assert.deepEqual(checks(facts), []);
    assert.deepEqual(checks(facts, { ...POLICY, scriptsDefault: 'allow' }), [
      ['scripts-unrestricted', 'enableScripts', '.yarnrc.yml'],
    ]);
    assert.deepEqual(checks(facts, { ...POLICY, scriptsMode: 'off' }), [
      ['scripts-unrestricted', 'enableScripts', '.yarnrc.yml'],
    ]);
  });

  test('an age gate of 0, by default or for one scope, each named', () => {
    const facts = healthy();
    facts.ageGates = [
      { setting: 'npmMinimalAgeGate', value: 0, source: '<environment>' },
      { setting: 'npmScopes.acme.npmMinimalAgeGate', value: 0, source: '.yarnrc.yml' },
      { setting: 'npmScopes.ok.npmMinimalAgeGate', value: 60, source: '.yarnrc.yml' },
    ];
    assert.deepEqual(checks(facts), [
      ['age-gate-off', 'npmMinimalAgeGate', '<environment>'],
      ['age-gate-off', 'npmScopes.acme.npmMinimalAgeGate', '.yarnrc.yml'],
    ]);
  });

  test('approvedGitRepositories: wildcards that approve any repository, not ones naming a host', () => {
    for (const p of ['**', '*', '**/*', 'https://**', '*://**/*'])
      assert.equal(approvesAnyRepository(p), true, p);
    for (const p of ['https://github.com/acme/**', 'github.com/acme/lib', 'git@github.com:acme/*'])
      assert.equal(approvesAnyRepository(p), false, p);
    const facts = {
      ...healthy(),
      approvedGitRepositories: { value: ['github.com/acme/lib', '**'], source: 'y' },
    };
    const found = checkYarnSettings(facts, POLICY);
    assert.equal(found.length, 1);
    assert.match(found[0]!.message, /approvedGitRepositories has "\*\*"/);
  });

  test('checksumBehavior other than throw', () => {
    for (const value of ['ignore', 'update', 'reset'])
      assert.deepEqual(checks({ ...healthy(), checksumBehavior: { value, source: '.yarnrc.yml' } }), [
        ['checksum-behavior', 'checksumBehavior', '.yarnrc.yml'],
      ]);
  });

  test('tollgateMode warn/off in a settings file and YARN_TOLLGATE_MODE are separate findings; enforce is none', () => {
    const facts = {
      ...healthy(),
      rcModes: [
        { rcFile: '.yarnrc.yml', value: 'warn' },
        { rcFile: '/home/u/.yarnrc.yml', value: 'enforce' },
      ],
      envMode: 'off',
    };
    assert.deepEqual(checks(facts), [
      ['mode-override-rc', 'tollgateMode', '.yarnrc.yml'],
      ['mode-override-env', 'YARN_TOLLGATE_MODE', '<environment>'],
    ]);
    assert.deepEqual(checks({ ...healthy(), envMode: 'enforce' }), []);
  });

  test('the plugin bundle: replaced, missing, or without a recorded checksum', () => {
    const replaced = healthy();
    replaced.plugins[0]!.bytes = Buffer.from('// something else\n');
    const [finding] = checkYarnSettings(replaced, POLICY);
    assert.equal(finding?.check, 'plugin-bundle');
    assert.match(
      finding!.message,
      /does not match the checksum \.yarnrc\.yml records .*Yarn does not check a local plugin/,
    );
    assert.match(
      finding!.message,
      new RegExp(`sha512 ${sha512Hex(Buffer.from('// something else\n')).slice(0, 16)}`),
    );

    const missing = healthy();
    missing.plugins[0]!.bytes = null;
    assert.match(checkYarnSettings(missing, POLICY)[0]!.message, /does not exist/);

    const unrecorded = healthy();
    delete unrecorded.plugins[0]!.checksum;
    assert.match(checkYarnSettings(unrecorded, POLICY)[0]!.message, /records no checksum/);
  });
});

test('doctor: every check has its own YN91xx code in YN9151–YN9161', () => {
  const codes = DOCTOR_CHECKS.map(doctorCode);
  assert.equal(new Set(codes).size, codes.length);
  for (const code of codes) assert.match(code, /^YN91(5[1-9]|6[01])$/);
});
