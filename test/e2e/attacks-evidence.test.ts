// Attack suite, part 2: forged or misused evidence. Tarballs swapped after signing, bundles replayed
// from other packages, tampered transparency-log proofs, foreign CAs and logs, certificates used
// outside their validity. Hostile evidence is served by an attestation store the attacker runs.
// Each test is named after the attack it proves blocked.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BuiltPackage, markerName } from '../harness/packages';
import type { Registry } from '../harness/registry';
import { Scope } from '../harness/scope';
import { type SigstoreServer, startSigstoreServer } from '../harness/sigstore';
import {
  assertNeverRan,
  assertRefused,
  type Bundle,
  copyBundle,
  type HostileStore,
  signWith,
  snapshot,
  startHostileStore,
  startSkewedLog,
} from './attacks/support';
import { ACME_RELEASER, acmePolicy, acmeProject, startWorld, type World } from './fixtures';

/** What verification says about a bundle that failed, as the gate prints it. */
const invalid = (code: string) => new RegExp(`evidence-invalid: evidence did not verify \\(${code}\\)`);

describe('attacks on evidence: swapped tarballs, replayed and forged bundles, untrusted CAs and logs', () => {
  const scope = new Scope();
  let world: World;
  let hostile: HostileStore;
  let foreign: SigstoreServer;
  before(async () => {
    [world, hostile, foreign] = await Promise.all([
      startWorld(scope),
      startHostileStore(scope),
      startSigstoreServer(scope, 'foreign'),
    ]);
  });
  after(() => scope.close());

  const neverRan = (name: string, version: string) =>
    assertNeverRan(world.markers, markerName(name, version));

  /** A project of the company, reading evidence from the real store and the attacker's one. */
  const project = (dependencies: Record<string, string>, policy?: Record<string, unknown>) =>
    acmeProject(world, {
      dependencies,
      defaultRegistry: world.privateRegistry,
      yarnrc: { tollgateAttestationStores: [world.server.url, hostile.url] },
      ...(policy ? { policy } : {}),
    });

  /** Publishes a package whose genuine company bundle is returned but not attached to the real store. */
  async function signedButDetached(name: string, version = '1.0.0') {
    const pkg = await world.build({ name, version });
    const bundle = await signWith(world.server, pkg, ACME_RELEASER, {
      kind: 'publish',
      registry: world.privateRegistry.url,
    });
    await world.privateRegistry.publish(pkg);
    return { pkg, bundle };
  }

  async function installIsRefused(dependencies: Record<string, string>, reasons: RegExp[], policy?: object) {
    const yarn = await project(dependencies, policy as Record<string, unknown> | undefined);
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, reasons);
    for (const [name, version] of Object.entries(dependencies)) neverRan(name, version);
    return res;
  }

  test('control: a genuine bundle served by the attacker-run store is accepted (the store is not trusted, the bundle is)', async () => {
    const { pkg, bundle } = await signedButDetached('acme-via-mirror');
    hostile.serve(pkg.name, pkg.version, [bundle]);
    const yarn = await project({ [pkg.name]: pkg.version });
    const res = await yarn.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.match(res.output, /✓ acme-via-mirror@1\.0\.0: signature by release-bot@acme\.example/);
    assert.ok(world.ran(pkg.name, pkg.version));
  });

  test('tarball swap: the tarball replaced on the registry after signing is denied on a fresh install', async () => {
    const original = await world.publishSigned(
      world.privateRegistry,
      { name: 'acme-swapped', version: '1.0.0' },
      ACME_RELEASER,
    );
    const evil = await world.build({ name: 'acme-swapped', version: '1.0.0', files: { 'evil.js': '1' } });
    assert.notEqual(evil.integrity, original.integrity);
    world.privateRegistry.replaceTarball('acme-swapped', '1.0.0', evil.tarball);
    await installIsRefused({ 'acme-swapped': '1.0.0' }, [
      /acme-swapped@1\.0\.0 .*denied by rule acme-internal/,
      /tampered-tarball: tampering \(TARBALL_INTEGRITY_MISMATCH\)/,
    ]);
  });

  test('tarball swap with the packument rewritten: tarball and dist.integrity replaced together after signing are denied', async () => {
    await world.publishSigned(
      world.privateRegistry,
      { name: 'acme-rewritten', version: '1.0.0' },
      ACME_RELEASER,
    );
    const evil = await world.build({ name: 'acme-rewritten', version: '1.0.0', files: { 'evil.js': '1' } });
    world.privateRegistry.replaceTarball('acme-rewritten', '1.0.0', evil.tarball);
    rewriteStoredIntegrity(world.privateRegistry, evil);
    const served = await world.privateRegistry.packument('acme-rewritten');
    assert.equal(
      served.versions['1.0.0'].dist.integrity,
      evil.integrity,
      'the registry now vouches for the swap',
    );
    await installIsRefused({ 'acme-rewritten': '1.0.0' }, [
      /acme-rewritten@1\.0\.0 .*denied by rule acme-internal/,
      invalid('SUBJECT_MISMATCH'),
      /statement subject pkg:npm\/acme-rewritten@1\.0\.0 has sha512 [0-9a-f]+…, expected the tarball's/,
    ]);
  });

  test('bundle replay: a valid bundle of another package (acme-a@1.0.0) served for acme-b@1.0.0 is denied', async () => {
    const a = await world.publishSigned(
      world.privateRegistry,
      { name: 'acme-a', version: '1.0.0' },
      ACME_RELEASER,
    );
    await world.privateRegistry.publish(await world.build({ name: 'acme-b', version: '1.0.0' }));
    const replayed = await storedBundle(world.server, a);
    // The company's own store refuses to file it under acme-b; an attacker-run store serves it anyway.
    await assert.rejects(world.server.attach('acme-b', '1.0.0', replayed), /refused acme-b@1\.0\.0: 400/);
    hostile.serve('acme-b', '1.0.0', [replayed]);
    await installIsRefused({ 'acme-b': '1.0.0' }, [
      /acme-b@1\.0\.0 .*denied by rule acme-internal/,
      invalid('SUBJECT_MISMATCH'),
      /statement subject is "pkg:npm\/acme-a@1\.0\.0", expected pkg:npm\/acme-b@1\.0\.0/,
    ]);
  });

  test('bundle replay: a valid bundle of another version (acme-a@1.0.0) served for acme-a@1.0.1 is denied', async () => {
    const a = await world.publishSigned(
      world.privateRegistry,
      { name: 'acme-a-line', version: '1.0.0' },
      ACME_RELEASER,
    );
    await world.privateRegistry.publish(await world.build({ name: 'acme-a-line', version: '1.0.1' }));
    hostile.serve('acme-a-line', '1.0.1', [await storedBundle(world.server, a)]);
    await installIsRefused({ 'acme-a-line': '1.0.1' }, [
      /acme-a-line@1\.0\.1 .*denied by rule acme-internal/,
      invalid('SUBJECT_MISMATCH'),
      /statement subject is "pkg:npm\/acme-a-line@1\.0\.0", expected pkg:npm\/acme-a-line@1\.0\.1/,
    ]);
  });

  test('log tampering: a bundle whose inclusion proof was altered is denied', async () => {
    const { pkg, bundle } = await signedButDetached('acme-proof');
    const tampered = copyBundle(bundle);
    const proof = tampered.verificationMaterial.tlogEntries[0].inclusionProof;
    assert.ok(proof.hashes.length > 0, 'the log holds several entries, so the proof has hashes to alter');
    proof.hashes[0] = flipFirstByte(proof.hashes[0]);
    hostile.serve(pkg.name, pkg.version, [tampered]);
    await installIsRefused({ [pkg.name]: pkg.version }, [
      /acme-proof@1\.0\.0 .*denied by rule acme-internal/,
      invalid('TLOG_INVALID'),
      /calculated root hash does not match/,
    ]);
  });

  test('log tampering: a bundle whose checkpoint was forged (root hash rewritten, signature kept) is denied', async () => {
    const { pkg, bundle } = await signedButDetached('acme-checkpoint');
    const tampered = copyBundle(bundle);
    const checkpoint = tampered.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
    const lines: string[] = checkpoint.envelope.split('\n');
    // note lines: origin, tree size, base64 root hash; then a blank line and the signatures
    lines[2] = flipFirstByte(lines[2]!);
    checkpoint.envelope = lines.join('\n');
    hostile.serve(pkg.name, pkg.version, [tampered]);
    await installIsRefused({ [pkg.name]: pkg.version }, [
      /acme-checkpoint@1\.0\.0 .*denied by rule acme-internal/,
      invalid('TLOG_INVALID'),
      /invalid checkpoint signature/,
    ]);
  });

  test('untrusted CA: a bundle for the company identity from a Sigstore instance the policy does not know is denied', async () => {
    const pkg = await world.build({ name: 'acme-foreign-ca', version: '1.0.0' });
    // The attacker runs their own CA, log and issuer, which mint release-bot@acme.example for anyone.
    await foreign.attach(
      pkg.name,
      pkg.version,
      await signWith(foreign, pkg, ACME_RELEASER, { kind: 'publish', registry: world.privateRegistry.url }),
    );
    await world.privateRegistry.publish(pkg);
    const yarn = await acmeProject(world, {
      dependencies: { [pkg.name]: pkg.version },
      defaultRegistry: world.privateRegistry,
      yarnrc: { tollgateAttestationStores: [world.server.url, foreign.url] },
    });
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [
      /acme-foreign-ca@1\.0\.0 .*denied by rule acme-internal/,
      invalid('UNTRUSTED_ROOT'),
      /no trust root verifies this bundle/,
    ]);
    neverRan(pkg.name, pkg.version);
  });

  test('untrusted CA: a bundle from a declared trust root the rule does not allow is denied (trust-root-not-allowed)', async () => {
    const pkg = await world.build({ name: 'acme-partner-ca', version: '1.0.0' });
    hostile.serve(pkg.name, pkg.version, [
      await signWith(foreign, pkg, ACME_RELEASER, { kind: 'publish', registry: world.privateRegistry.url }),
    ]);
    await world.privateRegistry.publish(pkg);
    const policy = acmePolicy(world);
    // The foreign instance is trusted for something else (say, a partner's packages), never for acme-*.
    (policy.trustRoots as Record<string, unknown>).partner = { file: 'partner-trusted-root.json' };
    (policy.defaults as Record<string, unknown>).trust = ['local', 'partner'];
    const yarn = await project({ [pkg.name]: pkg.version }, policy);
    yarn.write('partner-trusted-root.json', foreign.trustedRootJson);
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [
      /acme-partner-ca@1\.0\.0 .*denied by rule acme-internal/,
      /trust-root-not-allowed/,
      /actual: +partner/,
    ]);
    neverRan(pkg.name, pkg.version);
  });

  test("untrusted log: a company certificate whose signature was logged in another instance's log is denied", async () => {
    const pkg = await world.build({ name: 'acme-foreign-log', version: '1.0.0' });
    const bundle = await signWith(world.server, pkg, ACME_RELEASER, {
      kind: 'publish',
      registry: world.privateRegistry.url,
      logUrl: foreign.url,
    });
    hostile.serve(pkg.name, pkg.version, [bundle]);
    await world.privateRegistry.publish(pkg);
    await installIsRefused({ [pkg.name]: pkg.version }, [
      /acme-foreign-log@1\.0\.0 .*denied by rule acme-internal/,
      invalid('UNTRUSTED_ROOT'),
      /trust root "local": inclusion promise could not be verified/,
    ]);
  });

  test('expired certificate: a signature the log integrated after the certificate expired is denied', async () => {
    // The most honest construction we have: the company's CA issues a real ten-minute certificate now,
    // and the signature is logged by the same instance's log (same log key, so SET, checkpoint and
    // inclusion proof all verify) running with its clock two hours ahead. The bundle is exactly what a
    // thief of the ephemeral key would get by signing after the certificate expired.
    const skewed = await startSkewedLog(scope, world.server, 2 * 60 * 60 * 1000);
    const pkg = await world.build({ name: 'acme-expired-cert', version: '1.0.0' });
    const bundle = await signWith(world.server, pkg, ACME_RELEASER, {
      kind: 'publish',
      registry: world.privateRegistry.url,
      logUrl: skewed.url,
    });
    const integrated = Number(bundle.verificationMaterial.tlogEntries[0].integratedTime) * 1000;
    assert.ok(
      integrated > Date.now() + 60 * 60 * 1000,
      'the log entry is dated after the certificate expired',
    );
    hostile.serve(pkg.name, pkg.version, [bundle]);
    await world.privateRegistry.publish(pkg);
    await installIsRefused({ [pkg.name]: pkg.version }, [
      /acme-expired-cert@1\.0\.0 .*denied by rule acme-internal/,
      invalid('CERTIFICATE_INVALID'),
      /certificate is not valid or expired at the specified date/,
    ]);
  });

  test('expired certificate: a genuine bundle whose integratedTime was moved before the certificate was issued is denied', async () => {
    // Editing the time also breaks the log's signed entry timestamp (the SET covers integratedTime);
    // sigstore-js checks the certificate at the claimed time first, so the window is what it reports.
    const { pkg, bundle } = await signedButDetached('acme-backdated');
    const tampered = copyBundle(bundle);
    const entry = tampered.verificationMaterial.tlogEntries[0];
    entry.integratedTime = String(Number(entry.integratedTime) - 24 * 60 * 60);
    hostile.serve(pkg.name, pkg.version, [tampered]);
    await installIsRefused({ [pkg.name]: pkg.version }, [
      /acme-backdated@1\.0\.0 .*denied by rule acme-internal/,
      invalid('CERTIFICATE_INVALID'),
    ]);
  });

  test("log tampering: a bundle whose integratedTime was altered inside the certificate's validity is denied (the SET covers it)", async () => {
    const { pkg, bundle } = await signedButDetached('acme-retimed');
    const tampered = copyBundle(bundle);
    const entry = tampered.verificationMaterial.tlogEntries[0];
    entry.integratedTime = String(Number(entry.integratedTime) + 60);
    hostile.serve(pkg.name, pkg.version, [tampered]);
    await installIsRefused({ [pkg.name]: pkg.version }, [
      /acme-retimed@1\.0\.0 .*denied by rule acme-internal/,
      invalid('TLOG_INVALID'),
    ]);
  });
});

/** The bundle the real store holds for a package (what any client can download and replay). */
async function storedBundle(server: SigstoreServer, pkg: BuiltPackage): Promise<Bundle> {
  const res = await fetch(`${server.url}/-/npm/v1/attestations/${pkg.name}@${pkg.version}`);
  assert.equal(res.status, 200, `the store has ${pkg.name}@${pkg.version}`);
  const body = (await res.json()) as { attestations: Array<{ bundle: Bundle }> };
  return body.attestations[0]!.bundle;
}

function flipFirstByte(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] = bytes[0]! ^ 0xff;
  return bytes.toString('base64');
}

/**
 * What an attacker with write access to the registry's storage does besides swapping the tarball:
 * makes the packument's dist.integrity and shasum describe the new tarball.
 */
function rewriteStoredIntegrity(registry: Registry, pkg: BuiltPackage): void {
  const path = join(registry.storageDir, pkg.name, 'package.json');
  const stored = JSON.parse(readFileSync(path, 'utf8'));
  stored.versions[pkg.version].dist.integrity = pkg.integrity;
  stored.versions[pkg.version].dist.shasum = pkg.shasum;
  writeFileSync(path, JSON.stringify(stored, null, 2));
}
