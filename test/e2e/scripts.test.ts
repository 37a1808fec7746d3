// Install scripts approved by who signs them, not by name (real Yarn, Verdaccio, tollgate-server).
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { buildPackage } from '../harness/packages';
import { tempDir } from '../harness/paths';
import { Scope } from '../harness/scope';
import type { TestIdentity } from '../harness/sigstore';
import { createYarnProject, type YarnProject } from '../harness/yarn-project';
import { startWorld, type World } from './fixtures';

const release = (repository: string, version: string): TestIdentity => ({
  kind: 'workflow',
  repository,
  workflow: '.github/workflows/release.yml',
  ref: `refs/tags/v${version}`,
  repositoryId: repository === 'acme/native' ? '4711' : '666',
  ownerId: repository === 'acme/native' ? '42' : '13',
});

function scriptsPolicy(scripts: Record<string, unknown>, mode = 'enforce') {
  return {
    version: 1,
    mode,
    trustRoots: { local: { file: 'local-trusted-root.json' } },
    // Continuity off: the scripts section alone decides what runs (continuity would also deny an
    // unsigned or foreign release of a package pinned to an identity).
    defaults: { require: 'none', trust: ['local'], continuity: false },
    scripts,
  };
}

async function project(
  world: World,
  dependencies: Record<string, string>,
  scripts: Record<string, unknown>,
  extra: { nodeLinker?: 'pnp' | 'node-modules'; mode?: string } = {},
): Promise<YarnProject> {
  return createYarnProject({
    registry: world.publicRegistry.url,
    dependencies,
    withPlugin: true,
    ...(extra.nodeLinker ? { nodeLinker: extra.nodeLinker } : {}),
    yarnrc: { tollgatePolicyPath: '.tollgate.yml', tollgateAttestationStores: [world.server.url] },
    files: {
      '.tollgate.yml': stringify(scriptsPolicy(scripts, extra.mode)),
      'local-trusted-root.json': world.server.trustedRootJson,
    },
  });
}

function setDependency(p: YarnProject, name: string, range: string) {
  const manifest = JSON.parse(p.read('package.json'));
  manifest.dependencies[name] = range;
  p.write('package.json', `${JSON.stringify(manifest, null, 2)}\n`);
}

function installedVersion(p: YarnProject, name: string): string | undefined {
  const path = `node_modules/${name}/package.json`;
  return p.exists(path) ? JSON.parse(p.read(path)).version : undefined;
}

