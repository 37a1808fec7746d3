// Rekor v2 bundles through the gate: a package attested with unmodified @sigstore/sign in v2 mode
// (the signing config tollgate-server publishes over TUF: the v2 log and the TSA) is installed on
// its verified signature, audited clean, and the release-age gate measures it from the TSA's time.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bundleToJSON } from '@sigstore/bundle';
import { SigningConfig } from '@sigstore/protobuf-specs';
import { bundleBuilderFromSigningConfig } from '@sigstore/sign';
import { IN_TOTO_PAYLOAD_TYPE, publishStatement } from '../../plugin/sources/signing/statement';
import { refreshTuf } from '../../policy/evidence/trust/tuf-client';
import { tempDir } from '../harness/paths';
import { Scope } from '../harness/scope';
import { ACME_RELEASER, acmePolicy, acmeProject, startWorld, type World } from './fixtures';

describe('Rekor v2 bundles through the gate', () => {
  const scope = new Scope();
  let world: World;
  before(async () => {
    world = await startWorld(scope);
    const anchor = Buffer.from(await (await fetch(`${world.server.url}/tuf/1.root.json`)).arrayBuffer());
    const { targets } = await refreshTuf({
      metadataUrl: `${world.server.url}/tuf`,
      anchorRoot: anchor,
      cacheRoot: join(tempDir('tuf-cache'), 'c'),
      secret: randomBytes(32),
      targets: ['signing_config.v0.2.json'],
      mode: 'online',
    });
    const signingConfig = SigningConfig.fromJSON(
      JSON.parse(targets['signing_config.v0.2.json']!.toString('utf8')),
    );
    const pkg = await world.build({ name: '@acme/tiles', version: '1.0.0' });
    const statement = publishStatement(
      { name: pkg.name, version: pkg.version, integrity: pkg.integrity },
      world.privateRegistry.url,
    );
    const token = await world.server.token(ACME_RELEASER);
    const bundle = await bundleBuilderFromSigningConfig({
      signingConfig,
      identityProvider: { getToken: async () => token },
      bundleType: 'dsseEnvelope',
    }).create({ data: Buffer.from(JSON.stringify(statement)), type: IN_TOTO_PAYLOAD_TYPE });
    const json = JSON.parse(JSON.stringify(bundleToJSON(bundle)));
    assert.deepEqual(json.verificationMaterial.tlogEntries[0].kindVersion, {
      kind: 'hashedrekord',
      version: '0.0.2',
    });
    await world.server.attach(pkg.name, pkg.version, json);
    await world.privateRegistry.publish(pkg);
  });
  after(() => scope.close());

  test('installed and audited on its v2 bundle; minReleaseAge measured from the TSA time', async () => {
    const p = await acmeProject(world, {
      dependencies: { '@acme/tiles': '1.0.0' },
      defaultRegistry: world.privateRegistry,
    });
    const install = await p.yarn(['install']);
    assert.equal(install.code, 0, install.output);
    assert.match(install.output, /@acme\/tiles@1\.0\.0: signature by release-bot@acme\.example/);
    const audit = await p.yarn(['tollgate', 'audit']);
    assert.equal(audit.code, 0, audit.output);

    const policy = acmePolicy(world);
    (policy.rules[0] as Record<string, unknown>).minReleaseAge = '2d';
    const young = await acmeProject(world, {
      dependencies: { '@acme/tiles': '1.0.0' },
      defaultRegistry: world.privateRegistry,
      policy,
    });
    const denied = await young.yarn(['install']);
    assert.equal(denied.code, 1, denied.output);
    assert.match(denied.output, /release-too-new: released .* ago \(signed timestamp\)/);
    assert.match(denied.output, /timestamp-authority/);
  });
});
