// Real npm provenance, verified offline against the public-good root and npm keys embedded in
// @sigstore/tuf, and negative variants built from it here.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { loadTrustRoots } from '../../policy/evidence/trust/context';
import type { VerifiedEvidence } from '../../policy/evidence/types';
import { verifyPackageEvidence } from '../../policy/evidence/verify-package';
import { integrityOf, loadNpmFixture, NPM_PACKAGES, packageInput } from './fixtures';

const ctx = loadTrustRoots([{ name: 'public-good' }]);
const sigstore = loadNpmFixture('sigstore-2.3.1');
const gundam = loadNpmFixture('gundam-visor-1.0.1');

const codes = (e: VerifiedEvidence) => e.failures.map((f) => f.code);
type Json = { [k: string]: Json } & Json[];
const clone = (o: object): Json => JSON.parse(JSON.stringify(o));

test('all five real packages verify offline: publish attestation and provenance, bound to the tarball', async () => {
  for (const [file, name, version] of NPM_PACKAGES) {
    const evidence = await verifyPackageEvidence(ctx, packageInput(loadNpmFixture(file)));
    assert.deepEqual(evidence.failures, [], `${file}: ${JSON.stringify(evidence.failures)}`);
    assert.deepEqual(evidence.package, { name, version, integrity: loadNpmFixture(file).integrity });
    assert.deepEqual(evidence.bundles.map((b) => b.kind).sort(), ['provenance', 'publish-attestation']);
    for (const b of evidence.bundles) {
      assert.equal(b.trustRoot, 'public-good');
      assert.match(b.bundleDigest, /^[0-9a-f]{64}$/);
      assert.match(b.source, new RegExp(`^${file}\\.attestations\\.json#\\d$`));
    }
  }
});

