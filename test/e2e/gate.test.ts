import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Scope } from '../harness/scope';
import { ACME_RELEASER, acmeProject, OUTSIDER, startWorld, type World } from './fixtures';

function assertNothingInstalled(project: { read(p: string): string; exists(p: string): boolean }) {
  assert.equal(project.read('yarn.lock'), '', 'yarn.lock was not written');
  assert.equal(project.exists('node_modules'), false, 'nothing was linked');
}

describe('the install gate (real Yarn, Verdaccio and tollgate-server)', () => {
  const scope = new Scope();
  let world: World;
  before(async () => {
    world = await startWorld(scope);
  });
  after(() => scope.close());

  test('a package signed by the allowed identity installs and its script runs', async () => {
    await world.publishSigned(world.privateRegistry, { name: '@acme/ui', version: '1.0.0' }, ACME_RELEASER);
    const project = await acmeProject(world, { dependencies: { '@acme/ui': '^1.0.0' } });
    const res = await project.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.match(res.output, /✓ @acme\/ui@1\.0\.0: signature by release-bot@acme\.example/);
    assert.ok(world.ran('@acme/ui', '1.0.0'), 'the postinstall ran');
    assert.match(project.read('.tollgate.evidence.json'), /"@acme\/ui@npm:1\.0\.0"/);
  });

  test('an unsigned package under a signing rule is blocked before anything runs', async () => {
    const pkg = await world.build({ name: '@acme/unsigned', version: '1.0.0' });
    await world.privateRegistry.publish(pkg);
    const project = await acmeProject(world, { dependencies: { '@acme/unsigned': '1.0.0' } });
    const res = await project.yarn(['install']);
    assert.equal(res.code, 1, res.output);
    assert.match(res.output, /@acme\/unsigned@1\.0\.0 .*denied by rule acme-internal/);
    assert.match(res.output, /evidence-missing/);
    assert.equal(world.ran('@acme/unsigned', '1.0.0'), false);
    assertNothingInstalled(project);
  });

  test('a package signed by another identity is blocked', async () => {
    await world.publishSigned(world.privateRegistry, { name: '@acme/forged', version: '1.0.0' }, OUTSIDER);
    const project = await acmeProject(world, { dependencies: { '@acme/forged': '1.0.0' } });
    const res = await project.yarn(['install']);
    assert.equal(res.code, 1, res.output);
    assert.match(res.output, /signer-mismatch/);
    assert.match(res.output, /mallory@evil\.example/);
    assert.equal(world.ran('@acme/forged', '1.0.0'), false);
    assertNothingInstalled(project);
  });

  test('a protected scope requested from the public registry is refused before download', async () => {
    await world.publishSigned(
      world.publicRegistry,
      { name: '@acme/lookalike', version: '1.0.0' },
      ACME_RELEASER,
    );
    const project = await acmeProject(world, {
      dependencies: { '@acme/lookalike': '^1.0.0' },
      acmeScopeRegistry: world.publicRegistry,
    });
    const res = await project.yarn(['install']);
    assert.equal(res.code, 1, res.output);
    assert.match(res.output, /dependency confusion blocked: @acme\/lookalike may only come from/);
    assertNothingInstalled(project);
  });

  test('a tarball replaced on the registry after signing is blocked on a fresh install', async () => {
    const original = await world.publishSigned(
      world.privateRegistry,
      { name: 'acme-swapped', version: '1.0.0' },
      ACME_RELEASER,
    );
    const evil = await world.build({ name: 'acme-swapped', version: '1.0.0', files: { 'evil.js': '1' } });
    assert.notEqual(evil.integrity, original.integrity);
    world.privateRegistry.replaceTarball('acme-swapped', '1.0.0', evil.tarball);
    const project = await acmeProject(world, {
      dependencies: { 'acme-swapped': '1.0.0' },
      defaultRegistry: world.privateRegistry,
    });
    const res = await project.yarn(['install']);
    assert.equal(res.code, 1, res.output);
    assert.match(res.output, /TARBALL_INTEGRITY_MISMATCH/);
    assert.equal(world.ran('acme-swapped', '1.0.0'), false);
    assertNothingInstalled(project);
  });
});
