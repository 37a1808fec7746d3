import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL } from 'sigstore';
import { stringify } from 'yaml';
import { PUBLIC_GOOD_FULCIO_URL, PUBLIC_GOOD_REKOR_URL } from '../../plugin/sources/signing/public-good';
import { NPM_PUBLISH_PREDICATE, SLSA_PROVENANCE_V1 } from '../../plugin/sources/signing/statement';
import { observeBundle } from '../../policy';
import { loadTrustRoots, type TrustContext, verifyPackageEvidence } from '../../policy/evidence';
import { buildPackage } from '../harness/packages';
import { tempDir } from '../harness/paths';
import { type Registry, startRegistry } from '../harness/registry';
import { Scope } from '../harness/scope';
import { type SigstoreServer, startSigstoreServer } from '../harness/sigstore';
import { createYarnProject, type YarnProject } from '../harness/yarn-project';
import { acmePolicy, type World } from './fixtures';

const RELEASER = 'release-bot@acme.example';

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A clean failure: one YN line, no stack trace; exit 1 when signing itself failed, 2 for bad input. */
function assertCleanFailure(res: { code: number | null; output: string }, pattern: RegExp, code = 1) {
  assert.equal(res.code, code, res.output);
  assert.match(res.output, pattern);
  assert.doesNotMatch(res.output, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
}

interface SignatureSummary {
  type: string;
  name: string;
  integrity: string;
  kind: string;
  verified: boolean;
  signer: { subject: string; issuer: string } | null;
  logIndex: number | null;
}

function jsonLines(stdout: string): SignatureSummary[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as SignatureSummary);
}