test('sigstore@2.3.1: signer identity with every Fulcio claim, SLSA v1 claims and log facts', async () => {
  const evidence = await verifyPackageEvidence(ctx, packageInput(sigstore));
  const provenance = evidence.bundles.find((b) => b.kind === 'provenance')!;
  const publish = evidence.bundles.find((b) => b.kind === 'publish-attestation')!;
  assert.equal(provenance.predicateType, 'https://slsa.dev/provenance/v1');
  assert.deepEqual(
    { ...provenance.signer, claims: undefined },
    {
      issuer: 'https://token.actions.githubusercontent.com',
      subject: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
      subjectKind: 'uri',
      claims: undefined,
    },
  );
  const claims = provenance.signer!.claims;
  assert.equal(claims.issuer, 'https://token.actions.githubusercontent.com');
  assert.equal(
    claims.buildSignerUri,
    'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
  );
  assert.equal(claims.buildSignerDigest, '46e7056ff9912ebfee5298d94024895a9fea76c0');
  assert.equal(claims.runnerEnvironment, 'github-hosted');
  assert.equal(claims.sourceRepositoryUri, 'https://github.com/sigstore/sigstore-js');
  assert.equal(claims.sourceRepositoryDigest, '46e7056ff9912ebfee5298d94024895a9fea76c0');
  assert.equal(claims.sourceRepositoryRef, 'refs/heads/main');
  assert.equal(claims.sourceRepositoryIdentifier, '495574555');
  assert.equal(claims.sourceRepositoryOwnerUri, 'https://github.com/sigstore');
  assert.equal(claims.sourceRepositoryOwnerIdentifier, '71096353');
  assert.equal(
    claims.buildConfigUri,
    'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
  );
  assert.equal(claims.buildTrigger, 'push');
  assert.match(
    claims.runInvocationUri!,
    /^https:\/\/github\.com\/sigstore\/sigstore-js\/actions\/runs\/9116405766\/attempts\/1$/,
  );
  assert.equal(claims.githubWorkflowTrigger, 'push');
  assert.equal(claims.githubWorkflowRepository, 'sigstore/sigstore-js');
  assert.deepEqual(provenance.provenance, {
    predicateType: 'https://slsa.dev/provenance/v1',
    slsaVersion: '1',
    repository: 'https://github.com/sigstore/sigstore-js',
    workflowPath: '.github/workflows/release.yml',
    ref: 'refs/heads/main',
    event: 'push',
    builderId: 'https://github.com/actions/runner/github-hosted',
    runner: 'github-hosted',
    repositoryId: '495574555',
    repositoryOwnerId: '71096353',
  });
  assert.equal(provenance.integratedTime, 1715879523);
  assert.equal(provenance.logIndex, 94408136);
  assert.equal(provenance.logId, 'c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d');
  assert.equal(publish.keyId, 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA');
  assert.equal(publish.signer, undefined);
  assert.equal(publish.predicateType, 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1');
});

test('SLSA v0.2 provenance claims are extracted', async () => {
  const evidence = await verifyPackageEvidence(
    ctx,
    packageInput(loadNpmFixture('trishankatdatadog-supreme-goggles-1.0.5')),
  );
  assert.deepEqual(evidence.bundles.find((b) => b.kind === 'provenance')!.provenance, {
    predicateType: 'https://slsa.dev/provenance/v0.2',
    slsaVersion: '0.2',
    repository: 'https://github.com/trishankatdatadog/supreme-goggles',
    workflowPath: '.github/workflows/npm-publish.yml',
    ref: 'refs/tags/v1.0.5',
    event: 'release',
    builderId: 'https://github.com/actions/runner',
    repositoryId: '636292006',
    repositoryOwnerId: '33133073',
  });
});

test('bundles attached to another package are rejected: subject names sigstore, not gundam-visor', async () => {
  const evidence = await verifyPackageEvidence(
    ctx,
    packageInput(gundam, { bundles: packageInput(sigstore).bundles }),
  );
  assert.deepEqual(evidence.bundles, []);
  assert.deepEqual(codes(evidence), ['SUBJECT_MISMATCH', 'SUBJECT_MISMATCH']);
  assert.match(
    evidence.failures[0]!.message,
    /"pkg:npm\/sigstore@2\.3\.1", expected pkg:npm\/gundam-visor@1\.0\.1/,
  );
});

test('bundles attached to another version are rejected, and so is the tarball claimed as that version', async () => {
  const evidence = await verifyPackageEvidence(ctx, packageInput(sigstore, { version: '2.3.2' }));
  assert.deepEqual(evidence.bundles, []);
  assert.deepEqual(codes(evidence).sort(), ['MANIFEST_MISMATCH', 'SUBJECT_MISMATCH', 'SUBJECT_MISMATCH']);
  assert.match(
    evidence.failures.find((f) => f.code === 'MANIFEST_MISMATCH')!.message,
    /names sigstore@2\.3\.1, expected sigstore@2\.3\.2/,
  );
});

test('a modified tarball is rejected, whether or not its integrity was updated to match', async () => {
  const modified = Buffer.from(sigstore.tarball);
  modified[modified.length - 100]! ^= 0xff;
  const stale = await verifyPackageEvidence(ctx, packageInput(sigstore, { tarball: modified }));
  assert.deepEqual(stale.bundles, []);
  assert.ok(
    codes(stale).every((c) => c === 'TARBALL_INTEGRITY_MISMATCH'),
    JSON.stringify(stale.failures),
  );
  const updated = await verifyPackageEvidence(
    ctx,
    packageInput(sigstore, { tarball: modified, integrity: integrityOf(modified) }),
  );
  assert.deepEqual(updated.bundles, []);
  assert.ok(
    codes(updated).filter((c) => c === 'SUBJECT_MISMATCH').length === 2,
    JSON.stringify(updated.failures),
  );
});

test('a swapped subject breaks the signature', async () => {
  const bundles = sigstore.attestations.map((a) => {
    const bundle = clone(a.bundle);
    const statement = JSON.parse(
      Buffer.from(bundle.dsseEnvelope.payload as unknown as string, 'base64').toString(),
    );
    statement.subject = [{ name: 'pkg:npm/gundam-visor@1.0.1', digest: { sha512: gundamSha512() } }];
    (bundle.dsseEnvelope as unknown as Record<string, string>).payload = Buffer.from(
      JSON.stringify(statement),
    ).toString('base64');
    return { json: JSON.stringify(bundle), source: 'swapped' };
  });
  const evidence = await verifyPackageEvidence(ctx, packageInput(gundam, { bundles }));
  assert.deepEqual(evidence.bundles, []);
  assert.equal(evidence.failures.length, 2);
  for (const f of evidence.failures)
    assert.ok(['TLOG_INVALID', 'SIGNATURE_INVALID'].includes(f.code), `${f.code}: ${f.message}`);
});

function gundamSha512(): string {
  return Buffer.from(gundam.integrity.slice('sha512-'.length), 'base64').toString('hex');
}

test('a publish attestation checked with the wrong key fails; without any npm key it is unverifiable', async () => {
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
    format: 'der',
    type: 'spki',
  });
  const wrongKeys = {
    keys: [
      {
        keyId: 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA',
        keyUsage: 'npm:attestations',
        publicKey: { rawBytes: spki.toString('base64'), validFor: { start: '2020-01-01T00:00:00Z' } },
      },
    ],
  };
  const wrong = loadTrustRoots([{ name: 'public-good' }], { embeddedNpmKeys: false, npmKeys: [wrongKeys] });
  const evidence = await verifyPackageEvidence(wrong, packageInput(sigstore));
  assert.deepEqual(
    evidence.bundles.map((b) => b.kind),
    ['provenance'],
  );
  assert.deepEqual(codes(evidence), ['SIGNATURE_INVALID']);
  const none = loadTrustRoots([{ name: 'public-good' }], { embeddedNpmKeys: false });
  assert.deepEqual(codes(await verifyPackageEvidence(none, packageInput(sigstore))), ['PUBLIC_KEY_UNKNOWN']);
});

