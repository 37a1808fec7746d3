// Attack suite, part 1: names that are not what they claim. Dependency confusion (unscoped and
// scoped internal names), manifest confusion, and a guard switched off by removing the plugin.
// Each test is named after the attack it proves blocked.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { markerName } from '../harness/packages';
import { Scope } from '../harness/scope';
import type { TestIdentity } from '../harness/sigstore';
import type { YarnProject } from '../harness/yarn-project';
import { assertNeverRan, assertRefused, signWith, snapshot, withoutSlash } from './attacks/support';
import { ACME_RELEASER, acmeProject, startWorld, type World } from './fixtures';

const ATTACKER_CI: TestIdentity = {
  kind: 'workflow',
  repository: 'mallory/acme-config',
  workflow: '.github/workflows/release.yml',
  ref: 'refs/heads/main',
};
/** An identity from the company's own issuer whose subject only looks like the company's. */
const LOOKALIKE: TestIdentity = { kind: 'email', email: 'release-bot@acme.example.evil.example' };

/** The three ways the attacker's acme-*@99.0.0 can arrive: unsigned, or signed by someone else. */
const variants = [
  {
    name: 'acme-utils',
    how: 'unsigned',
    signer: null,
    reasons: [/evidence-missing: acme-internal requires signature, and no verified evidence was found/],
  },
  {
    name: 'acme-config',
    how: "signed with provenance by the attacker's own CI identity",
    signer: ATTACKER_CI,
    reasons: [/signer-mismatch: signed by an identity acme-internal does not list/, /mallory\/acme-config/],
  },
  {
    name: 'acme-logger',
    how: 'signed by the company issuer with a lookalike subject',
    signer: LOOKALIKE,
    reasons: [
      /signer-mismatch: signed by an identity acme-internal does not list/,
      /subject=release-bot@acme\.example\.evil\.example/,
    ],
  },
] as const;

