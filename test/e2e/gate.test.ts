import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Scope } from '../harness/scope';
import { ACME_RELEASER, acmePolicy, acmeProject, OUTSIDER, startWorld, type World } from './fixtures';

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

    // --json carries the same facts, one decision per package.
    const json = await project.yarn(['install', '--json']);
    assert.equal(json.code, 1);
    const decisions = json.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === 'tollgate-decision');
    assert.equal(decisions.length, 1);
    assert.equal(decisions[0].verdict, 'deny');
    assert.equal(decisions[0].rule.id, 'acme-internal');
    assert.deepEqual(
      decisions[0].reasons
        .filter((r: { severity: string }) => r.severity === 'violation')
        .map((r: { code: string }) => r.code),
      ['evidence-missing'],
    );
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

  test('a protected name from a file: source is denied before Yarn reads it; an unprotected one is allowed when the policy lists the source', async () => {
    const pkg = await world.build({ name: '@acme/vendored', version: '1.0.0' });
    const project = await acmeProject(world, {
      dependencies: { '@acme/vendored': 'file:./vendor/acme-vendored.tgz' },
    });
    project.write('vendor/acme-vendored.tgz', '');
    writeFileSync(join(project.dir, 'vendor/acme-vendored.tgz'), pkg.tarball);
    const res = await project.yarn(['install']);
    assert.equal(res.code, 1, res.output);
    assert.match(
      res.output,
      /refused before resolving: @acme\/vendored \(file: \.\/vendor\/acme-vendored\.tgz\) denied by rule acme-internal/,
    );
    assert.match(res.output, /registry-not-allowed|source-not-allowed/);
    assert.equal(world.ran('@acme/vendored', '1.0.0'), false);
    assertNothingInstalled(project);

    const other = await world.build({ name: 'vendored-tool', version: '1.0.0' });
    const policy = acmePolicy(world);
    policy.rules.push({
      name: 'vendored',
      packages: ['vendored-tool'],
      sources: ['file'],
      require: 'none',
    } as never);
    const allowed = await acmeProject(world, {
      dependencies: { 'vendored-tool': 'file:./vendor/tool.tgz' },
      policy,
    });
    allowed.write('vendor/tool.tgz', '');
    writeFileSync(join(allowed.dir, 'vendor/tool.tgz'), other.tarball);
    const ok = await allowed.yarn(['install']);
    assert.equal(ok.code, 0, ok.output);
  });

  test('yarn add of an unsigned protected package leaves package.json and yarn.lock untouched', async () => {
    await world.privateRegistry.publish(await world.build({ name: '@acme/added', version: '1.0.0' }));
    const project = await acmeProject(world, { dependencies: {} });
    const manifest = project.read('package.json');
    const res = await project.yarn(['add', '@acme/added@1.0.0']);
    assert.equal(res.code, 1, res.output);
    assert.match(res.output, /@acme\/added@1\.0\.0 .*denied by rule acme-internal/);
    assert.equal(project.read('package.json'), manifest);
    assert.equal(world.ran('@acme/added', '1.0.0'), false);
    assertNothingInstalled(project);
  });

  test('warn mode installs and prints the violations; off mode is silent', async () => {
    await world.privateRegistry.publish(await world.build({ name: '@acme/warned', version: '1.0.0' }));
    const warn = await acmeProject(world, {
      dependencies: { '@acme/warned': '1.0.0' },
      policy: acmePolicy(world, { mode: 'warn' }),
    });
    const res = await warn.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.match(res.output, /YN9102: .*@acme\/warned@1\.0\.0 .*violates the policy \(warn mode\)/);
    assert.match(res.output, /evidence-missing/);
    assert.match(res.output, /0 denied/);

    const off = await acmeProject(world, {
      dependencies: { '@acme/warned': '1.0.0' },
      policy: acmePolicy(world, { mode: 'off' }),
    });
    const quiet = await off.yarn(['install']);
    assert.equal(quiet.code, 0, quiet.output);
    assert.doesNotMatch(quiet.output, /YN91\d\d/);
    assert.ok(world.ran('@acme/warned', '1.0.0'));
  });

  test('a warm cache with no network, and the committed zero-install cache, are still verified', async () => {
    await world.publishSigned(
      world.privateRegistry,
      { name: '@acme/cached', version: '1.0.0' },
      ACME_RELEASER,
    );
    const project = await acmeProject(world, { dependencies: { '@acme/cached': '1.0.0' } });
    const first = await project.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    assert.ok(project.exists('.tollgate.bundles'), 'the verified bundle is stored beside the evidence file');

    // What a fresh clone of a zero-install repository has: the committed cache, lockfile and evidence.
    rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
    rmSync(project.globalFolder, { recursive: true, force: true });
    rmSync(join(project.dir, '.yarn/install-state.gz'), { force: true });
    project.mergeYarnrc({ tollgateOffline: true, enableNetwork: false });
    const offline = await project.yarn(['install']);
    assert.equal(offline.code, 0, offline.output);
    assert.match(offline.output, /✓ @acme\/cached@1\.0\.0: signature by release-bot@acme\.example/);

    // The same offline install without the recorded evidence cannot tie the cache to anything: denied.
    rmSync(join(project.dir, '.tollgate.evidence.json'));
    rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
    rmSync(join(project.dir, '.yarn/install-state.gz'), { force: true });
    const unbound = await project.yarn(['install']);
    assert.equal(unbound.code, 1, unbound.output);
    assert.match(unbound.output, /TARBALL_UNBOUND/);
  });

  test('a second install with nothing changed is judged from the recorded evidence, without the stores', async () => {
    await world.publishSigned(
      world.privateRegistry,
      { name: '@acme/recorded', version: '1.0.0' },
      ACME_RELEASER,
    );
    const project = await acmeProject(world, { dependencies: { '@acme/recorded': '1.0.0' } });
    assert.equal((await project.yarn(['install'])).code, 0);
    // An attestation store that no longer answers: only the record can vouch for the package now.
    project.mergeYarnrc({ tollgateAttestationStores: ['http://127.0.0.1:9'] });
    const again = await project.yarn(['install']);
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /✓ @acme\/recorded@1\.0\.0: signature by release-bot@acme\.example/);
  });

  test('a tree large enough is verified on worker threads, with the same verdicts', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `@acme/bulk-${i}`);
    await Promise.all(
      names.map((name) =>
        world.publishSigned(world.privateRegistry, { name, version: '1.0.0' }, ACME_RELEASER),
      ),
    );
    await world.privateRegistry.publish(await world.build({ name: '@acme/bulk-unsigned', version: '1.0.0' }));
    const dependencies = Object.fromEntries(names.map((n) => [n, '1.0.0']));
    const good = await acmeProject(world, { dependencies });
    // 50 is below the automatic threshold on two cores (a CI runner here): two threads, as set
    good.mergeYarnrc({ tollgateVerifierThreads: 2 });
    const ok = await good.yarn(['install']);
    assert.equal(ok.code, 0, ok.output);
    assert.match(ok.output, /50 allowed \(50 on verified evidence\)/);
    assert.match(ok.output, /Tollgate: evidence verified on 2 worker threads/);
    const workers = readdirSync(join(good.globalFolder, 'tollgate')).filter((f) =>
      f.startsWith('verifier-worker-'),
    );
    assert.deepEqual(workers, [], 'the worker runs from memory: no code file in a folder others may write');

    const bad = await acmeProject(world, {
      dependencies: { ...dependencies, '@acme/bulk-unsigned': '1.0.0' },
    });
    bad.mergeYarnrc({ tollgateVerifierThreads: 2 });
    const denied = await bad.yarn(['install']);
    assert.equal(denied.code, 1, denied.output);
    assert.match(denied.output, /50 allowed \(50 on verified evidence\), 0 warned, 1 denied/);

    // and the same install on Yarn's own thread alone: the same verdicts, no thread
    const here = await acmeProject(world, { dependencies });
    here.mergeYarnrc({ tollgateVerifierThreads: 0 });
    const alone = await here.yarn(['install']);
    assert.equal(alone.code, 0, alone.output);
    assert.match(alone.output, /50 allowed \(50 on verified evidence\)/);
    assert.doesNotMatch(alone.output, /worker threads/);
  });

  test("patches are judged as their base package: Yarn's builtin compat patch and a project patch", async () => {
    // Yarn applies its builtin compat patch to every `resolve`; the patched archive is not the
    // registry tarball, so only the base package's evidence can vouch for it.
    await world.publishSigned(world.privateRegistry, { name: 'resolve', version: '1.22.8' }, ACME_RELEASER);
    await world.publishSigned(
      world.privateRegistry,
      { name: '@acme/patched', version: '1.0.0' },
      ACME_RELEASER,
    );
    const patch = [
      'diff --git a/index.js b/index.js',
      '--- a/index.js',
      '+++ b/index.js',
      '@@ -1 +1 @@',
      '-module.exports = "@acme/patched@1.0.0";',
      '+module.exports = "patched by the project";',
      '',
    ].join('\n');
    const policy = acmePolicy(world);
    policy.rules.push({
      name: 'resolve',
      packages: ['resolve'],
      require: 'signature',
      trust: ['local'],
      signers: [{ issuer: world.server.issuer, subject: 'release-bot@acme.example' }],
    } as never);
    const project = await acmeProject(world, {
      dependencies: {
        resolve: '1.22.8',
        '@acme/patched': 'patch:@acme/patched@npm%3A1.0.0#./patches/acme-patched.patch',
      },
      defaultRegistry: world.privateRegistry,
      policy,
    });
    project.write('patches/acme-patched.patch', patch);
    const res = await project.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.match(
      project.read('yarn.lock'),
      /resolve@patch:resolve@npm%3A1\.22\.8#optional!builtin<compat\/resolve>/,
    );
    assert.match(project.read('yarn.lock'), /@acme\/patched@patch:/);
    assert.equal(
      project.read('node_modules/@acme/patched/index.js').trim(),
      'module.exports = "patched by the project";',
    );
    assert.match(res.output, /0 denied/);

    // The same patch over an unsigned base is denied like the base itself.
    await world.privateRegistry.publish(
      await world.build({ name: '@acme/patched-unsigned', version: '1.0.0' }),
    );
    const unsigned = await acmeProject(world, {
      dependencies: {
        '@acme/patched-unsigned': 'patch:@acme/patched-unsigned@npm%3A1.0.0#./patches/p.patch',
      },
      defaultRegistry: world.privateRegistry,
    });
    unsigned.write(
      'patches/p.patch',
      patch.replaceAll('@acme/patched@1.0.0', '@acme/patched-unsigned@1.0.0'),
    );
    const denied = await unsigned.yarn(['install']);
    assert.equal(denied.code, 1, denied.output);
    assert.match(denied.output, /@acme\/patched-unsigned@1\.0\.0 .*denied by rule acme-internal/);
  });

  test('an unchanged install reuses its verdict; any change to its inputs, or a tampered verdict, re-checks', async () => {
    await world.publishSigned(
      world.privateRegistry,
      { name: '@acme/steady', version: '1.0.0' },
      ACME_RELEASER,
    );
    const project = await acmeProject(world, { dependencies: { '@acme/steady': '1.0.0' } });
    const first = await project.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /✓ @acme\/steady@1\.0\.0: signature by /);
    const warm = await project.yarn(['install']);
    assert.equal(warm.code, 0, warm.output);
    assert.match(warm.output, /nothing changed since the install verified at/);
    // what was verified is said by the install that verified it, not by every unchanged one after it;
    // --json still carries every decision: the first such install after a verdict stored without the
    // full list judges again and stores it, the next is answered from the verdict
    assert.doesNotMatch(warm.output, /✓ @acme\/steady/);
    for (const answered of [false, true]) {
      const json = await project.yarn(['install', '--json']);
      assert.equal(json.code, 0, json.output);
      const lines = json.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      assert.equal(
        lines.some((e) => /nothing changed since the install verified/.test(String(e.data))),
        answered,
        json.stdout,
      );
      assert.deepEqual(
        lines.filter((e) => e.type === 'tollgate-decision').map((d) => [d.package.name, d.verdict]),
        [['@acme/steady', 'allow']],
      );
    }
    // both stages recorded: the decisions, and that stage 1 allowed this graph (which the warm install used)
    const stages = readdirSync(join(project.globalFolder, 'tollgate', 'install-verdicts'))
      .filter((f) => f.endsWith('.json') && !f.endsWith('.decisions.json'))
      .map((f) => {
        const entry = JSON.parse(
          readFileSync(join(project.globalFolder, 'tollgate', 'install-verdicts', f), 'utf8'),
        );
        return JSON.parse(entry.body).stage;
      })
      .sort();
    assert.deepEqual(stages, ['after-fetch', 'before-fetch']);

    // A policy edit (here: only a comment) is a new input: everything is judged again.
    project.write('.tollgate.yml', `# reviewed\n${project.read('.tollgate.yml')}`);
    const edited = await project.yarn(['install']);
    assert.equal(edited.code, 0, edited.output);
    assert.doesNotMatch(edited.output, /nothing changed since/);

    // A verdict edited on disk does not authenticate and is ignored.
    const folder = join(project.globalFolder, 'tollgate', 'install-verdicts');
    for (const file of readdirSync(folder).filter((f) => f.endsWith('.json'))) {
      const entry = JSON.parse(readFileSync(join(folder, file), 'utf8'));
      entry.body = entry.body.replace('"createdAt":', '"createdAt" :');
      writeFileSync(join(folder, file), JSON.stringify(entry));
    }
    const tampered = await project.yarn(['install']);
    assert.equal(tampered.code, 0, tampered.output);
    assert.doesNotMatch(tampered.output, /nothing changed since/);
  });

  test('--immutable refuses to fill in evidence or pins the repository lacks, as it does for yarn.lock', async () => {
    await world.publishSigned(
      world.privateRegistry,
      { name: '@acme/committed', version: '1.0.0' },
      ACME_RELEASER,
    );
    const project = await acmeProject(world, { dependencies: { '@acme/committed': '1.0.0' } });
    assert.equal((await project.yarn(['install'])).code, 0);
    const complete = await project.yarn(['install', '--immutable']);
    assert.equal(complete.code, 0, complete.output);

    rmSync(join(project.dir, '.tollgate.evidence.json'));
    rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
    const incomplete = await project.yarn(['install', '--immutable']);
    assert.equal(incomplete.code, 1, incomplete.output);
    assert.match(
      incomplete.output,
      /\.tollgate\.evidence\.json would be modified by this install, which --immutable forbids/,
    );
    assert.equal(project.exists('.tollgate.evidence.json'), false, 'nothing was written');
    assert.equal(project.exists('node_modules'), false, 'nothing was linked');
  });

  test('the pnp linker is gated the same way', async () => {
    await world.publishSigned(
      world.privateRegistry,
      { name: '@acme/pnp-ok', version: '1.0.0' },
      ACME_RELEASER,
    );
    await world.privateRegistry.publish(await world.build({ name: '@acme/pnp-bad', version: '1.0.0' }));
    const good = await acmeProject(world, {
      dependencies: { '@acme/pnp-ok': '1.0.0' },
      yarnrc: { nodeLinker: 'pnp' },
    });
    const ok = await good.yarn(['install']);
    assert.equal(ok.code, 0, ok.output);
    assert.ok(good.exists('.pnp.cjs'));
    const bad = await acmeProject(world, {
      dependencies: { '@acme/pnp-bad': '1.0.0' },
      yarnrc: { nodeLinker: 'pnp' },
    });
    const denied = await bad.yarn(['install']);
    assert.equal(denied.code, 1, denied.output);
    assert.equal(bad.exists('.pnp.cjs'), false, 'nothing was linked');
    assert.equal(world.ran('@acme/pnp-bad', '1.0.0'), false);
  });
});
