// `yarn tollgate monitor` is the same engine as tollgate-monitor: real Yarn with the built plugin,
// a real tollgate-server, one signing event by the watched identity.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildPackage } from '../harness/packages';
import { Scope } from '../harness/scope';
import { type SigstoreServer, startSigstoreServer } from '../harness/sigstore';
import { createYarnProject, type YarnProject } from '../harness/yarn-project';
import { ndjson, removeLater, removeTemporary } from './support';

describe('yarn tollgate monitor (real Yarn, the built plugin, a real tollgate-server)', () => {
  const scope = new Scope();
  const cleanup = new Scope();
  let server: SigstoreServer;
  let project: YarnProject;

  before(async () => {
    server = await startSigstoreServer(scope, 'monitor-plugin');
    removeLater(cleanup, server);
    project = await createYarnProject({ registry: 'http://127.0.0.1:9/', withPlugin: true });
    cleanup.defer(() => removeTemporary(project.dir));
    cleanup.defer(() => removeTemporary(`${project.dir}-yarn-global`));
    project.write('acme-trusted_root.json', server.trustedRootJson);
    project.write(
      '.tollgate-monitor.yml',
      [
        'version: 1',
        'logs:',
        `  - { name: acme-log, url: ${server.url}, trustedRoot: acme-trusted_root.json, start: 0 }`,
        'identities:',
        '  - { name: release-bot, email: release-bot@acme.example }',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await scope.close();
    await cleanup.close();
  });

  test('validates the configuration, and a run reports the signing event with the documented exit code', async () => {
    const check = await project.yarn(['tollgate', 'monitor', 'check']);
    assert.equal(check.code, 0, check.output);
    assert.match(check.stdout, /\.tollgate-monitor\.yml: valid \(1 log\(s\), 1 identity/);

    await server.signPackage(await buildPackage({ name: 'acme-utils', version: '9.9.9' }), {
      kind: 'email',
      email: 'release-bot@acme.example',
    });
    const run = await project.yarn(['tollgate', 'monitor', '--once', '--json']);
    assert.equal(run.code, 1, run.output);
    const [finding] = ndjson(run.stdout).filter((l) => l.type === 'finding');
    assert.equal(finding?.kind, 'unexpected-signing');
    assert.equal(finding?.entry.logIndex, 0);
    assert.ok(project.exists('.tollgate-monitor.state.json'));

    const again = await project.yarn(['tollgate', 'monitor']);
    assert.equal(again.code, 0, again.output);
  });

  test('a bad configuration is one clean error with exit 2', async () => {
    project.write(
      'broken.yml',
      'version: 1\nlogs: []\npackages:\n  - name: acme-utils\n    registy: http://127.0.0.1:9/\n',
    );
    const res = await project.yarn(['tollgate', 'monitor', '--config', 'broken.yml']);
    assert.equal(res.code, 2, res.output);
    assert.match(res.stderr, /broken\.yml:5:5: error unknown-key: unknown key "registy" in packages\[0\]/);
    assert.match(res.stderr, /did you mean "registry"\?/);
    assert.doesNotMatch(res.output, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
  });
});