describe('attacks on names: dependency and manifest confusion, the plugin removed', () => {
  const scope = new Scope();
  let world: World;
  before(async () => {
    world = await startWorld(scope);
    for (const v of variants) {
      // The company's real package, and the attacker's higher version of the same name, on the
      // public registry and (as a proxying private registry would cache it) on the private one too.
      await world.publishSigned(world.privateRegistry, { name: v.name, version: '1.0.0' }, ACME_RELEASER);
      const evil = await world.build({ name: v.name, version: '99.0.0', files: { 'evil.js': 'steal()' } });
      if (v.signer) {
        const bundle = await signWith(world.server, evil, v.signer, {
          kind: v.signer.kind === 'workflow' ? 'provenance' : 'publish',
          registry: world.publicRegistry.url,
        });
        await world.server.attach(evil.name, evil.version, bundle);
      }
      await world.publicRegistry.publish(evil);
      await world.privateRegistry.publish(evil);
    }
  });
  after(() => scope.close());

  const neverRan = (name: string, version: string) =>
    assertNeverRan(world.markers, markerName(name, version));

  test('control: the internal packages install from the private registry and their scripts run', async () => {
    const project = await acmeProject(world, {
      dependencies: Object.fromEntries(variants.map((v) => [v.name, '^1.0.0'])),
      defaultRegistry: world.privateRegistry,
    });
    const res = await project.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    for (const v of variants) {
      assert.match(res.output, new RegExp(`✓ ${v.name}@1\\.0\\.0: signature by release-bot@acme\\.example`));
      assert.ok(world.ran(v.name, '1.0.0'), `${v.name}'s postinstall ran`);
    }
  });

  for (const v of variants) {
    test(`dependency confusion from the public registry: ${v.name}@99.0.0 ${v.how} is refused before download`, async () => {
      const project = await acmeProject(world, {
        dependencies: { [v.name]: '>=1.0.0' },
        defaultRegistry: world.publicRegistry,
      });
      const before = snapshot(project);
      const res = await project.yarn(['install']);
      assertRefused(res, project, before, [
        new RegExp(
          `dependency confusion blocked: ${v.name} may only come from ${world.privateRegistry.url}.*but Yarn asked ${withoutSlash(world.publicRegistry.url)} for it\\. Nothing was downloaded`,
        ),
      ]);
      neverRan(v.name, '99.0.0');
    });

    test(`dependency confusion through a proxying private registry: yarn up to ${v.name}@99.0.0 ${v.how} is denied by the evidence`, async () => {
      const project = await acmeProject(world, {
        dependencies: { [v.name]: '1.0.0' },
        defaultRegistry: world.privateRegistry,
      });
      const first = await project.yarn(['install']);
      assert.equal(first.code, 0, first.output);
      const before = snapshot(project);
      const res = await project.yarn(['up', v.name]);
      assertRefused(res, project, before, [
        new RegExp(`${v.name}@99\\.0\\.0 from ${world.privateRegistry.url} denied by rule acme-internal`),
        ...v.reasons,
      ]);
      neverRan(v.name, '99.0.0');
      assert.match(project.read(`node_modules/${v.name}/package.json`), /"version": "1\.0\.0"/);
    });
  }

  test('dependency confusion of a scope: @acme/ui asked of the default registry (no npmScopes mapping) is refused before download', async () => {
    await world.publishSigned(world.privateRegistry, { name: '@acme/ui', version: '1.0.0' }, ACME_RELEASER);
    await world.publicRegistry.publish(
      await world.build({ name: '@acme/ui', version: '1.0.1', files: { 'evil.js': 'steal()' } }),
    );
    const project = await acmeProject(world, { dependencies: { '@acme/ui': '^1.0.0' } });
    project.mergeYarnrc({ npmScopes: undefined });
    assert.doesNotMatch(project.readYarnrc(), /npmScopes/);
    const before = snapshot(project);
    const res = await project.yarn(['install']);
    assertRefused(res, project, before, [
      new RegExp(
        `dependency confusion blocked: @acme/ui may only come from ${world.privateRegistry.url}.*but Yarn asked ${withoutSlash(world.publicRegistry.url)} for it`,
      ),
    ]);
    neverRan('@acme/ui', '1.0.1');
  });

  test('dependency confusion of a scope from the cache: the npmScopes mapping removed after install is caught by install and audit', async () => {
    await world.publishSigned(
      world.privateRegistry,
      { name: '@acme/cached-ui', version: '1.0.0' },
      ACME_RELEASER,
    );
    const project = await acmeProject(world, { dependencies: { '@acme/cached-ui': '1.0.0' } });
    const first = await project.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    // A change to .yarnrc.yml (say, in a pull request) points the scope at the default registry; the
    // project cache still holds the archive, so Yarn itself would never go to the network.
    project.mergeYarnrc({ npmScopes: undefined });
    rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
    rmSync(join(project.dir, '.yarn/install-state.gz'), { force: true });
    const before = snapshot(project);
    const res = await project.yarn(['install']);
    assertRefused(res, project, before, [
      new RegExp(`@acme/cached-ui@1\\.0\\.0 from ${world.publicRegistry.url} denied by rule acme-internal`),
      /registry-not-allowed/,
    ]);
    const audit = await project.yarn(['tollgate', 'audit']);
    assertRefused(audit, project, before, [/registry-not-allowed/]);
  });

  for (const confusion of [
    { field: 'name', overrides: { name: 'acme-innocent' }, pkg: 'acme-manifest-name' },
    { field: 'version', overrides: { version: '7.0.0' }, pkg: 'acme-manifest-version' },
  ]) {
    test(`manifest confusion: a signed tarball whose package.json has another ${confusion.field} is denied`, async () => {
      await world.publishSigned(
        world.privateRegistry,
        { name: confusion.pkg, version: '1.0.0', tarballManifestOverrides: confusion.overrides },
        ACME_RELEASER,
      );
      const project = await acmeProject(world, {
        dependencies: { [confusion.pkg]: '1.0.0' },
        defaultRegistry: world.privateRegistry,
      });
      const before = snapshot(project);
      const res = await project.yarn(['install']);
      assertRefused(res, project, before, [
        new RegExp(`${confusion.pkg}@1\\.0\\.0 .*denied by rule acme-internal`),
        /tampered-manifest: tampering \(MANIFEST_MISMATCH\)/,
      ]);
      neverRan(confusion.pkg, '1.0.0');
    });
  }

  test('guard removal: the plugin removed but its settings left in .yarnrc.yml makes Yarn refuse to run', async () => {
    await world.privateRegistry.publish(await world.build({ name: '@acme/unguarded', version: '1.0.0' }));
    const project = await acmeProject(world, { dependencies: { '@acme/unguarded': '1.0.0' } });
    const withoutPlugin = (yarn: YarnProject) => {
      yarn.mergeYarnrc({ plugins: undefined });
      rmSync(join(yarn.dir, '.yarn/plugins'), { recursive: true, force: true });
    };
    withoutPlugin(project);
    assert.doesNotMatch(project.readYarnrc(), /plugin-tollgate/);
    assert.match(project.readYarnrc(), /tollgatePolicyPath/);
    const before = snapshot(project);
    const res = await project.yarn(['install']);
    assertRefused(res, project, before, [/Unrecognized or legacy configuration settings found: tollgate/]);
    neverRan('@acme/unguarded', '1.0.0');

    // Only the bundle deleted, its plugins: entry kept: Yarn cannot load it and refuses as well.
    const halfRemoved = await acmeProject(world, { dependencies: { '@acme/unguarded': '1.0.0' } });
    rmSync(join(halfRemoved.dir, '.yarn/plugins'), { recursive: true, force: true });
    const halfBefore = snapshot(halfRemoved);
    const half = await halfRemoved.yarn(['install']);
    assertRefused(half, halfRemoved, halfBefore, [/plugin-tollgate/]);
    neverRan('@acme/unguarded', '1.0.0');
  });
});
