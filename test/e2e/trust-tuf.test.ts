// Trust roots over TUF, end to end through Yarn: a policy root declared as { tuf, root } against the
// TUF repository tollgate-server publishes, `yarn tollgate trust update`, installs verifying with the
// refreshed root, offline installs with the last verified copy, and a frozen repository refused.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { TufRepository } from '../../server/tuf/repository';
import { Scope } from '../harness/scope';
import { ACME_RELEASER, acmePolicy, acmeProject, startWorld, type World } from './fixtures';

describe('trust roots over TUF', () => {
  const scope = new Scope();
  let world: World;
  let anchor: string;
  before(async () => {
    world = await startWorld(scope);
    await world.publishSigned(world.privateRegistry, { name: '@acme/ui', version: '1.0.0' }, ACME_RELEASER);
    anchor = await (await fetch(`${world.server.url}/tuf/1.root.json`)).text();
  });
  after(() => scope.close());

  const tufPolicy = (url: string) => ({
    ...acmePolicy(world),
    trustRoots: { local: { tuf: url, root: 'local-root.json' } },
  });

  const project = (url: string, dependencies: Record<string, string> = { '@acme/ui': '1.0.0' }) =>
    acmeProject(world, {
      dependencies,
      defaultRegistry: world.privateRegistry,
      policy: tufPolicy(url),
    }).then((p) => {
      p.write('local-root.json', anchor);
      p.write('.tollgate.yml', stringify(tufPolicy(url)));
      return p;
    });

  test('trust update refreshes the TUF root; installs verify with it, and offline with the last verified copy', async () => {
    const p = await project(`${world.server.url}/tuf`);
    const update = await p.yarn(['tollgate', 'trust', 'update', 'local']);
    assert.equal(update.code, 0, update.output);
    assert.match(
      update.output,
      /YN9110.*local: trusted root refreshed from http:\/\/127\.0\.0\.1:\d+\/tuf \(TUF root v1/,
    );

    const install = await p.yarn(['install']);
    assert.equal(install.code, 0, install.output);
    assert.match(install.output, /@acme\/ui@1\.0\.0: signature by release-bot@acme\.example/);
    // public-good was never refreshed here: said, with the embedded copy's age
    assert.match(install.output, /YN9110.*public-good.*embedded in @sigstore\/tuf.*days ago/);

    const offline = await p.yarn(['tollgate', 'audit', '--offline']);
    assert.equal(offline.code, 0, offline.output);

    const unknown = await p.yarn(['tollgate', 'trust', 'update', 'nope']);
    assert.equal(unknown.code, 2, unknown.output);
    assert.match(unknown.output, /no TUF trust root named nope/);
  });

  test('a frozen repository (genuine but expired timestamp) stops the install before anything is linked, naming the policy key', async () => {
    // The attacker's mirror: everything from tollgate-server, except a replayed, expired timestamp.
    const repo = TufRepository.open(world.server.dataDir);
    const current = JSON.parse(await (await fetch(`${world.server.url}/tuf/timestamp.json`)).text());
    const frozen = repo.signTimestamp({
      version: current.signed.version + 1,
      expires: '2020-01-01T00:00:00Z',
    });
    const mirror = createServer(async (req, res) => {
      if (req.url === '/tuf/timestamp.json') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(frozen);
        return;
      }
      const answer = await fetch(`${world.server.url}${req.url}`);
      res.writeHead(answer.status).end(Buffer.from(await answer.arrayBuffer()));
    });
    await new Promise<void>((done) => mirror.listen(0, '127.0.0.1', done));
    scope.defer(() => new Promise<void>((done) => mirror.close(() => done())));
    const url = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}/tuf`;

    await world.publishSigned(
      world.privateRegistry,
      { name: '@acme/frozen', version: '1.0.0' },
      ACME_RELEASER,
    );
    const p = await project(url, { '@acme/frozen': '1.0.0' });
    const install = await p.yarn(['install']);
    assert.equal(install.code, 1, install.output);
    assert.match(
      install.output,
      /trust root "local" \(trustRoots\.local\.tuf in \.tollgate\.yml\).*serves expired metadata/,
    );
    assert.ok(!p.exists('node_modules/@acme/frozen'), 'nothing was linked');
    assert.ok(!world.ran('@acme/frozen', '1.0.0'), 'no script ran');

    const update = await p.yarn(['tollgate', 'trust', 'update', 'local']);
    assert.equal(update.code, 1, update.output);
    assert.match(update.output, /freeze attack/);
  });
});
