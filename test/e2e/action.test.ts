// The GitHub Action (action.yml) run locally, step by step, over real Yarn 4 projects with real
// Verdaccio registries and tollgate-server: the SARIF log it writes (and hands to upload-sarif), the
// job summary, the annotations, its outputs and whether the job fails — for a clean project, one
// with a denied package, and a pull request that relaxes the policy against a base ref of a real git
// repository.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { stringify } from 'yaml';
import { type ActionRun, readAction, runAction } from '../harness/action-runner';
import { git } from '../harness/git';
import { repoRoot, tempDir, yarnBin } from '../harness/paths';
import { Scope } from '../harness/scope';
import type { YarnProject } from '../harness/yarn-project';
import { ACME_RELEASER, acmePolicy, acmeProject, OUTSIDER, startWorld, type World } from './fixtures';

const require = createRequire(import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: SARIF logs and policy documents are read field by field
type Doc = Record<string, any>;

function sarifValidator(): (text: string) => Doc {
  const schema = JSON.parse(
    readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'),
  );
  const ajv = new AjvDraft04({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv as never);
  const validate = ajv.compile(schema);
  return (text) => {
    const log = JSON.parse(text) as Doc;
    assert.ok(validate(log), JSON.stringify(validate.errors, null, 1));
    return log;
  };
}

/** `yarn` on PATH, as `corepack enable` gives a workflow: the Yarn 4 of the tests. */
function yarnOnPath(): string {
  const dir = tempDir('action-bin');
  const shim = join(dir, 'yarn');
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${yarnBin}" "$@"\n`);
  chmodSync(shim, 0o755);
  return dir;
}

describe('the GitHub Action, its steps run locally (real Yarn, Verdaccio and tollgate-server)', () => {
  const scope = new Scope();
  const validate = sarifValidator();
  let world: World;
  let bin: string;

  const env = (project: YarnProject): NodeJS.ProcessEnv => ({
    PATH: `${bin}:${process.env.PATH}`,
    HOME: join(project.globalFolder, 'home'),
    TMPDIR: process.env.TMPDIR,
    CI: 'true',
    FORCE_COLOR: '0',
  });
  const act = (project: YarnProject, inputs: Record<string, string> = {}, workspace = project.dir) =>
    runAction(repoRoot, { inputs, workspace, env: env(project) });

  /** The upload step got the very file the audit step wrote; returns it, validated. */
  function uploaded(run: ActionRun): Doc {
    const upload = run.step('upload');
    assert.ok(upload.ran, 'upload-sarif runs whatever the verdict');
    assert.match(upload.uses!, /^github\/codeql-action\/upload-sarif@v\d+$/);
    assert.equal(upload.with!.sarif_file, run.outputs['sarif-file']);
    assert.equal(upload.with!.category, 'tollgate');
    assert.ok(existsSync(upload.with!.sarif_file!), `${upload.with!.sarif_file} was written`);
    return validate(readFileSync(upload.with!.sarif_file!, 'utf8'));
  }

  before(async () => {
    bin = yarnOnPath();
    world = await startWorld(scope);
    await world.publishSigned(world.privateRegistry, { name: '@acme/ui', version: '1.0.0' }, ACME_RELEASER);
    await world.publishSigned(world.privateRegistry, { name: '@acme/evil', version: '1.0.0' }, OUTSIDER);
  });
  after(() => scope.close());

  test('action.yml: every input reaches its script through env, never spliced into a run line', () => {
    const spec = readAction(join(repoRoot, 'action.yml'));
    assert.equal(spec.runs.using, 'composite');
    for (const step of spec.runs.steps) {
      if (step.run !== undefined) {
        assert.doesNotMatch(step.run, /\$\{\{/, `step ${step.id}: no expression in run`);
        assert.match(step.run, /"\$GITHUB_ACTION_PATH\/scripts\/action\/audit\.mjs"/);
      }
    }
    for (const name of ['working-directory', 'base', 'sarif-file', 'fail-on'])
      assert.ok(name in spec.inputs, `input ${name}`);
  });

  test('a clean project: exit 0, an empty valid SARIF log uploaded, a summary saying so, the job passes', async () => {
    const project = await acmeProject(world, { dependencies: { '@acme/ui': '1.0.0' } });
    const install = await project.yarn(['install']);
    assert.equal(install.code, 0, install.output);

    const run = await act(project);
    assert.equal(run.status, 'success', run.log);
    assert.equal(run.outputs['exit-code'], '0');
    assert.equal(run.outputs.denied, '0');
    assert.equal(run.outputs['sarif-file'], join(project.dir, 'tollgate.sarif'));
    const log = uploaded(run);
    assert.equal(log.runs[0].invocations[0].exitCode, 0);
    assert.deepEqual(log.runs[0].results, []);
    assert.match(
      run.summary,
      /^## ✅ Tollgate audit of <code>\.<\/code>: no package denied, nothing relaxed/,
    );
    assert.match(run.summary, /\| denied \| warned \|[^\n]*\n\| --- [^\n]*\n\| 0 \| 0 \| — \| — \|/);
    assert.ok(run.step('verdict').ran);
    assert.equal(run.step('verdict').outcome, 'success');
  });

  test('a denied package: exit 1, the job fails after the SARIF upload, the summary names it; fail-on never passes', async () => {
    const project = await acmeProject(world, {
      dependencies: { '@acme/ui': '1.0.0', '@acme/evil': '1.0.0' },
    });
    // Installed past the gate (as a lockfile from elsewhere would arrive); the audit must catch it.
    const install = await project.yarn(['install'], { env: { YARN_TOLLGATE_MODE: 'off' } });
    assert.equal(install.code, 0, install.output);

    const run = await act(project);
    assert.equal(run.status, 'failure', run.log);
    assert.equal(run.step('audit').outcome, 'success', 'the audit step itself succeeds: it wrote the log');
    assert.equal(run.step('verdict').outcome, 'failure');
    assert.equal(run.step('verdict').result!.code, 1);
    assert.equal(run.outputs['exit-code'], '1');
    assert.equal(run.outputs.denied, '1');
    const log = uploaded(run);
    const results = log.runs[0].results as Doc[];
    const evil = results.filter((r) => r.properties.package.name === '@acme/evil');
    assert.ok(evil.length >= 1, JSON.stringify(results));
    assert.ok(evil.some((r) => r.ruleId === 'signer-mismatch'));
    assert.ok(
      results.every((r) => r.properties.package.name !== '@acme/ui'),
      'the signed package is clean',
    );
    const line = project
      .read('yarn.lock')
      .split('\n')
      .findIndex((l) => l.startsWith('"@acme/evil@'));
    assert.equal(evil[0]!.locations[0].physicalLocation.artifactLocation.uri, 'yarn.lock');
    assert.equal(evil[0]!.locations[0].physicalLocation.region.startLine, line + 1);
    assert.match(run.summary, /^## ❌ Tollgate audit of <code>\.<\/code>: 1 package\(s\) denied\n/);
    assert.match(run.summary, /\| 1 \| 0 \| — \| — \|/);
    assert.match(
      run.summary,
      /\| ❌ denied \| <code>@acme\/evil@1\.0\.0<\/code> \| <code>signer-mismatch<\/code> \| <code>acme-internal<\/code> \| <code>yarn\.lock:\d+<\/code> \| [^\n]*mallory@evil\.example/,
    );
    assert.match(
      run.log,
      /::error file=yarn\.lock,line=\d+,title=Tollgate signer-mismatch::@acme\/evil@1\.0\.0: /,
    );

    const tolerated = await act(project, { 'fail-on': 'never' });
    assert.equal(tolerated.status, 'success', tolerated.log);
    assert.equal(tolerated.outputs['exit-code'], '1');

    // From the repository root, auditing a project in a subfolder: locations are made relative to
    // the workspace, as code scanning resolves them from the checkout.
    const sarifDir = tempDir('action-sarif');
    const sub = await act(
      project,
      { 'working-directory': basename(project.dir), 'sarif-file': join(sarifDir, 'out/t.sarif') },
      dirname(project.dir),
    );
    assert.equal(sub.status, 'failure');
    const subLog = uploaded(sub);
    assert.equal(sub.outputs['sarif-file'], join(sarifDir, 'out/t.sarif'));
    assert.ok(
      (subLog.runs[0].results as Doc[]).every(
        (r) => r.locations[0].physicalLocation.artifactLocation.uri === `${basename(project.dir)}/yarn.lock`,
      ),
    );
    assert.match(sub.summary, new RegExp(`Tollgate audit of <code>${basename(project.dir)}</code>`));
  });

  test('a pull request relaxing the policy against base: each relaxation in SARIF and the summary, the job fails unless acknowledged', async () => {
    const project = await acmeProject(world, { dependencies: { '@acme/ui': '1.0.0' } });
    assert.equal((await project.yarn(['install'])).code, 0);
    git(project.dir, 'init', '-q', '-b', 'main');
    project.write('.gitignore', 'node_modules\n.yarn/cache\n.yarn/install-state.gz\n*.sarif\n');
    git(project.dir, 'add', '-A');
    git(project.dir, 'commit', '-q', '-m', 'base');
    git(project.dir, 'switch', '-q', '-c', 'pr');
    const policy = acmePolicy(world) as Doc;
    policy.rules[0].require = 'registry-signature';
    project.write('.tollgate.yml', stringify(policy));
    git(project.dir, 'commit', '-q', '-am', 'relax');

    const unchanged = await act(project, { base: 'pr' });
    assert.equal(unchanged.status, 'success', unchanged.log);
    assert.match(unchanged.summary, /\| 0 \| 0 \| 0 \| 0 \|/);

    const run = await act(project, { base: 'main' });
    assert.equal(run.status, 'failure', run.log);
    assert.equal(run.outputs['exit-code'], '1');
    assert.equal(run.outputs.denied, '0');
    assert.equal(Number(run.outputs.relaxations), 1);
    const log = uploaded(run);
    const lowered = (log.runs[0].results as Doc[]).find((r) => r.ruleId === 'require-lowered');
    assert.ok(lowered, JSON.stringify(log.runs[0].results));
    assert.equal(lowered.level, 'error');
    assert.equal(lowered.properties.base, 'main');
    assert.equal(lowered.locations[0].physicalLocation.artifactLocation.uri, '.tollgate.yml');
    assert.match(
      run.summary,
      /^## ❌ Tollgate audit of <code>\.<\/code>: 1 relaxation\(s\) not acknowledged\n/,
    );
    assert.match(
      run.log,
      /::error::Tollgate audit: 1 relaxation\(s\) not acknowledged \(exit 1, fail-on: violations\)/,
    );
    assert.match(run.summary, /relaxations against <code>main<\/code>/);
    assert.match(run.summary, /\| 0 \| 0 \| 1 \(1 not acknowledged\) \| 0 \|/);
    assert.match(run.summary, /### Policy review against <code>main<\/code>/);
    assert.match(
      run.summary,
      /\| ❌ relaxation \| <code>require-lowered<\/code> \| <code>\.tollgate\.yml:\d+:\d+<\/code> \| Relaxation against main: rule acme-internal requires less evidence/,
    );
    assert.match(run.summary, /yarn tollgate policy diff --base main/);

    const accepted = await act(project, { base: 'main', 'accept-relaxations': 'true' });
    assert.equal(accepted.status, 'success', accepted.log);
    assert.equal(accepted.outputs.relaxations, '0');
    assert.match(accepted.summary, /⚠️ relaxation \(acknowledged\)/);

    // A base the clone does not have (a shallow checkout): the audit's configuration error, and how to fix it.
    const missing = await act(project, { base: 'origin/main' });
    assert.equal(missing.status, 'failure');
    assert.equal(missing.outputs['exit-code'], '2');
    assert.match(
      missing.summary,
      /^## ❌ Tollgate audit of <code>\.<\/code>: configuration error, the audit could not run/,
    );
    assert.match(
      missing.summary,
      /\*\*Configuration error:\*\* the base ref "origin\/main" is not a commit this clone knows; fetch it first .*fetch-depth: 0/,
    );
    assert.doesNotMatch(missing.summary, /\| denied \|/, 'no counts from an audit that could not run');
    validate(readFileSync(missing.outputs['sarif-file']!, 'utf8'));
  });

  test('bad inputs stop the action before anything is uploaded, naming the input', async () => {
    const project = await acmeProject(world, { dependencies: { '@acme/ui': '1.0.0' } });
    const run = await act(project, { 'fail-on': 'sometimes' });
    assert.equal(run.status, 'failure');
    assert.equal(run.step('audit').result!.code, 2);
    assert.match(run.log, /::error::input fail-on: "sometimes" is not one of violations, errors, never/);
    assert.equal(run.step('upload').ran, false);
    assert.equal(run.step('verdict').ran, false);
    assert.match(run.summary, /input fail-on/);
  });
});
