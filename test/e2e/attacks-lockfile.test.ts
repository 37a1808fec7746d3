// Attack suite, part 3: attacks on what the repository commits. A zero-install cache archive
// swapped together with its yarn.lock checksum, a signer that changed against the pins, evidence
// that got weaker within a release line, and an exception kept past its expiry.
// Each test is named after the attack it proves blocked.
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildPackage, markerName } from '../harness/packages';
import { tempDir } from '../harness/paths';
import { Scope } from '../harness/scope';
import type { TestIdentity } from '../harness/sigstore';
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

const workflow = (repository: string, file = '.github/workflows/release.yml'): TestIdentity => ({
  kind: 'workflow',
  repository,
  workflow: file,
  ref: 'refs/heads/main',
});

const isoDay = (offsetDays: number) =>
  new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

describe('attacks on committed state: the zero-install cache, pins and exceptions', () => {
  const scope = new Scope();
  let world: World;
  before(async () => {
    world = await startWorld(scope);
  });
  after(() => scope.close());

  /**
   * The company policy plus the rules these attacks need: CI-signed packages whose signer may be one
   * of two repositories (so only the pins can tell a change), and packages with no required evidence
   * (so only the pins can tell a downgrade).
   */
  function policyWith(extra: { exceptions?: unknown[] } = {}) {
    const policy: ReturnType<typeof acmePolicy> & { exceptions?: unknown[] } = acmePolicy(world);
    (policy.rules as object[]).push(
      {
        name: 'acme-ci',
        packages: ['acme-ci-*'],
        registries: [world.privateRegistry.url],
        require: 'signature',
        trust: ['local'],
        signers: [
          { issuer: world.server.issuer, repository: 'github.com/acme/lib' },
          { issuer: world.server.issuer, repository: 'github.com/acme/fork' },
        ],
      },
      {
        name: 'acme-optional',
        packages: ['acme-optional-*'],
        registries: [world.privateRegistry.url],
        require: 'none',
        trust: ['local'],
        signers: [{ issuer: world.server.issuer, repository: 'github.com/acme/lib' }],
      },
    );
    if (extra.exceptions) policy.exceptions = extra.exceptions;
    return policy;
  }

  const project = (dependencies: Record<string, string>, policy = policyWith()) =>
    acmeProject(world, { dependencies, defaultRegistry: world.privateRegistry, policy });

  /** Publishes name@version signed by `identity`: provenance, or only a publish attestation. */
  async function release(
    name: string,
    version: string,
    identity: TestIdentity | null,
    kind: 'provenance' | 'publish' = 'provenance',
  ) {
    const pkg = await world.build({ name, version });
    if (identity) {
      const bundle = await signWith(world.server, pkg, identity, {
        kind,
        registry: world.privateRegistry.url,
      });
      await world.server.attach(name, version, bundle);
    }
    await world.privateRegistry.publish(pkg);
    return pkg;
  }

  /** Installs name@1.0.0 (pinning its signer and evidence), then returns the project and a snapshot. */
  async function installedAndPinned(name: string, policy = policyWith()) {
    const yarn = await project({ [name]: '^1.0.0' }, policy);
    const first = await yarn.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    assert.match(yarn.read('.tollgate.pins.json'), new RegExp(`"${name}"`), 'the first release was pinned');
    return yarn;
  }

  /**
   * Installs the company's name@1.0.0 with a zero-install cache, then does what a malicious commit
   * does: the attacker builds their own name@1.0.0, lets Yarn make its cache archive (on a registry
   * they control, scripts off), and commits that archive with its checksum in yarn.lock. Returns the
   * project as a fresh clone of that commit would have it.
   */
  async function installedThenSwapped(name: string) {
    await world.publishSigned(world.privateRegistry, { name, version: '1.0.0' }, ACME_RELEASER);
    const yarn = await project({ [name]: '1.0.0' });
    const first = await yarn.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    const genuine = cacheArchive(yarn, name);
    const genuineChecksum = lockfileChecksum(yarn.read('yarn.lock'), `${name}@npm:1.0.0`);

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
    });
    const built = await workshop.yarn(['install', '--mode=skip-build']);
    assert.equal(built.code, 0, built.output);
    const forged = cacheArchive(workshop, name);
    const forgedChecksum = lockfileChecksum(workshop.read('yarn.lock'), `${name}@npm:1.0.0`);
    assert.notEqual(forgedChecksum, genuineChecksum);
    assert.match(forgedChecksum, /^10c0\/[0-9a-f]{128}$/);

    rmSync(join(yarn.dir, '.yarn/cache', genuine));
    copyFileSync(join(workshop.dir, '.yarn/cache', forged), join(yarn.dir, '.yarn/cache', forged));
    yarn.write('yarn.lock', yarn.read('yarn.lock').replace(genuineChecksum, forgedChecksum));
    freshClone(yarn);
    return { yarn, evilMarkers, genuineChecksum, forgedChecksum };
  }

  test('control: the next release by the pinned signer, an unexpired exception and a fresh clone of the zero-install cache all install', async () => {
    await release('acme-ci-steady', '1.0.0', workflow('acme/lib'));
    const yarn = await installedAndPinned('acme-ci-steady');
    await release('acme-ci-steady', '1.1.0', workflow('acme/lib'));
    const up = await yarn.yarn(['up', 'acme-ci-steady']);
    assert.equal(up.code, 0, up.output);
    assert.match(up.output, /✓ acme-ci-steady@1\.1\.0: provenance/);
    assert.ok(world.ran('acme-ci-steady', '1.1.0'));

    await release('acme-waived', '1.0.0', null);
    const waived = await project(
      { 'acme-waived': '1.0.0' },
      policyWith({
        exceptions: [
          {
            package: 'acme-waived',
            versions: '1.0.0',
            reason: 'signing pipeline not ready yet',
            expires: isoDay(20),
            waive: ['evidence-missing'],
          },
        ],
      }),
    );
    const res = await waived.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.ok(world.ran('acme-waived', '1.0.0'));

    await world.publishSigned(world.privateRegistry, { name: 'acme-zero', version: '1.0.0' }, ACME_RELEASER);
    const zero = await project({ 'acme-zero': '1.0.0' });
    assert.equal((await zero.yarn(['install'])).code, 0);
    freshClone(zero);
    const again = await zero.yarn(['install']);
    assert.equal(again.code, 0, again.output);
    const audit = await zero.yarn(['tollgate', 'audit']);
    assert.equal(audit.code, 0, audit.output);
  });

  test('zero-install cache swap: a cache archive replaced together with its yarn.lock checksum is denied by install and audit', async () => {
    const { yarn, evilMarkers } = await installedThenSwapped('acme-cached');
    freshClone(yarn);

    const before = snapshot(yarn);
    const install = await yarn.yarn(['install']);
    assertRefused(install, yarn, before, [
      /acme-cached@1\.0\.0 .*denied by rule acme-internal/,
      /tampered-archive: tampering \(LOCKFILE_CHECKSUM_MISMATCH\)/,
    ]);
    assertNeverRan(evilMarkers, markerName('acme-cached', '1.0.0'));

    const audit = await yarn.yarn(['tollgate', 'audit']);
    assertRefused(audit, yarn, before, [/acme-cached@1\.0\.0/, /LOCKFILE_CHECKSUM_MISMATCH/]);

    // Offline, nothing can fetch the registry's tarball: the evidence file no longer vouches for the archive.
    yarn.mergeYarnrc({ tollgateOffline: true, enableNetwork: false });
    const offlineBefore = snapshot(yarn);
    const offline = await yarn.yarn(['install']);
    assertRefused(offline, yarn, offlineBefore, [/acme-cached@1\.0\.0 .*denied/, /TARBALL_UNBOUND/]);
    assertNeverRan(evilMarkers, markerName('acme-cached', '1.0.0'));
  });

  test('zero-install cache swap with the evidence record rewritten to match: the archive is still tied to the registry tarball online', async () => {
    const { yarn, evilMarkers, genuineChecksum, forgedChecksum } =
      await installedThenSwapped('acme-recorded');
    // The evidence file is committed too: the same commit points its record at the forged archive,
    // keeping the genuine integrity and bundles, which still verify.
    const evidence = yarn.read('.tollgate.evidence.json');
    assert.ok(evidence.includes(genuineChecksum), 'the evidence file recorded the genuine archive');
    yarn.write('.tollgate.evidence.json', evidence.replace(genuineChecksum, forgedChecksum));

    const before = snapshot(yarn);
    const install = await yarn.yarn(['install']);
    assertRefused(install, yarn, before, [
      /acme-recorded@1\.0\.0 .*denied by rule acme-internal/,
      /tampered-archive: tampering \(LOCKFILE_CHECKSUM_MISMATCH\)/,
    ]);
    assertNeverRan(evilMarkers, markerName('acme-recorded', '1.0.0'));
    const audit = await yarn.yarn(['tollgate', 'audit']);
    assertRefused(audit, yarn, before, [/acme-recorded@1\.0\.0/, /LOCKFILE_CHECKSUM_MISMATCH/]);
  });

  test('signer identity change: a release signed from another repository is denied against the pins', async () => {
    await release('acme-ci-moved', '1.0.0', workflow('acme/lib'));
    const yarn = await installedAndPinned('acme-ci-moved');
    await release('acme-ci-moved', '1.1.0', workflow('acme/fork'));
    const before = snapshot(yarn);
    const res = await yarn.yarn(['up', 'acme-ci-moved']);
    assertRefused(res, yarn, before, [
      /acme-ci-moved@1\.1\.0 .*denied by rule acme-ci/,
      /identity-changed: signer identity changed \(subject, repository\) from the one pinned for acme-ci-moved@1\.0\.0/,
      /actual: +issuer=\S+ subject=https:\/\/github\.com\/acme\/fork\/\S+ repository=github\.com\/acme\/fork/,
    ]);
    assertNeverRan(world.markers, markerName('acme-ci-moved', '1.1.0'));
  });

  test('signer identity change: a release signed by another workflow of the same repository is denied against the pins', async () => {
    await release('acme-ci-rewired', '1.0.0', workflow('acme/lib'));
    const yarn = await installedAndPinned('acme-ci-rewired');
    await release('acme-ci-rewired', '1.1.0', workflow('acme/lib', '.github/workflows/pr-preview.yml'));
    const before = snapshot(yarn);
    const res = await yarn.yarn(['up', 'acme-ci-rewired']);
    assertRefused(res, yarn, before, [
      /acme-ci-rewired@1\.1\.0 .*denied by rule acme-ci/,
      /identity-changed: signer identity changed \(subject, workflow\) from the one pinned for acme-ci-rewired@1\.0\.0/,
      /actual: .*workflow=\.github\/workflows\/pr-preview\.yml/,
    ]);
    assertNeverRan(world.markers, markerName('acme-ci-rewired', '1.1.0'));
  });

  test('provenance downgrade: a release of the same major with only a signature after one with provenance is denied', async () => {
    await release('acme-optional-signed', '1.0.0', workflow('acme/lib'));
    const yarn = await installedAndPinned('acme-optional-signed');
    await release('acme-optional-signed', '1.1.0', workflow('acme/lib'), 'publish');
    const before = snapshot(yarn);
    const res = await yarn.yarn(['up', 'acme-optional-signed']);
    assertRefused(res, yarn, before, [
      /acme-optional-signed@1\.1\.0 .*denied by rule acme-optional/,
      /evidence-downgrade: evidence dropped from provenance \(pinned since acme-optional-signed@1\.0\.0\) to signature/,
    ]);
    assertNeverRan(world.markers, markerName('acme-optional-signed', '1.1.0'));
  });

  test('provenance downgrade: an unsigned release of the same major after one with provenance is denied', async () => {
    await release('acme-optional-bare', '1.0.0', workflow('acme/lib'));
    const yarn = await installedAndPinned('acme-optional-bare');
    await release('acme-optional-bare', '1.1.0', null);
    const before = snapshot(yarn);
    const res = await yarn.yarn(['up', 'acme-optional-bare']);
    assertRefused(res, yarn, before, [
      /acme-optional-bare@1\.1\.0 .*denied by rule acme-optional/,
      /evidence-downgrade: evidence dropped from provenance \(pinned since acme-optional-bare@1\.0\.0\) to none/,
    ]);
    assertNeverRan(world.markers, markerName('acme-optional-bare', '1.1.0'));
  });

  test('expired exception: a waiver past its expiry date no longer lets an unsigned internal package in', async () => {
    await release('acme-legacy', '1.0.0', null);
    const yarn = await project(
      { 'acme-legacy': '1.0.0' },
      policyWith({
        exceptions: [
          {
            package: 'acme-legacy',
            versions: '1.0.0',
            reason: 'signing pipeline not ready yet',
            expires: isoDay(-2),
            waive: ['evidence-missing'],
          },
        ],
      }),
    );
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [
      /acme-legacy@1\.0\.0 .*denied by rule acme-internal/,
      new RegExp(`exception-expired: the exception for acme-legacy expired on ${isoDay(-2)}`),
      /evidence-missing/,
    ]);
    assertNeverRan(world.markers, markerName('acme-legacy', '1.0.0'));
    const check = await yarn.yarn(['tollgate', 'policy', 'check']);
    assert.equal(check.code, 2, `an expired exception makes the policy invalid:\n${check.output}`);
    assert.match(check.output, /exception-expired/);
  });
});
