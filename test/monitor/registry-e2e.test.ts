// End to end: new versions of a watched package judged against the project's own policy, and the
// signing events of its CI identity checked against the same policy rule. Real tollgate-server,
// Verdaccio and sigstore signing with GitHub-Actions-shaped identities from the dev issuer.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { buildPackage } from '../harness/packages';
import { type Registry, startRegistry } from '../harness/registry';
import { Scope } from '../harness/scope';
import { type SigstoreServer, startSigstoreServer, type TestIdentity } from '../harness/sigstore';
import { ndjson, removeLater, runMonitor, temporary } from './support';

const RELEASE_WORKFLOW = '.github/workflows/release.yml';

function workflow(
  overrides: Partial<Extract<TestIdentity, { kind: 'workflow' }>> & { ref: string },
): TestIdentity {
  return {
    kind: 'workflow',
    repository: 'acme/ui',
    workflow: RELEASE_WORKFLOW,
    event: 'push',
    repositoryId: '1000',
    ...overrides,
  };
}

describe('tollgate-monitor: new versions judged by the policy (real server, registry, CI identities)', () => {
  const scope = new Scope();
  const cleanup = new Scope();
  let server: SigstoreServer;
  let registry: Registry;
  let dir: string;

  async function publish(version: string, identity?: TestIdentity) {
    const pkg = await buildPackage({ name: '@acme/ui', version });
    if (identity) await server.attach(pkg.name, version, await server.signPackage(pkg, identity));
    await registry.publish(pkg);
  }

  before(async () => {
    [server, registry] = await Promise.all([
      startSigstoreServer(scope, 'monitor-registry'),
      startRegistry(scope, 'monitor-registry'),
    ]);
    removeLater(cleanup, server);
    removeLater(cleanup, { dataDir: registry.storageDir });
    dir = temporary(cleanup, 'monitor-registry');
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
            signers: [
              {
                issuer: server.issuer,
                repository: 'github.com/acme/ui',
                repositoryId: '1000',
                workflow: RELEASE_WORKFLOW,
                tag: `v${'$'}{version}`,
                events: { allow: ['push'] },
                runner: 'github-hosted',
              },
            ],
          },
        ],
      }),
    );
    writeFileSync(
      join(dir, '.tollgate-monitor.yml'),
      stringify({
        version: 1,
        policy: '.tollgate.yml',
        logs: [{ name: 'acme-log', url: server.url, trustedRoot: 'acme-trusted_root.json', start: 0 }],
        identities: [
          {
            name: 'ui-release',
            issuer: server.issuer,
            repository: 'github.com/acme/ui',
            repositoryId: '1000',
          },
        ],
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

  test('the first run records the published versions as a baseline and finds their release expected', async () => {
    await publish('1.0.0', workflow({ ref: 'refs/tags/v1.0.0' }));
    const res = await runMonitor(dir, ['--json']);
    assert.equal(res.code, 0, res.output);
    const lines = ndjson(res.stdout);
    assert.deepEqual(
      lines.filter((l) => l.type === 'finding'),
      [],
    );
    assert.ok(
      lines.some(
        (l) => l.type === 'note' && /1 existing version\(s\) of @acme\/ui .* baseline/.test(l.message),
      ),
      res.stdout,
    );
    const [expected] = lines.filter((l) => l.type === 'expected');
    assert.match(
      expected!.summary,
      /signed pkg:npm\/%40acme\/ui@1\.0\.0, as expected \(the identity matches signers\[0\] of rule acme-ui/,
    );
  });

  test('a new version by the right repository from an unexpected workflow, ref and event is flagged, as are unsigned and foreign ones', async () => {
    await publish(
      '1.1.0',
      workflow({
        workflow: '.github/workflows/ci.yml',
        ref: 'refs/heads/feature',
        event: 'pull_request_target',
      }),
    );
    await publish('1.2.0'); // no attestation at all
    await publish('1.3.0', workflow({ ref: 'refs/tags/v1.3.0' }));
    await publish('1.4.0', workflow({ repository: 'evil/ui', repositoryId: '666', ref: 'refs/tags/v1.4.0' }));
    const res = await runMonitor(dir, ['--json']);
    assert.equal(res.code, 1, res.output);
    const lines = ndjson(res.stdout);
    const findings = lines.filter((l) => l.type === 'finding');
    const byVersion = (version: string) => findings.filter((f) => f.package?.version === version);

    const [unexpectedBuild] = byVersion('1.1.0');
    assert.equal(unexpectedBuild!.kind, 'version-unexpected-build');
    assert.deepEqual(unexpectedBuild!.violations, ['signer-mismatch']);
    const mismatch = unexpectedBuild!.details.join('\n');
    assert.match(mismatch, /workflow=\.github\/workflows\/ci\.yml/);
    assert.match(mismatch, /tag=refs\/tags\/v1\.1\.0/);
    assert.match(mismatch, /events=pull_request_target/);

    assert.equal(byVersion('1.2.0')[0]!.kind, 'version-unsigned');
    assert.equal(byVersion('1.4.0')[0]!.kind, 'version-other-identity');
    assert.match(byVersion('1.4.0')[0]!.summary, /repository=github\.com\/evil\/ui/);
    assert.deepEqual(byVersion('1.3.0'), []);
    assert.ok(
      lines.some(
        (l) =>
          l.type === 'note' && /@acme\/ui@1\.3\.0: new .* allowed by its policy rule acme-ui/.test(l.message),
      ),
    );

    // The log side: the CI identity signed 1.1.0 from a workflow its policy rule does not allow.
    const signing = findings.filter((f) => f.kind === 'unexpected-signing');
    assert.equal(signing.length, 1, JSON.stringify(findings, null, 1));
    assert.equal(signing[0]!.subjects[0].name, 'pkg:npm/%40acme/ui@1.1.0');
    assert.equal(signing[0]!.identity.claims.workflow, '.github/workflows/ci.yml');
    assert.match(
      signing[0]!.details.join('\n'),
      /rule acme-ui .* does not list this identity: workflow expected \.github\/workflows\/release\.yml, got \.github\/workflows\/ci\.yml/,
    );
    // 1.3.0's signing is the expected release; evil/ui is not a watched identity.
    assert.equal(lines.filter((l) => l.type === 'expected').length, 1);
    assert.equal(findings.length, 4);

    // Judged once: the next run has nothing new.
    const again = await runMonitor(dir, []);
    assert.equal(again.code, 0, again.output);
  });
});