test('a foreign root in the bundle chain is rejected; a copy of the trusted root (npm v0.1 bundles) is not', async () => {
  const laurent = loadNpmFixture('laurentsimon-provenance-npm-test-1.0.3');
  const original = await verifyPackageEvidence(ctx, packageInput(laurent));
  assert.deepEqual(original.failures, []);
  const { generateSelfSigned } = await import('./self-signed');
  const foreignRoot = await generateSelfSigned();
  const bundles = laurent.attestations.map((a, i) => {
    const bundle = clone(a.bundle);
    const chain = (
      bundle.verificationMaterial as unknown as {
        x509CertificateChain?: { certificates: { rawBytes: string }[] };
      }
    ).x509CertificateChain;
    chain?.certificates.splice(2, 1, { rawBytes: foreignRoot.toString('base64') });
    return { json: JSON.stringify(bundle), source: `#${i}` };
  });
  const evidence = await verifyPackageEvidence(ctx, packageInput(laurent, { bundles }));
  assert.deepEqual(
    evidence.bundles.map((b) => b.kind),
    ['publish-attestation'],
  );
  assert.deepEqual(codes(evidence), ['BUNDLE_CHAIN_INCLUDES_ROOT']);
});

test('without the tarball the manifest check is reported as not done; bundles still bind to the integrity', async () => {
  const evidence = await verifyPackageEvidence(ctx, packageInput(sigstore, { tarball: undefined }));
  assert.equal(evidence.bundles.length, 2);
  assert.deepEqual(codes(evidence), ['TARBALL_REQUIRED']);
  assert.equal(evidence.failures[0]!.source, 'tarball');
});

test('a package not installed on this machine is verified against its integrity, the manifest check left to where it is installed', async () => {
  const evidence = await verifyPackageEvidence(
    ctx,
    packageInput(sigstore, { tarball: undefined, notInstalled: true }),
  );
  assert.equal(evidence.bundles.length, 2);
  assert.deepEqual(codes(evidence), []);
  // Bytes at hand are always checked: with the tarball the flag changes nothing.
  const withBytes = await verifyPackageEvidence(ctx, packageInput(sigstore, { notInstalled: true }));
  assert.deepEqual(withBytes, await verifyPackageEvidence(ctx, packageInput(sigstore)));
});
