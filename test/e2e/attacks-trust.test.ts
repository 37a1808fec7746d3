// Attack suite, part 7: what Tollgate believes. An exception that tries to waive altered bytes, a
// release time backdated in the evidence file, CI claims written into the provenance by a signer whose
// certificate carries none, a release from another branch or line of a pinned package, and caches
// planted where the repository or a restored CI cache can write. Each test is named after the attack
// it proves blocked; each asserts that no script ran, yarn.lock and package.json are unchanged and
// nothing was linked.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { attest } from 'sigstore';
import { LocalBindings } from '../../plugin/sources/engine/local-bindings';
import { IN_TOTO_PAYLOAD_TYPE, provenanceStatement } from '../../plugin/sources/signing/statement';
import { buildPackage, markerName } from '../harness/packages';
import { tempDir } from '../harness/paths';
import { Scope } from '../harness/scope';
import { type TestIdentity, workflowClaims } from '../harness/sigstore';
import { createYarnProject } from '../harness/yarn-project';
import {
  assertNeverRan,
  assertRefused,
  cacheArchive,
  freshClone,
  lockfileChecksum,
  signWith,
  snapshot,
} from './attacks/support';
import { ACME_RELEASER, acmePolicy, acmeProject, startWorld, type World } from './fixtures';

const isoDay = (offsetDays: number) =>
  new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

const ci = (ref: string, repository = 'acme/lib'): TestIdentity => ({
  kind: 'workflow',
  repository,
  workflow: '.github/workflows/release.yml',
  ref,
});

