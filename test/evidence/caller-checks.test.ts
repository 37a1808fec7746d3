// The checks sigstore-js leaves to callers, each exercised on its own with real bundles: a statement
// whose signature is valid cannot be re-typed or re-pointed without breaking the signature, so the
// check functions are driven directly with the altered structures they exist to catch.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { bundleFromJSON } from '@sigstore/bundle';
import { create } from 'tar';
import { assertTlogNamesSigner } from '../../policy/evidence/bundle/tlog-certificate';
import { EvidenceError } from '../../policy/evidence/error';
import { assertManifestNames } from '../../policy/evidence/npm/manifest';
import { assertSubjectIsPackage, readStatement } from '../../policy/evidence/statement/in-toto';
import { assertPublishPredicate } from '../../policy/evidence/statement/publish-attestation';
import { npmPurl } from '../../policy/evidence/statement/purl';
import { loadTrustRoots } from '../../policy/evidence/trust/context';
import { loadNpmFixture } from './fixtures';

const sigstore = loadNpmFixture('sigstore-2.3.1');
const gundam = loadNpmFixture('gundam-visor-1.0.1');
const provenanceOf = (f: typeof sigstore) =>
  f.attestations.find((a) => a.predicateType.includes('slsa'))!.bundle;
const publishOf = (f: typeof sigstore) =>
  f.attestations.find((a) => a.predicateType.includes('publish'))!.bundle;
const sha512Of = (f: typeof sigstore) => Buffer.from(f.integrity.slice(7), 'base64');
const failsWith = (code: string, pattern?: RegExp) => (err: unknown) =>
  err instanceof EvidenceError && err.code === code && (!pattern || pattern.test(err.message));

test("purl encodes a scope's @ as %40", () => {
  assert.equal(npmPurl('sigstore', '2.3.1'), 'pkg:npm/sigstore@2.3.1');
  assert.equal(npmPurl('@scope/pkg', '1.0.0-rc.1'), 'pkg:npm/%40scope/pkg@1.0.0-rc.1');
});

test('payloadType other than in-toto is rejected', () => {
  const json = JSON.parse(JSON.stringify(provenanceOf(sigstore)));
  json.dsseEnvelope.payloadType = 'application/vnd.dev.sigstore.other+json';
  assert.throws(
    () => readStatement(bundleFromJSON(json)),
    failsWith('PAYLOAD_TYPE_UNEXPECTED', /expected "application\/vnd\.in-toto\+json"/),
  );
  assert.doesNotThrow(() => readStatement(bundleFromJSON(provenanceOf(sigstore))));
});

test('the in-toto subject must be exactly this purl with this tarball sha512', () => {
  const statement = readStatement(bundleFromJSON(provenanceOf(sigstore)));
  assert.doesNotThrow(() => assertSubjectIsPackage(statement, 'pkg:npm/sigstore@2.3.1', sha512Of(sigstore)));
  assert.throws(
    () => assertSubjectIsPackage(statement, 'pkg:npm/sigstore@2.3.2', sha512Of(sigstore)),
    failsWith('SUBJECT_MISMATCH'),
  );
  assert.throws(
    () => assertSubjectIsPackage(statement, 'pkg:npm/sigstore@2.3.1', sha512Of(gundam)),
    failsWith('SUBJECT_MISMATCH', /sha512/),
  );
  const two = {
    ...statement,
    subject: [...statement.subject, { name: 'pkg:npm/other@1.0.0', digest: { sha512: 'aa' } }],
  };
  assert.throws(
    () => assertSubjectIsPackage(two, 'pkg:npm/sigstore@2.3.1', sha512Of(sigstore)),
    failsWith('SUBJECT_MISMATCH', /2 subjects/),
  );
});

test('the publish attestation predicate must name this package and version', () => {
  const statement = readStatement(bundleFromJSON(publishOf(sigstore)));
  assert.doesNotThrow(() => assertPublishPredicate(statement, 'sigstore', '2.3.1'));
  assert.throws(
    () => assertPublishPredicate(statement, 'sigstore', '2.3.0'),
    failsWith('PUBLISH_ATTESTATION_MISMATCH', /for sigstore@2\.3\.1, expected sigstore@2\.3\.0/),
  );
  assert.throws(
    () => assertPublishPredicate(statement, 'sigstor', '2.3.1'),
    failsWith('PUBLISH_ATTESTATION_MISMATCH'),
  );
});

