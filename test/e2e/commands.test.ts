import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { Scope } from '../harness/scope';
import type { TestIdentity } from '../harness/sigstore';
import { ACME_RELEASER, acmePolicy, acmeProject, startWorld, type World } from './fixtures';

const releaseWorkflow = (repository: string): TestIdentity => ({
  kind: 'workflow',
  repository,
  workflow: '.github/workflows/release.yml',
  ref: 'refs/heads/main',
});

describe('yarn tollgate commands (real Yarn, Verdaccio and tollgate-server)', () => {
  const scope = new Scope();
  let world: World;
  before(async () => {
    world = await startWorld(scope);
    await world.publishSigned(world.privateRegistry, { name: '@acme/ui', version: '1.0.0' }, ACME_RELEASER);
    await world.privateRegistry.publish(await world.build({ name: '@acme/unsigned', version: '1.0.0' }));
    await world.publicRegistry.publish(await world.build({ name: 'left-pad', version: '1.3.0' }));
  });
  after(() => scope.close());

  test('policy check: a valid policy passes, an invalid one is located by file:line:column', async () => {
    const project = await acmeProject(world, { dependencies: {} });
    const ok = await project.yarn(['tollgate', 'policy', 'check']);
    assert.equal(ok.code, 0, ok.output);
    assert.match(ok.output, /\.tollgate\.yml: valid \(1 rules/);

    project.write('.tollgate.yml', 'version: 1\nrules:\n  - packages: [x]\n    requier: signature\n');
    const bad = await project.yarn(['tollgate', 'policy', 'check']);
    assert.equal(bad.code, 2, `an invalid policy is a configuration error:\n${bad.output}`);
    assert.match(bad.output, /\.tollgate\.yml:4:5: error/);
    assert.match(bad.output, /require/, 'a did-you-mean names the right key');

    const missing = await project.yarn(['tollgate', 'policy', 'check', 'nope.yml']);
    assert.equal(missing.code, 2, missing.output);
    assert.match(missing.output, /cannot read nope\.yml \(ENOENT\)/);
  });

  test('audit: exit 0 on a clean lockfile, 1 with violations, in text, json, sarif and github formats', async () => {
    const project = await acmeProject(world, {
      dependencies: { '@acme/ui': '1.0.0', '@acme/unsigned': '1.0.0', 'left-pad': '1.3.0' },
      policy: acmePolicy(world, { mode: 'warn' }),
    });
    const install = await project.yarn(['install']);
    assert.equal(install.code, 0, install.output);
    assert.match(install.output, /YN9102: .*@acme\/unsigned@1\.0\.0 .*violates the policy \(warn mode\)/);

    // Enforce from now on: the lockfile holds a package the policy denies.
    project.mergeYarnrc({ tollgateMode: 'enforce' });
    const text = await project.yarn(['tollgate', 'audit']);
    assert.equal(text.code, 1, text.output);
    assert.match(text.output, /@acme\/unsigned@1\.0\.0 .*denied by rule acme-internal/);
    assert.match(text.output, /Tollgate audit: 1 verified, 0 warned, 1 denied, 1 skipped/);

    const json = await project.yarn(['tollgate', 'audit', '--format', 'json']);
    assert.equal(json.code, 1);
    const doc = JSON.parse(json.stdout);
    assert.deepEqual(doc.summary, { verified: 1, warned: 0, denied: 1, skipped: 1 });
    const denied = doc.decisions.find((d: { verdict: string }) => d.verdict === 'deny');
    assert.equal(denied.package.name, '@acme/unsigned');

    const sarif = JSON.parse((await project.yarn(['tollgate', 'audit', '--format', 'sarif'])).stdout);
    assert.equal(sarif.version, '2.1.0');
    const result = sarif.runs[0].results[0];
    assert.equal(result.ruleId, 'evidence-missing');
    const location = result.locations[0].physicalLocation;
    assert.equal(location.artifactLocation.uri, 'yarn.lock');
    const lockLines = project.read('yarn.lock').split('\n');
    assert.match(lockLines[location.region.startLine - 1]!, /^"@acme\/unsigned@npm:1\.0\.0":$/);

    const github = await project.yarn(['tollgate', 'audit', '--format', 'github']);
    assert.match(
      github.stdout,
      /^::error file=yarn\.lock,line=\d+,title=Tollgate%3A @acme\/unsigned@1\.0\.0 evidence-missing::/m,
    );

    // Offline: only the evidence file and caches; the denied package was never recorded.
    const offline = await project.yarn(['tollgate', 'audit', '--offline']);
    assert.equal(offline.code, 1, offline.output);
    assert.match(offline.output, /@acme\/ui@1\.0\.0: signature by release-bot@acme\.example/);
  });

  test('audit --offline judges packages installed only on other platforms from their records', async () => {
    // Yarn records no checksum for an optional package this platform does not install.
    await world.publishSigned(
      world.privateRegistry,
      { name: '@acme/native-android', version: '1.0.0', manifestFields: { os: ['android'] } },
      ACME_RELEASER,
    );
    await world.publishSigned(
      world.privateRegistry,
      { name: '@acme/native', version: '1.0.0', optionalDependencies: { '@acme/native-android': '1.0.0' } },
      ACME_RELEASER,
    );
    // Its bytes never reach this machine: not Yarn's download, not Tollgate's (a swapped tarball here
    // would be caught by the install on the platform that installs it, where the bytes are fetched).
    world.privateRegistry.replaceTarball('@acme/native-android', '1.0.0', Buffer.from('not a tarball'));
    const project = await acmeProject(world, { dependencies: { '@acme/native': '1.0.0' } });
    const install = await project.yarn(['install']);
    assert.equal(install.code, 0, install.output);
    assert.match(install.output, /✓ @acme\/native-android@1\.0\.0: signature by release-bot@acme\.example/);
    assert.doesNotMatch(
      project.read('yarn.lock').split('"@acme/native-android@npm:1.0.0":')[1]!.split('\n\n')[0]!,
      /checksum:/,
    );
    const offline = await project.yarn(['tollgate', 'audit', '--offline']);
    assert.equal(offline.code, 0, offline.output);
    assert.match(offline.output, /@acme\/native-android@1\.0\.0: signature by release-bot@acme\.example/);
  });

  test('audit without a lockfile is a usage error', async () => {
    const project = await acmeProject(world, { dependencies: {} });
    project.write('yarn.lock', '');
    const res = await project.yarn(['tollgate', 'audit']);
    assert.equal(res.code, 0, 'an empty lockfile has nothing to deny');
    const missing = await acmeProject(world, { dependencies: {} });
    rmSync(join(missing.dir, 'yarn.lock'));
    const res2 = await missing.yarn(['tollgate', 'audit']);
    assert.equal(res2.code, 2, res2.output);
    assert.match(res2.output, /no yarn\.lock at/);
  });

  test('audit: a malformed yarn.lock and an unreachable attestation store are clear errors, not stack traces', async () => {
    const project = await acmeProject(world, { dependencies: { '@acme/ui': '1.0.0' } });
    assert.equal((await project.yarn(['install'])).code, 0);
    const lockfile = project.read('yarn.lock');

    project.write('yarn.lock', `${lockfile}\n"broken@npm:1.0.0":\n  version: [unclosed\n`);
    const malformed = await project.yarn(['tollgate', 'audit']);
    assert.notEqual(malformed.code, 0, malformed.output);
    assert.doesNotMatch(malformed.output, /^\s+at /m, 'no stack trace');
    assert.match(malformed.output, /yarn\.lock:\d+:\d+: /);
    assert.equal(malformed.code, 2, 'a configuration error');
    project.write('yarn.lock', lockfile);

    // A store that does not answer can never look like "no evidence": the package is denied, named.
    project.mergeYarnrc({ tollgateAttestationStores: ['http://127.0.0.1:9'] });
    rmSync(join(project.dir, '.tollgate.evidence.json'));
    const unreachable = await project.yarn(['tollgate', 'audit']);
    assert.equal(unreachable.code, 1, unreachable.output);
    // Said once, with the setting to fix; the package listed under it, not in a block of its own.
    assert.match(
      unreachable.output,
      /YN9107: Tollgate: http:\/\/127\.0\.0\.1:9 did not answer \(.*ECONNREFUSED/,
    );
    assert.match(unreachable.output, /fix: tollgateAttestationStores in \.yarnrc\.yml/);
    assert.match(unreachable.output, /affects 1 package:\n.*@acme\/ui@1\.0\.0/);
    const json = await project.yarn(['tollgate', 'audit', '--format', 'json']);
    assert.match(
      json.stdout,
      /EVIDENCE_UNAVAILABLE.*http:\/\/127\.0\.0\.1:9\//,
      'machine output keeps every package',
    );
  });

  test('explain: the deciding rule, evidence and identity; unknown packages are a clear error', async () => {
    const project = await acmeProject(world, { dependencies: { '@acme/ui': '1.0.0' } });
    assert.equal((await project.yarn(['install'])).code, 0);
    const res = await project.yarn(['tollgate', 'explain', '@acme/ui']);
    assert.equal(res.code, 0, res.output);
    assert.match(res.output, /ALLOW @acme\/ui@1\.0\.0/);
    assert.match(res.output, /rule: acme-internal at \.tollgate\.yml:\d+:\d+/);
    assert.match(res.output, /identity: release-bot@acme\.example via http:\/\/127\.0\.0\.1:\d+\/oidc/);
    assert.match(res.output, /trust root local/);

    const unknown = await project.yarn(['tollgate', 'explain', 'acme-nothing']);
    assert.equal(unknown.code, 2, unknown.output);
    assert.match(unknown.output, /acme-nothing is not in yarn\.lock/);
    assert.match(unknown.output, /acme-internal .* would decide: requires signature, only from/);

    const invalid = await project.yarn(['tollgate', 'explain', 'not a name']);
    assert.equal(invalid.code, 2);
    assert.match(invalid.output, /is not a package name/);
  });

  test('approve: a signer change is denied until approved with a reason', async () => {
    await world.publishSigned(
      world.privateRegistry,
      { name: 'acme-lib', version: '1.0.0' },
      releaseWorkflow('acme/lib'),
    );
    const policy = acmePolicy(world);
    policy.rules.push({
      name: 'acme-lib',
      packages: ['acme-lib'],
      registries: [world.privateRegistry.url],
      require: 'signature',
      trust: ['local'],
      signers: [
        { issuer: world.server.issuer, repository: 'github.com/acme/lib' },
        { issuer: world.server.issuer, repository: 'github.com/acme/fork' },
      ],
    } as never);
    const project = await acmeProject(world, {
      dependencies: { 'acme-lib': '^1.0.0' },
      defaultRegistry: world.privateRegistry,
      policy,
    });
    const first = await project.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    assert.match(project.read('.tollgate.pins.json'), /acme\/lib/);

    await world.publishSigned(
      world.privateRegistry,
      { name: 'acme-lib', version: '1.1.0' },
      releaseWorkflow('acme/fork'),
    );
    const lockBefore = project.read('yarn.lock');
    const up = await project.yarn(['up', 'acme-lib@^1.1.0']);
    assert.equal(up.code, 1, up.output);
    assert.match(up.output, /identity-changed/);
    assert.match(up.output, /yarn tollgate approve acme-lib@1\.1\.0/);
    assert.equal(project.read('yarn.lock'), lockBefore);

    const noReason = await project.yarn(['tollgate', 'approve', 'acme-lib']);
    assert.notEqual(noReason.code, 0);

    // approve judges what yarn.lock holds: record the new version first, gate off for that one step.
    const lockOnly = await project.yarn(['up', 'acme-lib@^1.1.0', '--mode=update-lockfile'], {
      env: { YARN_TOLLGATE_MODE: 'off' },
    });
    assert.equal(lockOnly.code, 0, lockOnly.output);
    const approve = await project.yarn([
      'tollgate',
      'approve',
      'acme-lib@1.1.0',
      '--reason',
      'moved to the fork (SEC-1)',
    ]);
    assert.equal(approve.code, 0, approve.output);
    assert.match(project.read('.tollgate.pins.json'), /moved to the fork \(SEC-1\)/);
    const again = await project.yarn(['install']);
    assert.equal(again.code, 0, again.output);
  });

  test('init: binds private scopes and internal names, pins current signers, refuses to overwrite', async () => {
    await world.publishSigned(world.privateRegistry, { name: 'acme-utils', version: '1.0.0' }, ACME_RELEASER);
    const project = await acmeProject(world, {
      dependencies: { '@acme/ui': '1.0.0', 'left-pad': '1.3.0' },
      policy: { version: 1, mode: 'off' },
    });
    assert.equal((await project.yarn(['install'])).code, 0);
    project.write('.tollgate.yml', '');
    const removed = project.read('.tollgate.yml');
    assert.equal(removed, '');

    const refused = await project.yarn(['tollgate', 'init']);
    assert.equal(refused.code, 2, refused.output);
    assert.match(refused.output, /already exists; pass --force/);

    const init = await project.yarn([
      'tollgate',
      'init',
      '--force',
      '--trusted-root',
      'local=local-trusted-root.json',
      '--internal',
      'acme-*',
    ]);
    assert.equal(init.code, 0, init.output);
    assert.match(
      init.output,
      /@acme: only from http:\/\/127\.0\.0\.1:\d+\/, signature required by release-bot@acme\.example/,
    );
    const policy = parse(project.read('.tollgate.yml'));
    const scopeRule = policy.rules.find((r: { packages: string[] }) => r.packages.includes('@acme/*'));
    assert.deepEqual(scopeRule.registries, [world.privateRegistry.url]);
    assert.equal(scopeRule.require, 'signature');
    assert.deepEqual(scopeRule.signers, [
      { issuer: world.server.issuer, subject: 'release-bot@acme.example' },
    ]);
    assert.equal(policy.defaults.require, 'none');
    // Install scripts there today: approved for who signs them, or (unsigned) for the exact tarball.
    assert.equal(policy.scripts.default, 'deny');
    const allowance = (name: string) =>
      policy.scripts.allow.find((a: { package: string }) => a.package === name);
    assert.deepEqual(allowance('@acme/ui').signers, [
      { issuer: world.server.issuer, subject: 'release-bot@acme.example' },
    ]);
    assert.match(allowance('left-pad').integrity, /^sha512-[A-Za-z0-9+/]{86}==$/);
    assert.equal(allowance('left-pad').versions, undefined, 'the digest names the tarball');
    assert.match(
      init.output,
      /left-pad: its postinstall may run, for this exact tarball only \(it is unsigned\)/,
    );

    const check = await project.yarn(['tollgate', 'policy', 'check']);
    assert.equal(check.code, 0, check.output);
    const install = await project.yarn(['install']);
    assert.equal(install.code, 0, install.output);
    assert.match(install.output, /✓ @acme\/ui@1\.0\.0: signature/);
    assert.doesNotMatch(install.output, /did not run/, 'no build is withheld right after init');
    assert.match(install.output, /left-pad@1\.3\.0 .*runs its postinstall on a digest approval/);
    assert.ok(stringify(policy).length > 0);
  });
});