describe('install scripts approved by who signs them', () => {
  const scope = new Scope();
  let world: World;
  before(async () => {
    world = await startWorld(scope);
  });
  after(() => scope.close());

  test('an approval bound to the release identity runs the next version too, and never an unsigned or foreign one', async () => {
    await world.publishSigned(
      world.publicRegistry,
      { name: 'native-thing', version: '1.0.0' },
      release('acme/native', '1.0.0'),
    );
    const approval = {
      package: 'native-thing',
      signers: [
        {
          issuer: world.server.issuer,
          repository: 'github.com/acme/native',
          workflow: '.github/workflows/release.yml',
        },
      ],
      reason: 'builds its addon; reviewed by the platform team',
    };
    const p = await project(world, { 'native-thing': '1.0.0' }, { allow: [approval] });
    const policyBefore = p.read('.tollgate.yml');

    const first = await p.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    assert.ok(world.ran('native-thing', '1.0.0'), 'the approved release ran its postinstall');

    // The next release from the same workflow (a new tag): no new approval.
    await world.publishSigned(
      world.publicRegistry,
      { name: 'native-thing', version: '1.1.0' },
      release('acme/native', '1.1.0'),
    );
    setDependency(p, 'native-thing', '1.1.0');
    const next = await p.yarn(['install']);
    assert.equal(next.code, 0, next.output);
    assert.ok(
      world.ran('native-thing', '1.1.0'),
      'the next release from the same identity ran its postinstall',
    );
    assert.equal(p.read('.tollgate.yml'), policyBefore, 'no new approval was written');

    // Unsigned, under the same name: installed, its script withheld, the install fails (enforce).
    const unsigned = await world.build({ name: 'native-thing', version: '1.2.0' });
    await world.publicRegistry.publish(unsigned);
    setDependency(p, 'native-thing', '1.2.0');
    const bare = await p.yarn(['install']);
    assert.equal(bare.code, 1, bare.output);
    assert.equal(
      world.ran('native-thing', '1.2.0'),
      false,
      'the unsigned release did not run its postinstall',
    );
    assert.match(
      bare.output,
      /YN9109: .*native-thing@1\.2\.0 .*its postinstall did not run: it carries no verified signature, and scripts\.allow\[0\] approves only the identities it lists/,
    );
    assert.match(bare.output, /yarn tollgate scripts approve native-thing --digest --reason/);
    assert.equal(installedVersion(p, 'native-thing'), '1.2.0', 'the package itself is installed');

    // Yarn did not record the build as done: the next install withholds it again.
    const again = await p.yarn(['install']);
    assert.equal(again.code, 1, again.output);
    assert.match(again.output, /YN9109: .*native-thing@1\.2\.0/);
    assert.equal(world.ran('native-thing', '1.2.0'), false);

    // Signed by another repository under the same name: withheld, and the output says where it differs.
    await world.publishSigned(
      world.publicRegistry,
      { name: 'native-thing', version: '1.3.0' },
      release('mallory/native', '1.3.0'),
    );
    setDependency(p, 'native-thing', '1.3.0');
    const foreign = await p.yarn(['install']);
    assert.equal(foreign.code, 1, foreign.output);
    assert.equal(
      world.ran('native-thing', '1.3.0'),
      false,
      'the foreign release did not run its postinstall',
    );
    assert.match(foreign.output, /native-thing@1\.3\.0 .*does not approve \(differs in repository/);
    assert.match(foreign.output, /yarn tollgate scripts approve native-thing --reason/);

    // `yarn tollgate scripts` says the same.
    const listed = await p.yarn(['tollgate', 'scripts']);
    assert.equal(listed.code, 1, listed.output);
    assert.match(listed.output, /✗ native-thing@1\.3\.0.*: postinstall/);
    assert.match(listed.output, /signed by: https:\/\/github\.com\/mallory\/native\//);
    assert.match(listed.output, /WITHHELD \(enforce\)/);
  });

  test('`scripts approve` records the identity that signs the package now, and that approval runs it', async () => {
    const identity = release('acme/tool', '2.0.0');
    await world.publishSigned(world.publicRegistry, { name: 'approve-me', version: '2.0.0' }, identity);
    const p = await project(world, { 'approve-me': '2.0.0' }, {});
    const withheld = await p.yarn(['install']);
    assert.equal(withheld.code, 1, withheld.output);
    assert.equal(world.ran('approve-me', '2.0.0'), false);
    assert.match(withheld.output, /no scripts\.allow entry names it, and scripts\.default is deny/);

    const approved = await p.yarn([
      'tollgate',
      'scripts',
      'approve',
      'approve-me',
      '--reason',
      'reviewed (SEC-7)',
    ]);
    assert.equal(approved.code, 0, approved.output);
    assert.match(approved.output, /approving approve-me@2\.0\.0 and every version signed by/);
    const policy = parse(p.read('.tollgate.yml'));
    assert.deepEqual(policy.scripts.allow, [
      {
        package: 'approve-me',
        signers: [
          {
            issuer: world.server.issuer,
            repository: 'github.com/acme/tool',
            repositoryId: '666',
            ownerId: '13',
            workflow: '.github/workflows/release.yml',
            ref: { glob: 'refs/tags/*' },
            runner: 'github-hosted',
          },
        ],
        reason: 'reviewed (SEC-7)',
      },
    ]);

    const after = await p.yarn(['install']);
    assert.equal(after.code, 0, after.output);
    assert.ok(world.ran('approve-me', '2.0.0'), 'the approved build ran on the next install');

    // An unsigned package has no identity to approve: only its digest, and only when asked.
    const plain = await world.build({ name: 'plain-native', version: '1.0.0' });
    await world.publicRegistry.publish(plain);
    setDependency(p, 'plain-native', '1.0.0');
    assert.equal((await p.yarn(['install'])).code, 1);
    const refused = await p.yarn(['tollgate', 'scripts', 'approve', 'plain-native', '--reason', 'reviewed']);
    assert.equal(refused.code, 2, refused.output);
    assert.match(
      refused.output,
      /carries no verified signature or provenance, so there is no identity to approve; pass --digest/,
    );
    const byDigest = await p.yarn([
      'tollgate',
      'scripts',
      'approve',
      'plain-native',
      '--digest',
      '--reason',
      'reviewed',
    ]);
    assert.equal(byDigest.code, 0, byDigest.output);
    const entry = parse(p.read('.tollgate.yml')).scripts.allow[1];
    assert.deepEqual(entry, { package: 'plain-native', integrity: plain.integrity, reason: 'reviewed' });
    const digestRun = await p.yarn(['install']);
    assert.equal(digestRun.code, 0, digestRun.output);
    assert.ok(world.ran('plain-native', '1.0.0'));
    assert.match(digestRun.output, /plain-native@1\.0\.0.*runs its postinstall on a digest approval/);
  });

  test('a default-deny project installs without running any unapproved script; warn mode reports and succeeds', async () => {
    const a = await world.build({ name: 'deny-a', version: '1.0.0' });
    await world.publicRegistry.publish(a);
    await world.publishSigned(
      world.publicRegistry,
      { name: 'deny-b', version: '1.0.0' },
      release('acme/b', '1.0.0'),
    );
    const p = await project(world, { 'deny-a': '1.0.0', 'deny-b': '1.0.0' }, { mode: 'warn' });
    const res = await p.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.equal(world.ran('deny-a', '1.0.0'), false);
    assert.equal(world.ran('deny-b', '1.0.0'), false);
    assert.match(res.output, /YN9109: .*deny-a@1\.0\.0 .*its postinstall did not run/);
    assert.match(res.output, /YN9109: .*deny-b@1\.0\.0 .*its postinstall did not run/);
    assert.match(res.output, /the build of 2 package\(s\) was withheld \(scripts mode warn\)/);
    assert.equal(installedVersion(p, 'deny-a'), '1.0.0');
    assert.equal(installedVersion(p, 'deny-b'), '1.0.0');

    // allow-verified: the signed one runs, the unsigned one still does not.
    const policy = parse(p.read('.tollgate.yml'));
    policy.scripts = { default: 'allow-verified' };
    p.write('.tollgate.yml', stringify(policy));
    const verified = await p.yarn(['install']);
    assert.equal(verified.code, 1, verified.output);
    assert.ok(world.ran('deny-b', '1.0.0'), 'the signed package ran under allow-verified');
    assert.equal(world.ran('deny-a', '1.0.0'), false);
  });

  test('a binding.gyp-only package is covered: node-gyp runs only once its signer is approved', async () => {
    // Yarn runs `node-gyp rebuild` for a binding.gyp package without an install script, through no
    // script hook, with the node-gyp binary of the top-level project: this one leaves a marker.
    const gypMarkers = tempDir('node-gyp-ran');
    const nodeGyp = await buildPackage({
      name: 'node-gyp',
      version: '10.0.0',
      manifestFields: { bin: { 'node-gyp': 'bin.js' } },
      files: {
        'bin.js':
          `#!/usr/bin/env node\nconst m = require(require('path').join(process.cwd(), 'package.json'));\n` +
          `require('fs').writeFileSync(require('path').join(${JSON.stringify(gypMarkers)}, m.name + '@' + m.version), 'ran');\n`,
      },
    });
    await world.publicRegistry.publish(nodeGyp);
    const gyp = {
      'binding.gyp': '{ "targets": [ { "target_name": "addon", "sources": [ "addon.cc" ] } ] }\n',
    };

    // Built without the world's postinstall: node-gyp is its only build step.
    const pkg = await buildPackage({ name: 'gyp-only', version: '1.0.0', files: gyp });
    const bundle = await world.server.signPackage(pkg, release('acme/native', '1.0.0'), {
      registry: world.publicRegistry.url,
    });
    await world.server.attach(pkg.name, pkg.version, bundle);
    await world.publicRegistry.publish(pkg);
    const p = await project(world, { 'gyp-only': '1.0.0', 'node-gyp': '10.0.0' }, {});
    const withheld = await p.yarn(['install']);
    assert.equal(withheld.code, 1, withheld.output);
    assert.match(withheld.output, /gyp-only@1\.0\.0 .*its node-gyp rebuild did not run/);
    assert.deepEqual(readdirSync(gypMarkers), [], 'node-gyp did not run');
    assert.doesNotMatch(
      withheld.output,
      /gyp-only@npm:1\.0\.0 must be built/,
      'Yarn did not even start the build',
    );

    const approved = await p.yarn(['tollgate', 'scripts', 'approve', 'gyp-only', '--reason', 'reviewed']);
    assert.equal(approved.code, 0, approved.output);
    const built = await p.yarn(['install']);
    assert.equal(built.code, 0, built.output);
    assert.ok(existsSync(join(gypMarkers, 'gyp-only@1.0.0')), 'node-gyp ran once approved');
  });

  test('the pnp linker withholds the same builds', async () => {
    await world.publishSigned(
      world.publicRegistry,
      { name: 'pnp-native', version: '1.0.0' },
      release('acme/pnp', '1.0.0'),
    );
    const plain = await world.build({ name: 'pnp-plain', version: '1.0.0' });
    await world.publicRegistry.publish(plain);
    const p = await project(
      world,
      { 'pnp-native': '1.0.0', 'pnp-plain': '1.0.0' },
      {
        allow: [
          {
            package: 'pnp-native',
            signers: [{ issuer: world.server.issuer, repository: 'github.com/acme/pnp' }],
            reason: 'reviewed',
          },
        ],
      },
      { nodeLinker: 'pnp' },
    );
    const res = await p.yarn(['install']);
    assert.equal(res.code, 1, res.output);
    assert.ok(world.ran('pnp-native', '1.0.0'), 'the approved build ran under pnp');
    assert.equal(world.ran('pnp-plain', '1.0.0'), false, 'the unapproved build did not');
    assert.match(res.output, /YN9109: .*pnp-plain@1\.0\.0 .*its postinstall did not run/);
  });

  test("Yarn's own switches still hold: a build Yarn would not run is not run, and not reported", async () => {
    await world.publishSigned(
      world.publicRegistry,
      { name: 'yarn-off', version: '1.0.0' },
      release('acme/off', '1.0.0'),
    );
    const p = await project(
      world,
      { 'yarn-off': '1.0.0' },
      {
        allow: [
          {
            package: 'yarn-off',
            signers: [{ issuer: world.server.issuer, repository: 'github.com/acme/off' }],
            reason: 'reviewed',
          },
        ],
      },
    );
    p.mergeYarnrc({ enableScripts: false });
    const res = await p.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.equal(world.ran('yarn-off', '1.0.0'), false, 'Tollgate never runs what Yarn would not');
    assert.doesNotMatch(res.output, /YN9109/);
  });

  test('dependenciesMeta built: true and `yarn rebuild` do not run a withheld build', async () => {
    const pkg = await world.build({ name: 'forced-build', version: '1.0.0' });
    await world.publicRegistry.publish(pkg);
    const p = await project(world, { 'forced-build': '1.0.0' }, {});
    const manifest = JSON.parse(p.read('package.json'));
    manifest.dependenciesMeta = { 'forced-build': { built: true } };
    p.write('package.json', `${JSON.stringify(manifest, null, 2)}\n`);
    p.mergeYarnrc({ enableScripts: false });
    const res = await p.yarn(['install']);
    assert.equal(res.code, 1, res.output);
    assert.match(res.output, /YN9109: .*forced-build@1\.0\.0 .*its postinstall did not run/);
    assert.equal(world.ran('forced-build', '1.0.0'), false);
    const rebuild = await p.yarn(['rebuild']);
    assert.equal(rebuild.code, 1, rebuild.output);
    assert.equal(world.ran('forced-build', '1.0.0'), false, '`yarn rebuild` goes through the gate too');
  });
});