test("the tlog entry body must record the bundle's own certificate (or key)", () => {
  const ctx = loadTrustRoots([{ name: 'public-good' }]);
  const ours = bundleFromJSON(provenanceOf(sigstore));
  const theirs = bundleFromJSON(provenanceOf(gundam));
  const anyKey = ctx.npmKeys[0]!.publicKey;
  assert.doesNotThrow(() => assertTlogNamesSigner(ours, anyKey));
  const mixed = {
    ...ours,
    verificationMaterial: {
      ...ours.verificationMaterial,
      tlogEntries: theirs.verificationMaterial.tlogEntries,
    },
  };
  assert.throws(
    () => assertTlogNamesSigner(mixed, anyKey),
    failsWith('TLOG_BODY_CERTIFICATE_MISMATCH', /different certificate/),
  );
  const publish = bundleFromJSON(publishOf(sigstore));
  const npmKey = ctx.npmKeys.find(
    (k) => k.keyId === 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA',
  )!.publicKey;
  assert.doesNotThrow(() => assertTlogNamesSigner(publish, npmKey));
  const otherKey = ctx.npmKeys.find(
    (k) => !k.spki.equals(ctx.npmKeys.find((n) => n.publicKey === npmKey)!.spki),
  )!.publicKey;
  assert.throws(
    () => assertTlogNamesSigner(publish, otherKey),
    failsWith('TLOG_BODY_CERTIFICATE_MISMATCH', /public-key/),
  );
});

/** A gzipped tarball of `files` in this order; a value `{ link }` is a symbolic link to that target. */
async function tarball(files: Record<string, string | { link: string }>): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-manifest-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      if (typeof content === 'string') writeFileSync(join(dir, path), content);
      else symlinkSync(content.link, join(dir, path));
    }
    const out = join(dir, 'out.tgz');
    await create({ gzip: true, cwd: dir, file: out, portable: true }, Object.keys(files));
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("manifest confusion: the tarball's package.json must name the package and version", async () => {
  await assertManifestNames(sigstore.tarball, 'sigstore', '2.3.1');
  const evil = await tarball({
    'package/package.json': JSON.stringify({ name: 'evil', version: '6.6.6' }),
    'package/index.js': '',
  });
  await assert.rejects(
    assertManifestNames(evil, 'sigstore', '2.3.1'),
    failsWith('MANIFEST_MISMATCH', /names evil@6\.6\.6, expected sigstore@2\.3\.1/),
  );
  const renamedRoot = await tarball({
    'sigstore/package.json': JSON.stringify({ name: 'sigstore', version: '2.3.1' }),
  });
  await assertManifestNames(renamedRoot, 'sigstore', '2.3.1');
  const two = await tarball({
    'package/package.json': JSON.stringify({ name: 'sigstore', version: '2.3.1' }),
    'other/package.json': JSON.stringify({ name: 'evil', version: '6.6.6' }),
  });
  await assert.rejects(
    assertManifestNames(two, 'sigstore', '2.3.1'),
    failsWith('MANIFEST_UNREADABLE', /2 root package\.json/),
  );
  const none = await tarball({ 'package/index.js': '' });
  await assert.rejects(
    assertManifestNames(none, 'sigstore', '2.3.1'),
    failsWith('MANIFEST_UNREADABLE', /no <root>\/package\.json/),
  );
  await assert.rejects(
    assertManifestNames(Buffer.from('not gzip'), 'sigstore', '2.3.1'),
    failsWith('MANIFEST_UNREADABLE', /not gzip/),
  );
  // Every header of the tarball counts, not only those before the manifest: the manifest after a large
  // file is found, a second root manifest whose path only a pax header spells out is counted, and a
  // damaged header after the manifest makes the tarball unreadable.
  const valid = JSON.stringify({ name: 'sigstore', version: '2.3.1' });
  await assertManifestNames(
    await tarball({ 'package/big.js': 'x'.repeat(300_000), 'package/package.json': valid }),
    'sigstore',
    '2.3.1',
  );
  const longRoot = 'r'.repeat(200);
  const paxTwin = await tarball({ 'package/package.json': valid, [`${longRoot}/package.json`]: valid });
  assert.match(gunzipSync(paxTwin).toString('latin1'), /path=r{200}\/package\.json/);
  await assert.rejects(
    assertManifestNames(paxTwin, 'sigstore', '2.3.1'),
    failsWith('MANIFEST_UNREADABLE', /2 root package\.json/),
  );
  const tar = gunzipSync(await tarball({ 'package/package.json': valid, 'package/index.js': 'x' }));
  const second = 512 + Math.ceil(valid.length / 512) * 512;
  assert.equal(tar.toString('latin1', second, second + 16).replace(/\0.*/, ''), 'package/index.js');
  tar[second + 148] = tar[second + 148] === 0x31 ? 0x32 : 0x31; // its header checksum
  await assert.rejects(
    assertManifestNames(gzipSync(tar), 'sigstore', '2.3.1'),
    failsWith('MANIFEST_UNREADABLE'),
  );
  await assert.rejects(
    assertManifestNames(
      await tarball({ 'package/real.json': valid, 'package/package.json': { link: 'real.json' } }),
      'sigstore',
      '2.3.1',
    ),
    failsWith('MANIFEST_UNREADABLE', /is a SymbolicLink, not a file/),
  );
});
