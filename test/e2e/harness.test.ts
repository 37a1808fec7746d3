import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pkg from '../../package.json';
import { buildPackage, markerName } from '../harness/packages';
import { tempDir } from '../harness/paths';
import { startRegistry } from '../harness/registry';
import { Scope } from '../harness/scope';
import { createYarnProject } from '../harness/yarn-project';

test('the harness removes the folders it created under the temp folder when the process exits', async () => {
  const { mkdtempSync, readdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { run } = await import('../harness/process');
  const { repoRoot } = await import('../harness/paths');
  const tmp = mkdtempSync(join(tmpdir(), 'harness-tmp-'));
  const script =
    "import { tempDir } from './test/harness/paths.ts'; const d = tempDir('x'); require('node:fs').writeFileSync(d + '/f', '1'); console.log(d);";
  const res = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script.replace("require('node:fs')", "(await import('node:fs'))"),
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, TMPDIR: tmp },
    },
  );
  // tsx keeps a compile cache of its own there; everything Tollgate's harness made must be gone.
  const left = readdirSync(tmp).filter((f) => f.startsWith('tollgate-'));
  rmSync(tmp, { recursive: true, force: true });
  assert.equal(res.code, 0, res.output);
  assert.match(res.stdout, /tollgate-x-/);
  assert.deepEqual(left, []);
});

describe('harness: real Yarn 4 against a real Verdaccio on loopback', () => {
  const scope = new Scope();
  after(() => scope.close());

  test('the built plugin loads into Yarn and reports its version', async () => {
    const registry = await startRegistry(scope, 'plugin-load');
    const project = await createYarnProject({ registry: registry.url, withPlugin: true });
    const res = await project.yarn(['tollgate', '--version']);
    assert.equal(res.code, 0, res.output);
    assert.equal(res.stdout.trim(), pkg.version);
    assert.match(project.readYarnrc(), /plugin-tollgate/);
  });

  test('the plugin without a policy setting refuses to install (fail closed)', async () => {
    const registry = await startRegistry(scope, 'unconfigured');
    await registry.publish(await buildPackage({ name: 'harness-any', version: '1.0.0' }));
    const project = await createYarnProject({
      registry: registry.url,
      dependencies: { 'harness-any': '1.0.0' },
      withPlugin: true,
    });
    const res = await project.yarn(['install']);
    assert.equal(res.code, 1, res.output);
    assert.match(res.output, /YN9105: .*`tollgatePolicyPath` is not set in \.yarnrc\.yml/);
    assert.equal(project.read('yarn.lock'), '', 'yarn.lock was not written');
    assert.equal(project.exists('node_modules'), false);
  });

  test('yarn install of a small tree from the local registry runs its postinstall', async () => {
    const registry = await startRegistry(scope, 'small-tree');
    const markers = tempDir('markers');
    const leaf = await buildPackage({
      name: 'harness-leaf',
      version: '1.0.0',
      postinstallMarkerDir: markers,
    });
    const root = await buildPackage({
      name: '@harness/root',
      version: '2.1.0',
      dependencies: { 'harness-leaf': '^1.0.0' },
    });
    await registry.publish(leaf);
    await registry.publish(root);

    const project = await createYarnProject({
      registry: registry.url,
      scopes: { harness: registry.url },
      dependencies: { '@harness/root': '^2.0.0' },
    });
    const res = await project.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.ok(
      existsSync(join(markers, markerName('harness-leaf', '1.0.0'))),
      'the postinstall marker was written',
    );
    assert.match(project.read('yarn.lock'), /"@harness\/root@npm:\^2\.0\.0"/);
    assert.match(project.read('yarn.lock'), /harness-leaf@npm:1\.0\.0/);
    assert.equal(
      project.read('node_modules/harness-leaf/index.js').trim(),
      `module.exports = "harness-leaf@1.0.0";`,
    );
  });
});
