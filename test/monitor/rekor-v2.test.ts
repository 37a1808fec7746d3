// The registry monitor judges a version whose provenance was logged in Rekor v2 mode (unmodified
// @sigstore/sign with the signing config tollgate-server publishes over TUF) like any other: allowed by
// its policy rule when the identity matches, flagged when it does not.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bundleToJSON } from '@sigstore/bundle';
import { SigningConfig } from '@sigstore/protobuf-specs';
import { bundleBuilderFromSigningConfig } from '@sigstore/sign';
import { stringify } from 'yaml';
import { IN_TOTO_PAYLOAD_TYPE, provenanceStatement } from '../../plugin/sources/signing/statement';
import { refreshTuf } from '../../policy/evidence/trust/tuf-client';
import { buildPackage } from '../harness/packages';
import { type Registry, startRegistry } from '../harness/registry';
import { Scope } from '../harness/scope';
import {
  type SigstoreServer,
  startSigstoreServer,
  type TestIdentity,
  workflowClaims,
} from '../harness/sigstore';
import { ndjson, removeLater, runMonitor, temporary } from './support';

describe('tollgate-monitor: versions attested in Rekor v2 mode', () => {
  const scope = new Scope();
  const cleanup = new Scope();
  let server: SigstoreServer;
  let registry: Registry;
  let dir: string;
  let signingConfig: SigningConfig;

  async function publishV2(version: string, repository: string) {
    const identity: Extract<TestIdentity, { kind: 'workflow' }> = {
      kind: 'workflow',
      repository,
      workflow: '.github/workflows/release.yml',
      ref: `refs/tags/v${version}`,
      event: 'push',
      repositoryId: repository === 'acme/ui' ? '1000' : '666',
    };
    const pkg = await buildPackage({ name: '@acme/ui', version });
    const statement = provenanceStatement(
      { name: pkg.name, version: pkg.version, integrity: pkg.integrity },
      workflowClaims(identity),
    );
    const token = await server.token(identity);
    const bundle = await bundleBuilderFromSigningConfig({
      signingConfig,
      identityProvider: { getToken: async () => token },
      bundleType: 'dsseEnvelope',
    }).create({ data: Buffer.from(JSON.stringify(statement)), type: IN_TOTO_PAYLOAD_TYPE });
    const json = JSON.parse(JSON.stringify(bundleToJSON(bundle)));
    assert.equal(json.verificationMaterial.tlogEntries[0].kindVersion.version, '0.0.2');
    await server.attach(pkg.name, version, json);
    await registry.publish(pkg);
  }

  before(async () => {
    [server, registry] = await Promise.all([
      startSigstoreServer(scope, 'monitor-v2'),
      startRegistry(scope, 'monitor-v2'),
    ]);
    removeLater(cleanup, server);
    removeLater(cleanup, { dataDir: registry.storageDir });
    const anchor = Buffer.from(await (await fetch(`${server.url}/tuf/1.root.json`)).arrayBuffer());
    dir = temporary(cleanup, 'monitor-v2');
    const { targets } = await refreshTuf({
      metadataUrl: `${server.url}/tuf`,
      anchorRoot: anchor,
      cacheRoot: join(dir, '.tuf-cache'),
      secret: randomBytes(32),
      targets: ['signing_config.v0.2.json'],
      mode: 'online',
    });
    signingConfig = SigningConfig.fromJSON(JSON.parse(targets['signing_config.v0.2.json']!.toString('utf8')));
    writeFileSync(join(dir, 'acme-trusted_root.json'), server.trustedRootJson);
    writeFileSync(
      join(dir, '.tollgate.yml'),
      stringify({
        version: 1,
        trustRoots: { acme: { file: 'acme-trusted_root.json' } },
        defaults: { require: 'none', trust: ['acme'] },
        rules: [
          {
            name: 'acme-ui',
            packages: ['@acme/ui'],
            require: 'provenance',
            trust: ['acme'],
            signers: [{ issuer: server.issuer, repository: 'github.com/acme/ui', repositoryId: '1000' }],
          },
        ],
      }),
    );
    writeFileSync(
      join(dir, '.tollgate-monitor.yml'),
      stringify({
        version: 1,
        policy: '.tollgate.yml',
        packages: [
          {
            name: '@acme/ui',
            registry: registry.url,
            attestationStores: [server.url],
            releases: [{ policy: true }],
          },
        ],
      }),
    );
  });

  after(async () => {
    await scope.close();
    await cleanup.close();
  });

  test('a v2-attested version is judged on its verified provenance', async () => {
    await publishV2('1.0.0', 'acme/ui');
    const baseline = await runMonitor(dir, ['--json']);
    assert.equal(baseline.code, 0, baseline.output);
    await publishV2('1.1.0', 'acme/ui');
    await publishV2('1.2.0', 'evil/ui');
    const res = await runMonitor(dir, ['--json']);
    assert.equal(res.code, 1, res.output);
    const lines = ndjson(res.stdout);
    const findings = lines.filter((l) => l.type === 'finding');
    assert.deepEqual(
      findings.map((f) => [f.package?.version, f.kind]),
      [['1.2.0', 'version-other-identity']],
      res.stdout,
    );
    assert.ok(
      lines.some(
        (l) =>
          l.type === 'note' && /@acme\/ui@1\.1\.0: new .* allowed by its policy rule acme-ui/.test(l.message),
      ),
      res.stdout,
    );
  });
});
