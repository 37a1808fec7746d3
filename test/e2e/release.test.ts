// A plugin release users can verify: `npm run release` (scripts/release.mjs) builds the bundle from a
// commit, twice gives the same bytes, writes the checksum Yarn records, and signs it with `yarn
// tollgate sign --as plugin-release` against a real tollgate-server; `yarn tollgate verify-release`
// accepts it for the expected identity only, and refuses a bundle one byte off.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { repoRoot, tempDir } from '../harness/paths';
import { run } from '../harness/process';
import { Scope } from '../harness/scope';
import { type SigstoreServer, startSigstoreServer } from '../harness/sigstore';
import { createYarnProject, type YarnProject } from '../harness/yarn-project';

const RELEASER = 'release@tollgate.example';
const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version as string;
const bundleName = `plugin-tollgate-${version}.js`;

function release(out: string, args: string[], home: string) {
  return run(process.execPath, [join(repoRoot, 'scripts/release.mjs'), '--out', out, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: home, TMPDIR: process.env.TMPDIR, CI: 'true', FORCE_COLOR: '0' },
    timeoutMs: 600_000,
  });
}

function noStackTrace(output: string): void {
  assert.doesNotMatch(output, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
}

describe('a verifiable plugin release (npm run release, real Yarn and tollgate-server)', () => {
  const scope = new Scope();
  let server: SigstoreServer;
  let signedDir: string;
  let unsignedDir: string;
  let project: YarnProject;
  // One commit for both builds: others may commit while the test runs (HEAD would move under it).
  const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot }).toString().trim();

  before(async () => {
    server = await startSigstoreServer(scope, 'release');
    const home = tempDir('release-home');
    signedDir = tempDir('release-a');
    unsignedDir = tempDir('release-b');
    // One signed and one unsigned build, sequentially (each is a full esbuild of the plugin).
    const signed = await release(
      signedDir,
      ['--ref', commit, '--', '--sigstore-server', server.url, '--dev-identity', RELEASER],
      home,
    );
    assert.equal(signed.code, 0, signed.output);
    const unsigned = await release(unsignedDir, ['--ref', commit, '--no-sign'], home);
    assert.equal(unsigned.code, 0, unsigned.output);
    // A project with the plugin of this working tree: the verifier under test.
    project = await createYarnProject({
      registry: 'http://127.0.0.1:9/',
      withPlugin: true,
      files: { 'trusted_root.json': server.trustedRootJson },
    });
  });
  after(() => scope.close());

  test('built twice from one commit, the release is byte-identical, with the sha512 Yarn records on import', async () => {
    const a = readFileSync(join(signedDir, bundleName));
    const b = readFileSync(join(unsignedDir, bundleName));
    assert.ok(a.length > 100_000, `a real bundle (${a.length} bytes)`);
    assert.ok(a.equals(b), 'the two builds differ');

    const manifest = JSON.parse(readFileSync(join(signedDir, 'release.json'), 'utf8'));
    const sha512 = createHash('sha512').update(a).digest('hex');
    assert.equal(manifest.sha512, sha512);
    assert.equal(manifest.integrity, `sha512-${createHash('sha512').update(a).digest('base64')}`);
    assert.equal(manifest.commit, commit);
    assert.equal(manifest.signature, `${bundleName}.sigstore.json`);
    assert.equal(readFileSync(join(signedDir, `${bundleName}.sha512`), 'utf8'), `${sha512}  ${bundleName}\n`);
    const other = JSON.parse(readFileSync(join(unsignedDir, 'release.json'), 'utf8'));
    assert.equal(other.sha512, manifest.sha512);
    assert.equal(other.signature, null);

    // `yarn plugin import <released file>` loads it and records exactly that checksum.
    const consumer = await createYarnProject({ registry: 'http://127.0.0.1:9/' });
    const imported = await consumer.yarn(['plugin', 'import', join(signedDir, bundleName)]);
    assert.equal(imported.code, 0, imported.output);
    const plugins = (parseYaml(consumer.readYarnrc()) as { plugins: { path: string; checksum: string }[] })
      .plugins;
    assert.deepEqual(
      plugins.map((p) => [p.path, p.checksum]),
      [['.yarn/plugins/@yarnpkg/plugin-tollgate.cjs', manifest.yarnrcChecksum]],
    );
    const versionRun = await consumer.yarn(['tollgate', '--version']);
    assert.equal(versionRun.code, 0, versionRun.output);
    assert.match(versionRun.stdout, new RegExp(version.replace(/\./g, '\\.')));
  });

  test('the signed release verifies with tollgate-server’s trust root for the releaser; another identity, a changed byte or a policy signature do not', async () => {
    const file = join(signedDir, bundleName);
    const bundlePath = `${file}.sigstore.json`;
    const identity = ['--issuer', server.issuer, '--identity', RELEASER];
    const ok = await project.yarn([
      'tollgate',
      'verify-release',
      file,
      '--trusted-root',
      'trusted_root.json',
      ...identity,
    ]);
    assert.equal(ok.code, 0, ok.output);
    assert.match(
      ok.output,
      new RegExp(`YN9149: ✓ .*${bundleName} is a Tollgate plugin release signed by ${RELEASER}`),
    );
    assert.match(ok.output, /transparency log index \d+/);
    const manifest = JSON.parse(readFileSync(join(signedDir, 'release.json'), 'utf8'));
    assert.match(ok.output, new RegExp(`sha512 ${manifest.sha512}`));

    const glob = await project.yarn([
      'tollgate',
      'verify-release',
      file,
      '--sigstore-server',
      server.url,
      '--issuer',
      server.issuer,
      '--identity-glob',
      '*@tollgate.example',
    ]);
    assert.equal(glob.code, 0, glob.output);

    const someoneElse = await project.yarn([
      'tollgate',
      'verify-release',
      file,
      '--trusted-root',
      'trusted_root.json',
      '--issuer',
      server.issuer,
      '--identity',
      'mallory@evil.example',
    ]);
    assert.equal(someoneElse.code, 1, someoneElse.output);
    assert.match(someoneElse.output, new RegExp(`signed by ${RELEASER} .*whom the policy does not list`));
    noStackTrace(someoneElse.output);

    const otherIssuer = await project.yarn([
      'tollgate',
      'verify-release',
      file,
      '--trusted-root',
      'trusted_root.json',
      '--issuer',
      'https://token.actions.githubusercontent.com',
      '--identity',
      RELEASER,
    ]);
    assert.equal(otherIssuer.code, 1, otherIssuer.output);

    // One byte changed in the middle of the bundle: same length, same name, the old signature.
    const bytes = readFileSync(file);
    const at = bytes.length >> 1;
    bytes[at] = bytes[at]! ^ 0x01;
    const tampered = join(project.dir, bundleName);
    writeFileSync(tampered, bytes);
    const changed = await project.yarn([
      'tollgate',
      'verify-release',
      tampered,
      '--bundle',
      bundlePath,
      '--trusted-root',
      'trusted_root.json',
      ...identity,
    ]);
    assert.equal(changed.code, 1, changed.output);
    assert.match(changed.output, /is not accepted: its bundle does not verify against these bytes/);
    noStackTrace(changed.output);

    // A trust root that did not issue the certificate: refused.
    const foreign = await startSigstoreServer(scope, 'release-foreign');
    project.write('foreign_root.json', foreign.trustedRootJson);
    const wrongRoot = await project.yarn([
      'tollgate',
      'verify-release',
      file,
      '--trusted-root',
      'foreign_root.json',
      ...identity,
    ]);
    assert.equal(wrongRoot.code, 1, wrongRoot.output);

    // Signed as a release workflow signs it in CI: the identity is the workflow at a tag, and the
    // certificate names the repository and commit, which verify-release prints.
    const ciCopy = join(project.dir, 'ci-release.js');
    writeFileSync(ciCopy, readFileSync(file));
    const signAsWorkflow = async (ref: string) => {
      const token = await server.token({
        kind: 'workflow',
        repository: 'tollgate-dev/tollgate',
        workflow: '.github/workflows/release.yml',
        ref,
      });
      const res = await project.yarn([
        'tollgate',
        'sign',
        ciCopy,
        '--as',
        'plugin-release',
        '--sigstore-server',
        server.url,
        '--identity-token',
        token,
      ]);
      assert.equal(res.code, 0, res.output);
    };
    const workflowGlob =
      'https://github.com/tollgate-dev/tollgate/.github/workflows/release.yml@refs/tags/v*';
    const verifyWorkflow = () =>
      project.yarn([
        'tollgate',
        'verify-release',
        ciCopy,
        '--trusted-root',
        'trusted_root.json',
        '--issuer',
        server.issuer,
        '--identity-glob',
        workflowGlob,
      ]);
    await signAsWorkflow(`refs/tags/v${version}`);
    const ci = await verifyWorkflow();
    assert.equal(ci.code, 0, ci.output);
    assert.ok(
      ci.output.includes(
        `signed by https://github.com/tollgate-dev/tollgate/.github/workflows/release.yml@refs/tags/v${version} (issuer ${server.issuer}) in https://github.com/tollgate-dev/tollgate at commit ${'a'.repeat(40)}`,
      ),
      ci.output,
    );
    // The same workflow run from a branch, not a tag, is not the pinned release identity.
    await signAsWorkflow('refs/heads/feature');
    const branch = await verifyWorkflow();
    assert.equal(branch.code, 1, branch.output);
    assert.match(
      branch.output,
      /release\.yml@refs\/heads\/feature .*does not list.*\(expected: issuer \S+, identity glob https:\/\/github\.com\/tollgate-dev\/tollgate\/\.github\/workflows\/release\.yml@refs\/tags\/v\*, trusted root /,
    );

    // The same bytes signed as something else (a policy) are not a plugin release.
    const asPolicy = join(project.dir, 'as-policy.js');
    writeFileSync(asPolicy, readFileSync(file));
    const signedAsPolicy = await project.yarn([
      'tollgate',
      'sign',
      asPolicy,
      '--as',
      'policy',
      '--sigstore-server',
      server.url,
      '--dev-identity',
      RELEASER,
    ]);
    assert.equal(signedAsPolicy.code, 0, signedAsPolicy.output);
    const policyKind = await project.yarn([
      'tollgate',
      'verify-release',
      asPolicy,
      '--trusted-root',
      'trusted_root.json',
      ...identity,
    ]);
    assert.equal(policyKind.code, 1, policyKind.output);
    assert.match(policyKind.output, /is not a signature of a plugin-release/);

    // No bundle, no identity: usage errors naming the fix.
    const noBundle = await project.yarn([
      'tollgate',
      'verify-release',
      join(unsignedDir, bundleName),
      ...identity,
    ]);
    assert.equal(noBundle.code, 2, noBundle.output);
    assert.match(noBundle.output, /its Sigstore bundle .*sigstore\.json.*pass --bundle/);
    noStackTrace(noBundle.output);
    const noIdentity = await project.yarn(['tollgate', 'verify-release', file, '--issuer', server.issuer]);
    assert.equal(noIdentity.code, 2, noIdentity.output);
    assert.match(noIdentity.output, /exactly one of --identity <subject> and --identity-glob <glob>/);
  });
});
