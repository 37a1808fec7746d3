// Policy review in pull requests: `yarn tollgate policy diff` and `yarn tollgate audit --base` against a
// base ref of a real git repository, with real Yarn, Verdaccio and tollgate-server. Every relaxation is
// its own finding (and SARIF rule) and fails unless acknowledged; tightenings never fail; relaxations
// hidden in a base policy, in the pins, in .yarnrc.yml or in a replaced plugin bundle are found.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { stringify } from 'yaml';
import { commitAll, git } from '../harness/git';
import { Scope } from '../harness/scope';
import { ACME_RELEASER, acmePolicy, acmeProject, startWorld, type World } from './fixtures';

const require = createRequire(import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: policy documents are edited field by field
type Doc = Record<string, any>;

function sarifValidator() {
  const schema = JSON.parse(
    readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'),
  );
  const ajv = new AjvDraft04({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv as never);
  const validate = ajv.compile(schema);
  // biome-ignore lint/suspicious/noExplicitAny: a SARIF log, read field by field
  return (text: string): any => {
    const log = JSON.parse(text);
    assert.ok(validate(log), JSON.stringify(validate.errors, null, 1));
    return log;
  };
}

describe('policy review against a base ref (real git, Yarn, Verdaccio and tollgate-server)', () => {
  const scope = new Scope();
  let world: World;
  before(async () => {
    world = await startWorld(scope);
    await world.publishSigned(world.privateRegistry, { name: '@acme/ui', version: '1.0.0' }, ACME_RELEASER);
    await world.publicRegistry.publish(await world.build({ name: 'left-pad', version: '1.3.0' }));
  });
  after(() => scope.close());

  test('every relaxation is its own finding with its location; exit 1 unless acknowledged; tightenings never fail', async () => {
    const project = await acmeProject(world, {
      dependencies: { '@acme/ui': '1.0.0' },
      policy: { ...acmePolicy(world), scripts: { default: 'deny' } },
    });
    commitAll(project);
    const clean = await project.yarn(['tollgate', 'policy', 'diff']);
    assert.equal(clean.code, 0, clean.output);
    assert.match(clean.output, /YN9150: .*against HEAD: no relaxation/);

    const policy = acmePolicy(world) as Doc;
    policy.rules[0].require = 'registry-signature';
    policy.rules[0].signers = 'any';
    policy.exceptions = [
      { package: 'left-pad', reason: 'legacy, reviewed by nobody', expires: '2099-01-01' },
    ];
    policy.scripts = { default: 'allow' };
    policy.defaults.minReleaseAge = '1d';
    project.write('.tollgate.yml', stringify(policy));
    project.mergeYarnrc({ enableScripts: true, approvedGitRepositories: ['**'], checksumBehavior: 'update' });

    const diff = await project.yarn(['tollgate', 'policy', 'diff', '--base', 'main']);
    assert.equal(diff.code, 1, diff.output);
    for (const pattern of [
      /\.tollgate\.yml:\d+:\d+: relaxation require-lowered: rule acme-internal requires less evidence: require signature → registry-signature/,
      /relaxation signer-widened: rule acme-internal accepts more signer identities/,
      /relaxation exception-added: new exception left-pad@\* until 2099-01-01/,
      /relaxation scripts-default-loosened: scripts\.default deny → allow/,
      /\.yarnrc\.yml:\d+:\d+: relaxation yarnrc-git-repositories-widened: approvedGitRepositories adds "\*\*": every git repository may be cloned/,
      /relaxation yarnrc-checksum-behavior: checksumBehavior throw → update/,
      /tightening: the defaults lengthens minReleaseAge: minReleaseAge none → 1d/,
      /against main: \d+ relaxation\(s\), not acknowledged/,
    ])
      assert.match(diff.output, pattern);
    assert.doesNotMatch(diff.output, /yarnrc-enable-scripts/, 'the test project already enables scripts');
    assert.doesNotMatch(diff.output, /^\s+at /m, 'no stack trace');

    const accepted = await project.yarn([
      'tollgate',
      'policy',
      'diff',
      '--base',
      'main',
      '--accept-relaxations',
    ]);
    assert.equal(accepted.code, 0, accepted.output);
    assert.match(accepted.output, /acknowledged \(--accept-relaxations\)/);

    const validate = sarifValidator();
    const sarifRun = await project.yarn([
      'tollgate',
      'policy',
      'diff',
      '--base',
      'main',
      '--format',
      'sarif',
    ]);
    assert.equal(sarifRun.code, 1);
    const log = validate(sarifRun.stdout);
    const results = log.runs[0].results;
    const rules = log.runs[0].tool.driver.rules;
    const requireLowered = results.find((r: { ruleId: string }) => r.ruleId === 'require-lowered');
    assert.equal(requireLowered.level, 'error');
    assert.equal(rules[requireLowered.ruleIndex].id, 'require-lowered');
    assert.ok(rules[requireLowered.ruleIndex].help.text.length > 10);
    assert.equal(requireLowered.locations[0].physicalLocation.artifactLocation.uri, '.tollgate.yml');
    const lines = project.read('.tollgate.yml').split('\n');
    assert.match(
      lines[requireLowered.locations[0].physicalLocation.region.startLine - 1]!,
      /name: acme-internal/,
    );
    assert.ok(
      results.some(
        (r: { ruleId: string; level: string }) => r.ruleId === 'policy-tightened' && r.level === 'note',
      ),
    );

    const json = JSON.parse(
      (await project.yarn(['tollgate', 'policy', 'diff', '--base', 'main', '--format', 'json'])).stdout,
    );
    assert.ok(json.relaxations >= 6);
    const github = await project.yarn(['tollgate', 'policy', 'diff', '--base', 'main', '--format', 'github']);
    assert.match(
      github.stdout,
      /^::error file=\.tollgate\.yml,line=\d+,title=Tollgate%3A require-lowered::/m,
    );

    // Only tightenings: exit 0, listed.
    git(project.dir, 'checkout', '-q', '--', '.');
    const tighter = acmePolicy(world) as Doc;
    tighter.scripts = { default: 'deny' };
    tighter.rules[0].require = 'provenance';
    tighter.defaults.minReleaseAge = '3d';
    project.write('.tollgate.yml', stringify(tighter));
    const tight = await project.yarn(['tollgate', 'policy', 'diff', '--base', 'main']);
    assert.equal(tight.code, 0, tight.output);
    assert.match(
      tight.output,
      /tightening: rule acme-internal requires more evidence: require signature → provenance/,
    );
  });

  test('a relaxation hidden in a base policy, pins removed, a replaced plugin bundle and the mode override are found', async () => {
    const project = await acmeProject(world, { dependencies: { '@acme/ui': '1.0.0' } });
    // The organisation's policy, in the repository, which the repository's policy extends.
    const org = acmePolicy(world) as Doc;
    project.write(
      'org/tollgate-base.yml',
      stringify({ ...org, trustRoots: { local: { file: '../local-trusted-root.json' } } }),
    );
    project.write('.tollgate.yml', stringify({ version: 1, extends: 'org/tollgate-base.yml' }));
    const install = await project.yarn(['install']);
    assert.equal(install.code, 0, install.output);
    assert.ok(project.exists('.tollgate.pins.json'));
    commitAll(project);

    // The pull request: the base loses its signature requirement, the pins go, the bundle is swapped.
    const loosened: Doc = { ...org, trustRoots: { local: { file: '../local-trusted-root.json' } } };
    loosened.rules = [{ ...org.rules[0], require: 'none' }];
    project.write('org/tollgate-base.yml', stringify(loosened));
    project.write('.tollgate.pins.json', '{"version":1,"packages":{}}\n');
    project.mergeYarnrc({ tollgateMode: 'warn' });
    const bundle = join(project.dir, '.yarn/plugins/@yarnpkg/plugin-tollgate.cjs');
    appendFileSync(bundle, '\n// a harmless-looking edit\n');

    const diff = await project.yarn(['tollgate', 'policy', 'diff', '--base', 'main']);
    assert.equal(diff.code, 1, diff.output);
    assert.match(
      diff.output,
      /org\/tollgate-base\.yml:\d+:\d+: relaxation require-lowered: rule acme-internal requires less evidence: require signature → none/,
    );
    assert.match(
      diff.output,
      /\.tollgate\.pins\.json:\d+:\d+: relaxation pin-removed: the pins of @acme\/ui \(release line 1\) were removed/,
    );
    assert.match(
      diff.output,
      /relaxation yarnrc-plugin-changed: the plugin bundle \.yarn\/plugins\/@yarnpkg\/plugin-tollgate\.cjs does not match the checksum \.yarnrc\.yml records/,
    );
    assert.match(
      diff.output,
      /relaxation yarnrc-mode-override: tollgateMode \(unset: the policy decides\) → warn/,
    );

    // The extends entry removed altogether.
    git(project.dir, 'checkout', '-q', '--', '.');
    project.write(
      '.tollgate.yml',
      stringify({
        version: 1,
        trustRoots: { local: { file: 'local-trusted-root.json' } },
        defaults: { trust: ['local'] },
      }),
    );
    const dropped = await project.yarn(['tollgate', 'policy', 'diff', '--base', 'main']);
    assert.equal(dropped.code, 1, dropped.output);
    assert.match(
      dropped.output,
      /relaxation extends-removed: the policy no longer extends org\/tollgate-base\.yml/,
    );
    assert.match(dropped.output, /relaxation rule-removed: rule acme-internal/);
  });

  test('audit --base: denials and relaxations in one run, one SARIF log; bad refs are usage errors', async () => {
    const project = await acmeProject(world, { dependencies: { '@acme/ui': '1.0.0', 'left-pad': '1.3.0' } });
    assert.equal((await project.yarn(['install'])).code, 0);
    commitAll(project);
    const clean = await project.yarn(['tollgate', 'audit', '--base', 'main']);
    assert.equal(clean.code, 0, clean.output);
    assert.match(clean.output, /against main: no relaxation/);

    const policy = acmePolicy(world) as Doc;
    policy.rules[0].registries = undefined;
    delete policy.rules[0].registries;
    project.write('.tollgate.yml', stringify(policy));
    const relaxed = await project.yarn(['tollgate', 'audit', '--base', 'main', '--format', 'sarif']);
    assert.equal(relaxed.code, 1, relaxed.stderr);
    const log = sarifValidator()(relaxed.stdout);
    const binding = log.runs[0].results.find(
      (r: { ruleId: string }) => r.ruleId === 'registry-binding-removed',
    );
    assert.ok(binding, relaxed.stdout);
    assert.match(
      binding.message.text,
      /no longer binds its names to http:\/\/127\.0\.0\.1:\d+\/: they may come from any registry/,
    );
    assert.equal(log.runs[0].invocations[0].exitCode, 1);
    const ack = await project.yarn(['tollgate', 'audit', '--base', 'main', '--accept-relaxations']);
    assert.equal(ack.code, 0, ack.output);

    const unknown = await project.yarn(['tollgate', 'audit', '--base', 'no-such-branch']);
    assert.equal(unknown.code, 2, unknown.output);
    assert.match(
      unknown.output,
      /the base ref "no-such-branch" is not a commit this clone knows; fetch it first/,
    );
    assert.doesNotMatch(unknown.output, /^\s+at /m);
    const diffUnknown = await project.yarn([
      'tollgate',
      'policy',
      'diff',
      '--base',
      'no-such-branch',
      '--format',
      'sarif',
    ]);
    assert.equal(diffUnknown.code, 2);
    const failed = sarifValidator()(diffUnknown.stdout);
    assert.equal(failed.runs[0].invocations[0].executionSuccessful, false);
  });
  test("a denial removed from the project's known-bad list is a relaxation; one added is a tightening", async () => {
    const project = await acmeProject(world, { dependencies: { '@acme/ui': '1.0.0' } });
    const entry = (versions: string) =>
      `version: 1\nreleases:\n  - package: left-pad\n    versions: ${versions}\n`;
    project.write('.tollgate.known-bad.yml', entry('[9.9.8, 9.9.9]'));
    commitAll(project);

    project.write('.tollgate.known-bad.yml', entry('[9.9.8, 9.9.9, 9.9.10]'));
    const tighter = await project.yarn(['tollgate', 'policy', 'diff', '--base', 'main']);
    assert.equal(tighter.code, 0, tighter.output);
    assert.match(tighter.output, /tightening: \.tollgate\.known-bad\.yml denies more/);

    project.write('.tollgate.known-bad.yml', entry('[9.9.8]'));
    const looser = await project.yarn(['tollgate', 'policy', 'diff', '--base', 'main']);
    assert.equal(looser.code, 1, looser.output);
    assert.match(
      looser.output,
      /relaxation known-bad-weakened: left-pad from \S+ is no longer denied for version 9\.9\.9/,
    );
    assert.match(looser.output, /was: \.tollgate\.known-bad\.yml:3:5 at main/);
  });
});
