// `yarn tollgate publish --dry-run` with real Yarn, Verdaccio and tollgate-server: it says what would be
// signed and published (name@version, the tarball's sha512 and size, the identity, the CA and log, the
// registry, the stores, the bundle file) and does none of it: the registry's packument, the
// transparency log and the attestation store are unchanged, and no bundle file is written.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { buildPackage } from '../harness/packages';
import { type Registry, startRegistry } from '../harness/registry';
import { Scope } from '../harness/scope';
import { type SigstoreServer, startSigstoreServer } from '../harness/sigstore';
import { createYarnProject, type YarnProject } from '../harness/yarn-project';
import { acmePolicy, type World } from './fixtures';

const RELEASER = 'release-bot@acme.example';
const NAME = '@acme/dry';

describe('yarn tollgate publish --dry-run (real Yarn, Verdaccio and tollgate-server)', () => {
  const scope = new Scope();
  let server: SigstoreServer;
  let registry: Registry;
  let publisher: YarnProject;

  before(async () => {
    [server, registry] = await Promise.all([startSigstoreServer(scope), startRegistry(scope, 'private')]);
    await registry.publish(await buildPackage({ name: NAME, version: '1.0.0' }));
    const world = { server, privateRegistry: registry } as unknown as World;
    publisher = await createYarnProject({
      registry: registry.url,
      withPlugin: true,
      files: {
        'index.js': 'module.exports = 42;\n',
        'package.json': `${JSON.stringify({ name: NAME, version: '1.1.0', main: 'index.js', license: 'MIT' }, null, 2)}\n`,
        '.tollgate.yml': stringify(acmePolicy(world)),
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
  after(() => scope.close());

  const logSize = async () =>
    ((await (await fetch(`${server.url}/api/v1/log`)).json()) as { treeSize: number }).treeSize;
  const stored = async (version: string) =>
    (await fetch(`${server.url}/-/npm/v1/attestations/@acme%2fdry@${version}`)).status;

  test('shows what would be signed and published, and signs, logs, publishes and attaches nothing', async () => {
    const packument = await registry.packument(NAME);
    const size = await logSize();
    assert.equal(await stored('1.1.0'), 404);

    const res = await publisher.yarn([
      'tollgate',
      'publish',
      '--dry-run',
      '--sigstore-server',
      server.url,
      '--dev-identity',
      RELEASER,
    ]);
    assert.equal(res.code, 0, res.output);
    const registryUrl = registry.url.replace(/\/$/, '');
    for (const pattern of [
      /YN9140: Dry run: would sign @acme\/dry@1\.1\.0 \(\d+ files, \d+ bytes\)/,
      /YN9140: {3}tarball: sha512-[A-Za-z0-9+/]+=* \(sha512 [0-9a-f]{128}\)/,
      /YN9140: {3}statement: publish attestation \(not a GitHub Actions run\); no token was minted/,
      new RegExp(
        `YN9140:   identity: release-bot@acme\\.example \\(issuer ${server.url}/oidc\\), token from --dev-identity`,
      ),
      new RegExp(`YN9140:   certificate authority ${server.url}, log ${server.url}`),
      new RegExp(`YN9140:   registry: ${registryUrl}/?, tag latest`),
      new RegExp(
        `YN9140:   attestation stores: ${server.url}; bundle file .*acme-dry-1\\.1\\.0\\.sigstore\\.json`,
      ),
      /YN9144: Dry run: nothing was signed, logged, published or attached/,
    ])
      assert.match(res.output, pattern);
    assert.doesNotMatch(res.output, /YN914[1-3]/, 'no signed, attached or published line');

    assert.deepEqual(await registry.packument(NAME), packument, 'the packument is unchanged');
    assert.equal(await logSize(), size, 'nothing was logged');
    assert.equal(await stored('1.1.0'), 404, 'nothing was attached');
    assert.ok(!publisher.exists('acme-dry-1.1.0.sigstore.json'), 'no bundle file');
  });

  test('--json: a token given is decoded for the identity, not sent; the sha512 is the tarball the publish would send', async () => {
    const token = await server.token({ kind: 'email', email: RELEASER });
    const size = await logSize();
    const res = await publisher.yarn([
      'tollgate',
      'publish',
      '--dry-run',
      '--json',
      '--fulcio-url',
      server.url,
      '--rekor-url',
      server.url,
      '--identity-token',
      token,
    ]);
    assert.equal(res.code, 0, res.output);
    const summary = res.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((l) => l.type === 'tollgate-publish-dry-run');
    assert.ok(summary, res.output);
    assert.equal(summary.name, NAME);
    assert.equal(summary.version, '1.1.0');
    assert.equal(summary.identity.subject, RELEASER);
    assert.equal(summary.identity.issuer, server.issuer);
    assert.equal(summary.identity.source, '--identity-token');
    assert.equal(summary.signed, false);
    assert.equal(summary.published, false);
    assert.equal(Buffer.from(summary.integrity.slice(7), 'base64').toString('hex'), summary.sha512);
    assert.ok(summary.size > 0);
    assert.equal(await logSize(), size, 'nothing was logged');
    assert.deepEqual(Object.keys((await registry.packument(NAME)).versions), ['1.0.0']);

    // The real publish of the same workspace signs exactly the bytes the dry run announced.
    const real = await publisher.yarn([
      'tollgate',
      'publish',
      '--sigstore-server',
      server.url,
      '--dev-identity',
      RELEASER,
    ]);
    assert.equal(real.code, 0, real.output);
    assert.equal((await registry.packument(NAME)).versions['1.1.0'].dist.integrity, summary.integrity);
    assert.equal(await logSize(), size + 1);
  });

  test('no identity token source: the dry run says the publish would fail (exit 2), still without a call', async () => {
    const size = await logSize();
    const res = await publisher.yarn(['tollgate', 'publish', '--dry-run']);
    assert.equal(res.code, 2, res.output);
    assert.match(res.output, /YN9146: no OIDC identity token: the publish would fail/);
    assert.doesNotMatch(res.output, /^\s+at /m, 'no stack trace');
    assert.equal(await logSize(), size);
  });
});