describe('attacks on what Tollgate believes: waivers, times, claims, pins and caches', () => {
  const scope = new Scope();
  let world: World;
  before(async () => {
    world = await startWorld(scope);
  });
  after(() => scope.close());

  /** The company policy plus a CI-signed rule whose signer is pinned on first use. */
  function policyWith(extra: { rules?: object[]; exceptions?: unknown[] } = {}) {
    const policy = acmePolicy(world) as ReturnType<typeof acmePolicy> & { exceptions?: unknown[] };
    (policy.rules as object[]).push(
      {
        name: 'acme-ci',
        packages: ['acme-ci-*'],
        registries: [world.privateRegistry.url],
        require: 'signature',
        trust: ['local'],
        signers: [{ issuer: world.server.issuer, repository: 'github.com/acme/lib' }],
      },
      {
        name: 'acme-open',
        packages: ['acme-open-*'],
        registries: [world.privateRegistry.url],
        require: 'none',
        trust: ['local'],
        signers: 'any',
      },
      ...(extra.rules ?? []),
    );
    if (extra.exceptions) policy.exceptions = extra.exceptions;
    return policy;
  }

  const project = (
    dependencies: Record<string, string>,
    policy: object = policyWith(),
    yarnrc?: Record<string, unknown>,
  ) =>
    acmeProject(world, {
      dependencies,
      defaultRegistry: world.privateRegistry,
      policy: policy as Record<string, unknown>,
      ...(yarnrc ? { yarnrc } : {}),
    });

  async function release(name: string, version: string, identity: TestIdentity | null) {
    const pkg = await world.build({ name, version });
    if (identity) {
      const bundle = await signWith(world.server, pkg, identity, {
        kind: identity.kind === 'workflow' ? 'provenance' : 'publish',
        registry: world.privateRegistry.url,
      });
      await world.server.attach(name, version, bundle);
    }
    await world.privateRegistry.publish(pkg);
    return pkg;
  }

  const neverRan = (name: string, version: string) =>
    assertNeverRan(world.markers, markerName(name, version));

  test('waiving tampering: an exception that lists every waivable code does not let a swapped tarball in', async () => {
    const original = await world.publishSigned(
      world.privateRegistry,
      { name: 'acme-waive-swap', version: '1.0.0' },
      ACME_RELEASER,
    );
    const evil = await world.build({ name: 'acme-waive-swap', version: '1.0.0', files: { 'evil.js': '1' } });
    assert.notEqual(evil.integrity, original.integrity);
    world.privateRegistry.replaceTarball('acme-waive-swap', '1.0.0', evil.tarball);
    const waivable = [
      'evidence-invalid',
      'evidence-missing',
      'evidence-insufficient',
      'signer-mismatch',
      'trust-root-not-allowed',
    ];
    const yarn = await project(
      { 'acme-waive-swap': '1.0.0' },
      policyWith({
        exceptions: [
          {
            package: 'acme-waive-swap',
            versions: '1.0.0',
            reason: 'trying to waive it all',
            expires: isoDay(10),
            waive: waivable,
          },
        ],
      }),
    );
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [/tampered-tarball: tampering \(TARBALL_INTEGRITY_MISMATCH\)/]);
    assert.doesNotMatch(
      res.output,
      /or add an exception to the policy/,
      'no waiver is offered for altered bytes',
    );
    neverRan('acme-waive-swap', '1.0.0');

    // Warn mode reports policy violations without blocking, but never lets altered bytes in.
    const warned = await project({ 'acme-waive-swap': '1.0.0' }, policyWith(), { tollgateMode: 'warn' });
    const warnedBefore = snapshot(warned);
    assertRefused(await warned.yarn(['install']), warned, warnedBefore, [/YN9103: .*tampered-tarball/]);
    neverRan('acme-waive-swap', '1.0.0');

    // Naming the tampering code itself makes the policy invalid: it is refused before anything runs.
    const named = await project(
      { 'acme-waive-swap': '1.0.0' },
      policyWith({
        exceptions: [
          {
            package: 'acme-waive-swap',
            reason: 'waive the swap',
            expires: isoDay(10),
            waive: ['tampered-tarball'],
          },
        ],
      }),
    );
    const namedBefore = snapshot(named);
    const refused = await named.yarn(['install']);
    assertRefused(refused, named, namedBefore, [/tampered-\* violations can never be waived/]);
  });

  test('backdated release: a publish time written into the evidence file does not satisfy minReleaseAge', async () => {
    await release('acme-open-fresh', '1.0.0', null);
    const yarn = await project({ 'acme-open-fresh': '1.0.0' });
    const first = await yarn.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    // The company tightens the policy; the attacker commits a record that says the release is old.
    const policy = policyWith();
    (policy.rules as Array<Record<string, unknown>>).find((r) => r.name === 'acme-open')!.minReleaseAge =
      '3d';
    yarn.write('.tollgate.yml', (await import('yaml')).stringify(policy));
    const evidence = JSON.parse(yarn.read('.tollgate.evidence.json'));
    evidence.packages['acme-open-fresh@npm:1.0.0'].publishedAt = '2020-01-01T00:00:00.000Z';
    yarn.write('.tollgate.evidence.json', `${JSON.stringify(evidence, null, 2)}\n`);
    freshClone(yarn);
    const before = snapshot(yarn);
    assertRefused(await yarn.yarn(['install']), yarn, before, [
      /release-too-new: released .* ago \(UNSIGNED registry publish time\)/,
    ]);
    assertRefused(await yarn.yarn(['tollgate', 'audit', '--offline']), yarn, before, [/release-age-unknown/]);
    yarn.mergeYarnrc({ tollgateOffline: true });
    const offlineBefore = snapshot(yarn);
    assertRefused(await yarn.yarn(['install']), yarn, offlineBefore, [/release-age-unknown/]);
  });

  test('claims from the signer: provenance that names the company repository, signed by an identity whose certificate carries no repository, is denied', async () => {
    const pkg = await world.build({ name: 'acme-ci-forged', version: '1.0.0' });
    // The attacker's own email identity; the SLSA predicate they write claims the company's workflow.
    const statement = provenanceStatement(
      { name: pkg.name, version: pkg.version, integrity: pkg.integrity },
      workflowClaims({
        kind: 'workflow',
        repository: 'acme/lib',
        workflow: '.github/workflows/release.yml',
        ref: 'refs/heads/main',
      }),
    );
    const bundle = await attest(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE, {
      fulcioURL: world.server.url,
      rekorURL: world.server.url,
      identityToken: await world.server.token({ kind: 'email', email: 'mallory@evil.example' }),
      tlogUpload: true,
    });
    await world.server.attach(pkg.name, pkg.version, JSON.parse(JSON.stringify(bundle)));
    await world.privateRegistry.publish(pkg);
    const yarn = await project({ 'acme-ci-forged': '1.0.0' });
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [
      /signer-mismatch: signed by an identity acme-ci does not list/,
      /repository=\(absent\)/,
    ]);
    neverRan('acme-ci-forged', '1.0.0');
  });

  test('same repository and workflow, another branch: a release signed from refs/heads/evil is an identity change against the pins', async () => {
    await release('acme-ci-branch', '1.0.0', ci('refs/heads/main'));
    const yarn = await project({ 'acme-ci-branch': '^1.0.0' });
    assert.equal((await yarn.yarn(['install'])).code, 0);
    await release('acme-ci-branch', '1.1.0', ci('refs/heads/evil'));
    const before = snapshot(yarn);
    const res = await yarn.yarn(['up', 'acme-ci-branch']);
    assertRefused(res, yarn, before, [
      /identity-changed: signer identity changed \(ref\) from the one pinned for acme-ci-branch@1\.0\.0/,
      /ref=refs\/heads\/evil/,
    ]);
    neverRan('acme-ci-branch', '1.1.0');
  });

  test('continuity on another line: after 2.x carried provenance, an unsigned 1.x is a downgrade', async () => {
    await release('acme-open-lines', '2.0.0', ci('refs/heads/main'));
    await release('acme-open-lines', '1.9.0', null);
    const yarn = await project({ 'acme-open-lines': '^2.0.0' });
    assert.equal((await yarn.yarn(['install'])).code, 0);
    const before = snapshot(yarn);
    const res = await yarn.yarn(['add', 'acme-open-lines@1.9.0']);
    assertRefused(res, yarn, before, [
      /evidence-downgrade: evidence dropped from provenance \(pinned since acme-open-lines@2\.0\.0 \(release line 2\)\) to none/,
    ]);
    neverRan('acme-open-lines', '1.9.0');
  });

  describe('caches the repository or a restored CI cache can fill', () => {
    test('a cache folder inside the project is refused', async () => {
      await world.publishSigned(
        world.privateRegistry,
        { name: 'acme-cached-here', version: '1.0.0' },
        ACME_RELEASER,
      );
      for (const yarnrc of [{ tollgateCacheFolder: '.tollgate-cache' }, { globalFolder: '.yarn/global' }]) {
        const yarn = await project({ 'acme-cached-here': '1.0.0' }, policyWith(), yarnrc);
        const before = snapshot(yarn);
        const res = await yarn.yarn(['install']);
        assertRefused(res, yarn, before, [/Tollgate's cache folder .* is inside the project/]);
      }
    });

    test('a cache key file readable by others is refused', async () => {
      await world.publishSigned(
        world.privateRegistry,
        { name: 'acme-loose-key', version: '1.0.0' },
        ACME_RELEASER,
      );
      const yarn = await project({ 'acme-loose-key': '1.0.0' });
      assert.equal((await yarn.yarn(['install'])).code, 0);
      const keyFile = join(yarn.globalFolder, 'home', '.local', 'state', 'tollgate', 'cache.key');
      assert.ok(existsSync(keyFile), 'the cache key lives in the per-user state folder');
      chmodSync(keyFile, 0o644);
      freshClone(yarn);
      yarn.write('.tollgate.yml', `${yarn.read('.tollgate.yml')}\n`);
      const before = snapshot(yarn);
      const res = await yarn.yarn(['install']);
      assertRefused(res, yarn, before, [/the cache key file .*cache\.key is readable or writable by others/]);
    });

    test('poisoned CI cache: a planted local binding tying a swapped archive to the genuine tarball is not believed', async () => {
      const name = 'acme-planted';
      await world.publishSigned(world.privateRegistry, { name, version: '1.0.0' }, ACME_RELEASER);
      const cacheFolder = tempDir('restored-ci-cache');
      const yarn = await project({ [name]: '1.0.0' }, policyWith(), { tollgateCacheFolder: cacheFolder });
      const first = await yarn.yarn(['install']);
      assert.equal(first.code, 0, first.output);
      const genuineIntegrity = JSON.parse(yarn.read('.tollgate.evidence.json')).packages[`${name}@npm:1.0.0`]
        .integrity;

      // The attacker's archive of the same name@version, and its checksum in yarn.lock (a malicious commit).
      const evilMarkers = tempDir('evil-markers');
      const evil = await buildPackage({
        name,
        version: '1.0.0',
        files: { 'evil.js': 'steal()' },
        postinstallMarkerDir: evilMarkers,
      });
      await world.publicRegistry.publish(evil);
      const workshop = await createYarnProject({
        registry: world.publicRegistry.url,
        dependencies: { [name]: '1.0.0' },
        yarnrc: { enableScripts: false },
      });
      assert.equal((await workshop.yarn(['install'])).code, 0);
      const forged = cacheArchive(workshop, name);
      const forgedChecksum = lockfileChecksum(workshop.read('yarn.lock'), `${name}@npm:1.0.0`);
      const genuine = cacheArchive(yarn, name);
      copyFileSync(join(workshop.dir, '.yarn/cache', forged), join(yarn.dir, '.yarn/cache', forged));
      (await import('node:fs')).rmSync(join(yarn.dir, '.yarn/cache', genuine));
      const genuineChecksum = lockfileChecksum(yarn.read('yarn.lock'), `${name}@npm:1.0.0`);
      yarn.write('yarn.lock', yarn.read('yarn.lock').replace(genuineChecksum, forgedChecksum));
      const evidence = JSON.parse(yarn.read('.tollgate.evidence.json'));
      evidence.packages[`${name}@npm:1.0.0`].checksum = forgedChecksum;
      yarn.write('.tollgate.evidence.json', `${JSON.stringify(evidence, null, 2)}\n`);

      // The poisoned CI cache: this project's bindings document, saying "forged archive = genuine
      // tarball", authenticated with a key of the attacker's (written beside it, where they can write);
      // every install verdict dropped.
      const attackerKey = randomBytes(32);
      const bindings = join(cacheFolder, 'bindings');
      mkdirSync(bindings, { recursive: true });
      writeFileSync(join(bindings, 'secret.key'), attackerKey, { mode: 0o600 });
      const planted = new LocalBindings(cacheFolder, attackerKey, yarn.dir);
      planted.record(`${name}@npm:1.0.0`, forgedChecksum, genuineIntegrity);
      await planted.flush();
      assert.ok(planted.lookup(`${name}@npm:1.0.0`, forgedChecksum), 'the planted binding is in place');
      for (const file of readdirSync(join(cacheFolder, 'install-verdicts'))) {
        (await import('node:fs')).rmSync(join(cacheFolder, 'install-verdicts', file));
      }
      freshClone(yarn);
      const before = snapshot(yarn);
      const res = await yarn.yarn(['install']);
      assertRefused(res, yarn, before, [new RegExp(`${name}@1\\.0\\.0 .*denied`), /tampered-archive/]);
      assertNeverRan(evilMarkers, markerName(name, '1.0.0'));
      assert.ok(
        readFileSync(join(bindings, 'secret.key')).equals(attackerKey),
        'the planted key file was never used',
      );
    });
  });
});
