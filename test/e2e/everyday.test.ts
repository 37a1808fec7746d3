// Everyday use: one exit-code contract for every command, one root cause said once instead of a wall
// of identical denials, fast failures from sources that do not answer, install/audit/explain agreeing,
// lints under their own code, a quick start that works as written, and SARIF that code scanning takes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { stringify } from 'yaml';
import { pluginBundle, repoRoot } from '../harness/paths';
import { Scope } from '../harness/scope';
import { createYarnProject } from '../harness/yarn-project';
import { ACME_RELEASER, acmePolicy, acmeProject, startWorld, type World } from './fixtures';

const require = createRequire(import.meta.url);

/** A TCP server that accepts connections and never answers: a store behind a black hole. */
async function blackHole(scope: Scope): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.defer(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, connections: () => connections };
}

describe('everyday use (real Yarn, Verdaccio and tollgate-server)', () => {
  const scope = new Scope();
  let world: World;
  before(async () => {
    world = await startWorld(scope);
    await world.publishSigned(world.privateRegistry, { name: '@acme/ok', version: '1.0.0' }, ACME_RELEASER);
    await world.privateRegistry.publish(await world.build({ name: '@acme/bad', version: '1.0.0' }));
    for (let i = 0; i < 5; i++) {
      await world.publishSigned(
        world.privateRegistry,
        { name: `@acme/many-${i}`, version: '1.0.0' },
        ACME_RELEASER,
      );
    }
  });
  after(() => scope.close());

  test('exit codes: every command answers 0 clean, 1 violations, 2 usage or configuration error', async () => {
    const project = await acmeProject(world, {
      dependencies: { '@acme/ok': '1.0.0', '@acme/bad': '1.0.0' },
      policy: acmePolicy(world, { mode: 'warn' }),
    });
    assert.equal((await project.yarn(['install'])).code, 0);
    const policy = project.read('.tollgate.yml');
    project.write('.tollgate.yml', stringify(acmePolicy(world)));
    const code = async (args: string[]) => (await project.yarn(args)).code;

    const group = await project.yarn(['tollgate']);
    assert.equal(group.code, 0);
    for (const command of [
      'audit',
      'explain',
      'approve',
      'init',
      'policy check',
      'policy reference',
      'sign',
      'publish',
    ])
      assert.match(
        group.stdout,
        new RegExp(`yarn tollgate ${command}\\b`),
        `\`yarn tollgate\` lists ${command}`,
      );
    assert.equal(await code(['tollgate', 'policy', 'reference']), 0);

    const rows: Array<[string[], number]> = [
      [['tollgate', 'audit'], 1],
      [['tollgate', 'explain', '@acme/ok'], 0],
      [['tollgate', 'explain', '@acme/bad'], 1],
      [['tollgate', 'explain', '@acme/nope'], 2],
      [['tollgate', 'explain', '@acme/ok@^9'], 2],
      [['tollgate', 'approve', '@acme/ok', '--reason', 'nothing changed'], 0],
      [['tollgate', 'approve', '@acme/bad', '--reason', 'cannot help'], 1],
      [['tollgate', 'approve', '@acme/nope', '--reason', 'no such package'], 2],
      [['tollgate', 'policy', 'check'], 0],
      [['tollgate', 'policy', 'check', 'nope.yml'], 2],
      [['tollgate', 'init'], 2],
    ];
    for (const [args, expected] of rows) assert.equal(await code(args), expected, args.join(' '));

    const json = await project.yarn(['tollgate', 'policy', 'check', '--json']);
    assert.equal(json.code, 0);
    assert.match(json.stdout, /"type":"tollgate-policy-check".*"valid":true/);

    // An invalid policy is a configuration error for every command that reads it.
    project.write('.tollgate.yml', 'version: 1\nrules:\n  - packages: [x]\n    requier: signature\n');
    for (const args of [
      ['tollgate', 'policy', 'check'],
      ['tollgate', 'audit'],
      ['tollgate', 'explain', '@acme/ok'],
      ['tollgate', 'approve', '@acme/ok', '--reason', 'x'],
    ])
      assert.equal(await code(args), 2, args.join(' '));
    project.write('.tollgate.yml', policy);
  });

  test('explain suggests near names and says when a range matches no installed version', async () => {
    const project = await acmeProject(world, { dependencies: { '@acme/ok': '1.0.0' } });
    assert.equal((await project.yarn(['install'])).code, 0);
    const typo = await project.yarn(['tollgate', 'explain', '@acme/okk']);
    assert.equal(typo.code, 2);
    assert.match(typo.output, /@acme\/okk is not in yarn\.lock \(did you mean @acme\/ok\?\)/);
    const range = await project.yarn(['tollgate', 'explain', '@acme/ok@^2']);
    assert.equal(range.code, 2);
    assert.match(range.output, /no installed version of @acme\/ok matches \^2; yarn\.lock has 1\.0\.0/);
  });

  test('root causes: a store that does not answer is said once, with the setting to fix; the packages are listed under it', async () => {
    const names = Array.from({ length: 5 }, (_, i) => `@acme/many-${i}`);
    const project = await acmeProject(world, {
      dependencies: Object.fromEntries(names.map((n) => [n, '1.0.0'])),
      yarnrc: { tollgateAttestationStores: ['http://127.0.0.1:9'] },
    });
    const res = await project.yarn(['install']);
    assert.equal(res.code, 1, res.output);
    const causes = res.output.match(/YN9107: (│ )?Tollgate: http:\/\/127\.0\.0\.1:9 did not answer/g) ?? [];
    assert.equal(causes.length, 1, `said once:\n${res.output}`);
    assert.match(res.output, /fix: tollgateAttestationStores in \.yarnrc\.yml/);
    assert.match(res.output, /affects 5 packages:/);
    for (const n of names) assert.match(res.output, new RegExp(`${n}@1\\.0\\.0`));
    assert.doesNotMatch(res.output, /YN9103: .*denied by rule/, 'no identical block per package');

    const json = await project.yarn(['install', '--json']);
    const decisions = json.stdout
      .split('\n')
      .filter((l) => l.includes('"tollgate-decision"'))
      .map((l) => JSON.parse(l));
    assert.equal(decisions.length, 5, '--json keeps every package');
  });

  test('fail fast: a store behind a black hole is given one request and its timeout, then not asked again', async () => {
    const hole = await blackHole(scope);
    const names = Array.from({ length: 5 }, (_, i) => `@acme/many-${i}`);
    const project = await acmeProject(world, {
      dependencies: Object.fromEntries(names.map((n) => [n, '1.0.0'])),
      yarnrc: { tollgateAttestationStores: [hole.url], tollgateNetworkTimeout: 2 },
    });
    const res = await project.yarn(['install']);
    assert.equal(res.code, 1, res.output);
    assert.match(
      res.output,
      /did not answer \(.*timed out after 2 s.*\); it was not asked again in this run/,
    );
    assert.match(res.output, /affects 5 packages:/);
    assert.ok(hole.connections() <= 2, `the black hole was asked ${hole.connections()} times`);
  });

  test('install, audit and explain agree with a store down: local records judge the package, and the store is reported', async () => {
    const project = await acmeProject(world, { dependencies: { '@acme/ok': '1.0.0' } });
    assert.equal((await project.yarn(['install'])).code, 0);
    project.mergeYarnrc({ tollgateAttestationStores: ['http://127.0.0.1:9'] });
    project.write('.tollgate.yml', `${project.read('.tollgate.yml')}\n`);
    for (const args of [['install'], ['tollgate', 'audit'], ['tollgate', 'explain', '@acme/ok']]) {
      const res = await project.yarn(args);
      assert.equal(res.code, 0, `${args.join(' ')}:\n${res.output}`);
      assert.match(
        res.output,
        /http:\/\/127\.0\.0\.1:9 did not answer/,
        `${args.join(' ')} reports the store`,
      );
      assert.doesNotMatch(res.output, /denied by rule/);
    }
  });

  test('the policy is validated before Yarn resolves or fetches anything', async () => {
    const project = await acmeProject(world, { dependencies: { '@acme/ok': '1.0.0' } });
    project.write('.tollgate.yml', 'version: 1\nrulez: []\n');
    const res = await project.yarn(['install']);
    assert.equal(res.code, 1, res.output);
    assert.match(res.output, /YN9105: .*the policy \.tollgate\.yml is invalid/);
    assert.doesNotMatch(res.output, /Fetch step|YN0085|YN0013/, 'nothing was resolved or downloaded');
    assert.equal(project.exists('node_modules/@acme/ok'), false);
  });

  test('no false tamper alarm: a second checkout on a machine that holds local bindings, without the archives', async () => {
    const first = await acmeProject(world, { dependencies: { '@acme/ok': '1.0.0' } });
    assert.equal((await first.yarn(['install'])).code, 0);
    const second = await acmeProject(world, { dependencies: { '@acme/ok': '1.0.0' } });
    // What a second clone of the repository has: yarn.lock, the evidence file and its bundles; no cache.
    for (const file of ['yarn.lock', '.tollgate.evidence.json']) second.write(file, first.read(file));
    cpSync(join(first.dir, '.tollgate.bundles'), join(second.dir, '.tollgate.bundles'), { recursive: true });
    const sameMachine = { HOME: join(first.globalFolder, 'home') };
    second.mergeYarnrc({ tollgateCacheFolder: join(first.globalFolder, 'tollgate') });
    for (const args of [
      ['tollgate', 'audit'],
      ['tollgate', 'audit', '--offline'],
    ]) {
      const res = await second.yarn(args, { env: sameMachine });
      assert.equal(res.code, 0, `${args.join(' ')}:\n${res.output}`);
      assert.doesNotMatch(res.output, /tamper|TARBALL_REQUIRED/i);
    }
  });

  test('lints have their own code, are said once, and stay quiet for registries on this machine', async () => {
    const policy = acmePolicy(world);
    (policy.rules as object[]).push(
      { name: 'one', packages: ['left-*'], registries: ['http://npm.far.example'] },
      { name: 'two', packages: ['right-*'], registries: ['http://npm.far.example'] },
    );
    const project = await acmeProject(world, { dependencies: { '@acme/ok': '1.0.0' }, policy });
    const res = await project.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    const lines = res.output.split('\n').filter((l) => /plain http/.test(l));
    assert.equal(lines.length, 1, `once:\n${res.output}`);
    assert.match(
      lines[0]!,
      /YN9106: .*\.tollgate\.yml:\d+:\d+, \.tollgate\.yml:\d+:\d+: registry http:\/\/npm\.far\.example\/ is plain http/,
    );
    assert.doesNotMatch(res.output, /127\.0\.0\.1.*plain http/);
    assert.doesNotMatch(res.output, /YN9105/);
  });

  test('the quick start works as written on a project where nothing is signed', async () => {
    await world.publicRegistry.publish(await world.build({ name: 'plain-lib', version: '1.0.0' }));
    // an optional package for another platform, as native tools ship them (esbuild, swc): never
    // installed here, still judged and recorded
    const elsewhere = process.platform === 'win32' ? 'linux' : 'win32';
    await world.publicRegistry.publish(
      await world.build({
        name: 'plain-native-other',
        version: '1.0.0',
        manifestFields: { os: [elsewhere] },
      }),
    );
    const project = await createYarnProject({
      registry: world.publicRegistry.url,
      dependencies: { 'plain-lib': '1.0.0' },
    });
    const manifest = JSON.parse(project.read('package.json'));
    manifest.optionalDependencies = { 'plain-native-other': '1.0.0' };
    project.write('package.json', `${JSON.stringify(manifest, null, 2)}\n`);
    assert.equal((await project.yarn(['install'])).code, 0, 'a Yarn project with a yarn.lock');
    assert.equal((await project.yarn(['plugin', 'import', pluginBundle])).code, 0);
    const init = await project.yarn(['tollgate', 'init']);
    assert.equal(init.code, 0, init.output);
    assert.match(init.output, /yarn config set tollgatePolicyPath \.tollgate\.yml/);
    const header = project.read('.tollgate.yml').split('\n')[0]!;
    const schema = /\$schema=(\S+)/.exec(header)?.[1];
    assert.ok(schema && project.exists(schema), `the policy names a schema that exists: ${header}`);
    assert.doesNotMatch(
      project.read('.tollgate.yml'),
      /policy\/REFERENCE\.md/,
      'no path that is not in the project',
    );
    assert.equal((await project.yarn(['config', 'set', 'tollgatePolicyPath', '.tollgate.yml'])).code, 0);
    const install = await project.yarn(['install']);
    assert.equal(install.code, 0, install.output);

    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const gitAdd = readme.split('\n').find((l) => l.startsWith('git add .yarnrc.yml'));
    assert.ok(gitAdd, 'the README has the git add line');
    execFileSync('git', ['init', '-q'], { cwd: project.dir });
    execFileSync('sh', ['-c', gitAdd], { cwd: project.dir, stdio: 'pipe' });
    const staged = execFileSync('git', ['diff', '--cached', '--name-only'], { cwd: project.dir }).toString();
    for (const file of ['.yarnrc.yml', '.tollgate.yml', '.tollgate.evidence.json'])
      assert.match(staged, new RegExp(`^${file.replace(/\./g, '\\.')}$`, 'm'));

    // CI: a fresh clone of what was committed, every cache empty, installs under --immutable
    for (const path of ['node_modules', '.yarn/cache', '.yarn/install-state.gz'])
      rmSync(join(project.dir, path), { recursive: true, force: true });
    for (const path of ['tollgate', 'cache'])
      rmSync(join(project.globalFolder, path), { recursive: true, force: true });
    const ci = await project.yarn(['install', '--immutable']);
    assert.equal(ci.code, 0, `the committed files are complete for a CI checkout:\n${ci.output}`);

    const again = await project.yarn(['tollgate', 'init', '--force']);
    assert.equal(again.code, 0, again.output);
    assert.doesNotMatch(again.output, /yarn config set tollgatePolicyPath/, 'not asked to set what is set');
  });

  test('SARIF: valid against the 2.1.0 schema, stable fingerprints, rules with help, and a valid log when the audit cannot run', async () => {
    const schema = JSON.parse(
      readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'),
    );
    // The SARIF schema is draft-04 (ajv's draft-04 build reads it); formats come from ajv-formats.
    const ajv = new AjvDraft04({ strict: false, allErrors: true, unicodeRegExp: false }); // one of its patterns is not valid with the u flag
    addFormats(ajv as never);
    const validate = ajv.compile(schema);
    // biome-ignore lint/suspicious/noExplicitAny: a SARIF log, read field by field
    const valid = (text: string): any => {
      const log = JSON.parse(text);
      assert.ok(validate(log), JSON.stringify(validate.errors, null, 1));
      return log;
    };

    const project = await acmeProject(world, {
      dependencies: { '@acme/ok': '1.0.0', '@acme/bad': '1.0.0' },
      policy: acmePolicy(world, { mode: 'warn' }),
    });
    assert.equal((await project.yarn(['install'])).code, 0);
    project.write('.tollgate.yml', stringify(acmePolicy(world)));
    const first = await project.yarn(['tollgate', 'audit', '--format', 'sarif']);
    assert.equal(first.code, 1);
    const log = valid(first.stdout);
    const run = log.runs[0];
    assert.equal(run.invocations[0].exitCode, 1);
    assert.equal(run.invocations[0].executionSuccessful, true);
    const result = run.results.find((r: { ruleId: string }) => r.ruleId === 'evidence-missing');
    assert.ok(result.partialFingerprints['tollgate/v1']);
    const rule = run.tool.driver.rules[result.ruleIndex];
    assert.equal(rule.id, 'evidence-missing');
    assert.match(rule.helpUri, /^https:\/\//);
    assert.ok(rule.help.text.length > 10);
    const second = valid((await project.yarn(['tollgate', 'audit', '--format', 'sarif'])).stdout);
    assert.deepEqual(
      second.runs[0].results.map((r: { partialFingerprints: unknown }) => r.partialFingerprints),
      run.results.map((r: { partialFingerprints: unknown }) => r.partialFingerprints),
      'the same findings have the same fingerprints',
    );

    project.write('.tollgate.yml', 'version: 1\nrulez: []\n');
    const broken = await project.yarn(['tollgate', 'audit', '--format', 'sarif']);
    assert.equal(broken.code, 2);
    const failed = valid(broken.stdout);
    assert.equal(failed.runs[0].invocations[0].executionSuccessful, false);
    assert.match(
      failed.runs[0].invocations[0].toolExecutionNotifications[0].message.text,
      /policy \.tollgate\.yml is invalid/,
    );
    assert.deepEqual(failed.runs[0].results, []);
  });

  test('the policy reference and schema ship with the plugin', async () => {
    const project = await acmeProject(world, { dependencies: {} });
    const reference = await project.yarn(['tollgate', 'policy', 'reference']);
    assert.equal(reference.code, 0);
    assert.match(reference.stdout, /^# Tollgate policy reference/);
    const schema = await project.yarn(['tollgate', 'policy', 'schema']);
    assert.equal(schema.code, 0);
    assert.equal(JSON.parse(schema.stdout).title, 'Tollgate policy (.tollgate.yml)');
    assert.ok(existsSync(pluginBundle));
  });
});