describe('yarn tollgate sign and publish (real Yarn, Verdaccio and tollgate-server)', () => {
  const scope = new Scope();
  let server: SigstoreServer;
  let registry: Registry;
  let project: YarnProject;
  let trust: TrustContext;

  before(async () => {
    [server, registry] = await Promise.all([startSigstoreServer(scope), startRegistry(scope, 'private')]);
    trust = loadTrustRoots([{ name: 'local', trustedRootJson: server.trustedRootJson }]);
    project = await createYarnProject({
      registry: registry.url,
      scopes: { acme: registry.url },
      withPlugin: true,
      yarnrc: { tollgateAttestationStores: [server.url] },
    });
  });
  after(() => scope.close());

  // acmePolicy reads only the server's issuer and the private registry's URL.
  const world = () => ({ server, privateRegistry: registry }) as unknown as World;
  const devSigning = () => ['--sigstore-server', server.url, '--dev-identity', RELEASER];

  async function storedBundles(name: string, version: string): Promise<unknown[]> {
    const encoded = name.replace('/', '%2f');
    const res = await fetch(`${server.url}/-/npm/v1/attestations/${encoded}@${version}`);
    if (res.status === 404) return [];
    assert.equal(res.status, 200, `attestations of ${name}@${version}: HTTP ${res.status}`);
    const body = (await res.json()) as { attestations: Array<{ bundle: unknown }> };
    return body.attestations.map((a) => a.bundle);
  }

  async function verify(
    pkg: { name: string; version: string; integrity: string; tarball: Buffer },
    bundle: unknown,
  ) {
    return verifyPackageEvidence(trust, { ...pkg, bundles: [{ json: bundle as object, source: 'test' }] });
  }

  test('the public-good defaults are the ones sigstore-js uses', () => {
    assert.equal(PUBLIC_GOOD_FULCIO_URL, DEFAULT_FULCIO_URL);
    assert.equal(PUBLIC_GOOD_REKOR_URL, DEFAULT_REKOR_URL);
  });

  test('signs a local tarball as a dev identity; the bundle verifies and is attached', async () => {
    const pkg = await buildPackage({ name: '@acme/local', version: '1.0.0' });
    const dir = tempDir('tarballs');
    const path = join(dir, 'acme-local-1.0.0.tgz');
    writeFileSync(path, pkg.tarball);

    const res = await project.yarn(['tollgate', 'sign', path, ...devSigning(), '--json']);
    assert.equal(res.code, 0, res.output);
    const summary = jsonLines(res.stdout).find((l) => l.type === 'tollgate-signature');
    assert.ok(summary, res.stdout);
    assert.equal(summary.name, '@acme/local');
    assert.equal(summary.integrity, pkg.integrity);
    assert.equal(summary.kind, 'publish');
    assert.equal(summary.verified, true);
    assert.deepEqual(summary.signer, { subject: RELEASER, issuer: server.issuer });
    assert.equal(typeof summary.logIndex, 'number');

    const written = JSON.parse(project.read('acme-local-1.0.0.sigstore.json'));
    const evidence = await verify(pkg, written);
    assert.deepEqual(evidence.failures, []);
    const [bundle] = evidence.bundles;
    assert.equal(bundle?.kind, 'signature');
    assert.equal(bundle?.predicateType, NPM_PUBLISH_PREDICATE);
    assert.equal(bundle?.signer?.subject, RELEASER);
    assert.equal(bundle?.signer?.issuer, server.issuer);
    assert.equal(bundle?.logIndex, summary.logIndex);

    assert.deepEqual(await storedBundles('@acme/local', '1.0.0'), [written]);
    // A second signature is a different bundle: the store keeps every verified one, so whoever
    // attaches first cannot lock the publisher out.
    const again = await project.yarn(['tollgate', 'sign', path, ...devSigning(), '-o', 'again.json']);
    assert.equal(again.code, 0, again.output);
    const second = JSON.parse(project.read('again.json'));
    assert.deepEqual(await storedBundles('@acme/local', '1.0.0'), [written, second]);
    // The statement is bound to these bytes: another tarball under the same name does not verify.
    const other = await buildPackage({ name: '@acme/local', version: '1.0.0', files: { 'x.js': '1' } });
    const forged = await verify(other, written);
    assert.equal(forged.bundles.length, 0);
    assert.equal(forged.failures[0]?.code, 'SUBJECT_MISMATCH');
  });

  test('signs an already-published release fetched from the project registry', async () => {
    const pkg = await buildPackage({ name: '@acme/released', version: '2.1.0' });
    await registry.publish(pkg);
    const output = join(tempDir('out'), 'released.json');
    const res = await project.yarn([
      'tollgate',
      'sign',
      '@acme/released@^2.0.0',
      ...devSigning(),
      '--no-attach',
      '--output',
      output,
    ]);
    assert.equal(res.code, 0, res.output);
    assert.match(res.output, /Signed @acme\/released@2\.1\.0 .* as release-bot@acme\.example/);
    assert.match(res.output, /Not attached to any attestation store \(--no-attach\)/);
    const dist = (await registry.packument('@acme/released')).versions['2.1.0'].dist;
    assert.equal(dist.integrity, pkg.integrity);
    const evidence = await verify(pkg, JSON.parse(readFileSync(output, 'utf8')));
    assert.deepEqual(evidence.failures, []);
    assert.equal(evidence.bundles[0]?.signer?.subject, RELEASER);
    assert.deepEqual(await storedBundles('@acme/released', '2.1.0'), []);
  });

  test('in GitHub Actions with the run token, the bundle is SLSA provenance the certificate agrees with', async () => {
    const pkg = await buildPackage({ name: '@acme/built', version: '3.0.0' });
    const path = join(tempDir('tarballs'), 'built.tgz');
    writeFileSync(path, pkg.tarball);
    const workflow = {
      kind: 'workflow' as const,
      repository: 'acme/built',
      workflow: '.github/workflows/release.yml',
      ref: 'refs/tags/v3.0.0',
      repositoryId: '4242',
      ownerId: '77',
    };
    const token = await server.token(workflow);
    const env = {
      GITHUB_ACTIONS: 'true',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/built',
      GITHUB_WORKFLOW_REF: 'acme/built/.github/workflows/release.yml@refs/tags/v3.0.0',
      GITHUB_REF: 'refs/tags/v3.0.0',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REPOSITORY_ID: '4242',
      GITHUB_REPOSITORY_OWNER_ID: '77',
      RUNNER_ENVIRONMENT: 'github-hosted',
      GITHUB_SHA: 'a'.repeat(40),
      GITHUB_RUN_ID: '99',
      GITHUB_RUN_ATTEMPT: '1',
    };
    const res = await project.yarn(
      ['tollgate', 'sign', path, '--sigstore-server', server.url, '--identity-token', token, '--no-attach'],
      { env },
    );
    assert.equal(res.code, 0, res.output);
    assert.match(
      res.output,
      /SLSA provenance of acme\/built\/\.github\/workflows\/release\.yml@refs\/tags\/v3\.0\.0/,
    );
    const evidence = await verify(pkg, JSON.parse(project.read('acme-built-3.0.0.sigstore.json')));
    assert.deepEqual(evidence.failures, []);
    const bundle = evidence.bundles[0]!;
    assert.equal(bundle.kind, 'provenance');
    assert.equal(bundle.predicateType, SLSA_PROVENANCE_V1);
    assert.equal(
      bundle.signer?.subject,
      'https://github.com/acme/built/.github/workflows/release.yml@refs/tags/v3.0.0',
    );
    assert.deepEqual(
      {
        repository: bundle.provenance?.repository,
        workflowPath: bundle.provenance?.workflowPath,
        ref: bundle.provenance?.ref,
        event: bundle.provenance?.event,
        repositoryId: bundle.provenance?.repositoryId,
        repositoryOwnerId: bundle.provenance?.repositoryOwnerId,
        runner: bundle.provenance?.runner,
      },
      {
        repository: 'https://github.com/acme/built',
        workflowPath: '.github/workflows/release.yml',
        ref: 'refs/tags/v3.0.0',
        event: 'push',
        repositoryId: '4242',
        repositoryOwnerId: '77',
        runner: 'github-hosted',
      },
    );
    const observed = observeBundle(bundle);
    assert.deepEqual(observed.conflicts, [], 'the provenance agrees with the certificate');
    assert.equal(observed.identity.repository?.from, 'certificate');
    assert.equal(observed.identity.workflow?.value, '.github/workflows/release.yml');

    // The same token in another repository's run would make provenance that contradicts the certificate.
    const lying = await project.yarn(
      [
        'tollgate',
        'sign',
        path,
        '--sigstore-server',
        server.url,
        '--identity-token',
        token,
        '--no-attach',
        '-o',
        'lying.json',
      ],
      {
        env: {
          ...env,
          GITHUB_REPOSITORY: 'evil/repo',
          GITHUB_WORKFLOW_REF: 'evil/repo/.github/workflows/x.yml@refs/heads/main',
        },
      },
    );
    assertCleanFailure(
      lying,
      /identity token does not belong to this GitHub Actions run[\s\S]*repository: token says "acme\/built", GITHUB_REPOSITORY gives "evil\/repo"/,
    );
    assert.equal(project.exists('lying.json'), false);
  });

  test('bad input fails with one clear line and writes nothing', async (t) => {
    await t.test('missing tarball', async () => {
      const res = await project.yarn(['tollgate', 'sign', './nope-1.0.0.tgz', ...devSigning()]);
      assertCleanFailure(res, /YN9145: .*nope-1\.0\.0\.tgz: no such tarball/, 2);
    });
    await t.test('a file that is not a package tarball', async () => {
      project.write('junk.tgz', 'not gzip');
      const res = await project.yarn(['tollgate', 'sign', 'junk.tgz', ...devSigning()]);
      assertCleanFailure(res, /YN9145: .*junk\.tgz is not an npm package tarball/, 2);
    });
    await t.test('unknown package spec', async () => {
      const res = await project.yarn(['tollgate', 'sign', '@acme/does-not-exist@1.0.0', ...devSigning()]);
      assertCleanFailure(
        res,
        /YN9145: could not fetch @acme\/does-not-exist@1\.0\.0: .* does not know @acme\/does-not-exist/,
      );
    });
    await t.test('unknown version', async () => {
      await registry.publish(await buildPackage({ name: '@acme/versions', version: '1.0.0' }));
      const res = await project.yarn(['tollgate', 'sign', '@acme/versions@9.9.9', ...devSigning()]);
      assertCleanFailure(res, /has no version of @acme\/versions matching "9\.9\.9"/);
    });
    const pkg = await buildPackage({ name: '@acme/bad-input', version: '1.0.0' });
    const path = join(tempDir('tarballs'), 'bad-input.tgz');
    writeFileSync(path, pkg.tarball);
    await t.test('unreachable server', async () => {
      const dead = `http://127.0.0.1:${await closedPort()}`;
      const res = await project.yarn([
        'tollgate',
        'sign',
        path,
        '--sigstore-server',
        dead,
        '--dev-identity',
        RELEASER,
      ]);
      assertCleanFailure(
        res,
        /YN9146: the dev issuer at http:\/\/127\.0\.0\.1:\d+\/oidc\/token did not mint a token/,
      );
      const token = await server.token({ kind: 'email', email: RELEASER });
      const res2 = await project.yarn([
        'tollgate',
        'sign',
        path,
        '--sigstore-server',
        dead,
        '--identity-token',
        token,
      ]);
      // A server that does not answer is a signing failure (1), not bad input.
      assertCleanFailure(
        res2,
        /YN9146: could not read the trusted root at http:\/\/127\.0\.0\.1:\d+\/trusted_root\.json/,
      );
      const res3 = await project.yarn([
        'tollgate',
        'sign',
        path,
        '--fulcio-url',
        dead,
        '--rekor-url',
        dead,
        '--identity-token',
        token,
      ]);
      assertCleanFailure(
        res3,
        /YN9146: signing with http:\/\/127\.0\.0\.1:\d+ \(certificate\) .* failed: .*ECONNREFUSED/,
      );
      assert.equal(project.exists('acme-bad-input-1.0.0.sigstore.json'), false);
    });
    await t.test('no token source', async () => {
      const res = await project.yarn(['tollgate', 'sign', path, '--sigstore-server', server.url]);
      assertCleanFailure(res, /YN9146: no OIDC identity token: pass --identity-token/, 2);
      const res2 = await project.yarn(['tollgate', 'sign', path, '--dev-identity', RELEASER]);
      assertCleanFailure(res2, /--dev-identity needs a tollgate-server: pass --sigstore-server/, 2);
    });
    await t.test('unreachable attestation store', async () => {
      const dead = `http://127.0.0.1:${await closedPort()}`;
      const res = await project.yarn(['tollgate', 'sign', path, ...devSigning(), '--attach', dead]);
      assertCleanFailure(
        res,
        /YN9147: the attestation store http:\/\/127\.0\.0\.1:\d+ did not take the bundle/,
      );
      assert.ok(project.exists('acme-bad-input-1.0.0.sigstore.json'), 'the bundle is kept');
    });
  });

  describe('yarn tollgate publish', () => {
    let publisher: YarnProject;
    const manifest = (version: string) =>
      `${JSON.stringify({ name: '@acme/published', version, main: 'index.js', license: 'MIT' }, null, 2)}\n`;

    before(async () => {
      publisher = await createYarnProject({
        registry: registry.url,
        withPlugin: true,
        files: {
          'index.js': 'module.exports = 42;\n',
          'package.json': manifest('1.0.0'),
          '.tollgate.yml': stringify(acmePolicy(world())),
          'local-trusted-root.json': server.trustedRootJson,
        },
        yarnrc: {
          tollgatePolicyPath: '.tollgate.yml',
          tollgateAttestationStores: [server.url],
          npmScopes: {
            acme: { npmRegistryServer: registry.url.replace(/\/$/, ''), npmAuthToken: registry.token },
          },
        },
      });
      const install = await publisher.yarn(['install']);
      assert.equal(install.code, 0, install.output);
    });

    test('refuses to publish when signing fails', async () => {
      publisher.write('package.json', manifest('0.9.0'));
      const dead = `http://127.0.0.1:${await closedPort()}`;
      const token = await server.token({ kind: 'email', email: RELEASER });
      const res = await publisher.yarn([
        'tollgate',
        'publish',
        '--fulcio-url',
        dead,
        '--rekor-url',
        dead,
        '--trusted-root',
        writeRoot(server),
        '--identity-token',
        token,
      ]);
      assertCleanFailure(res, /YN9146: signing with/);
      await assert.rejects(registry.packument('@acme/published'), /no packument/);
      publisher.write('package.json', manifest('1.0.0'));
    });

    let published: { tarball: Buffer; integrity: string };
    test('packs, signs, publishes and attaches the exact tarball', async () => {
      const res = await publisher.yarn(['tollgate', 'publish', ...devSigning()]);
      assert.equal(res.code, 0, res.output);
      assert.match(
        res.output,
        /Signed @acme\/published@1\.0\.0 .* as release-bot@acme\.example .*transparency log index \d+/,
      );
      assert.match(res.output, /Published @acme\/published@1\.0\.0 \(sha512-/);
      assert.match(
        res.output,
        /Attached to http:\/\/127\.0\.0\.1:\d+\/-\/npm\/v1\/attestations\/@acme%2Fpublished@1\.0\.0/,
      );

      const dist = (await registry.packument('@acme/published')).versions['1.0.0'].dist;
      const tarball = Buffer.from(await (await fetch(dist.tarball)).arrayBuffer());
      published = { tarball, integrity: dist.integrity };
      const stored = await storedBundles('@acme/published', '1.0.0');
      assert.equal(stored.length, 1);
      const evidence = await verify({ name: '@acme/published', version: '1.0.0', ...published }, stored[0]);
      assert.deepEqual(evidence.failures, []);
      assert.equal(evidence.package.integrity, dist.integrity);
      assert.equal(evidence.bundles[0]?.kind, 'signature');
      assert.equal(evidence.bundles[0]?.signer?.subject, RELEASER);
      assert.deepEqual(JSON.parse(publisher.read('acme-published-1.0.0.sigstore.json')), stored[0]);
    });

    test('a project whose policy requires that signer installs the published package', async () => {
      assert.ok(published, 'the publish test ran');
      const consumer = await createYarnProject({
        registry: registry.url,
        scopes: { acme: registry.url },
        dependencies: { '@acme/published': '1.0.0' },
        withPlugin: true,
        yarnrc: { tollgatePolicyPath: '.tollgate.yml', tollgateAttestationStores: [server.url] },
        files: {
          '.tollgate.yml': stringify(acmePolicy(world())),
          'local-trusted-root.json': server.trustedRootJson,
        },
      });
      const res = await consumer.yarn(['install']);
      assert.equal(res.code, 0, res.output);
      assert.match(res.output, /✓ @acme\/published@1\.0\.0: signature by release-bot@acme\.example/);
      assert.ok(existsSync(join(consumer.dir, 'node_modules/@acme/published/index.js')));
    });
  });
});

function writeRoot(server: SigstoreServer): string {
  const path = join(tempDir('root'), 'trusted_root.json');
  writeFileSync(path, server.trustedRootJson);
  return path;
}
