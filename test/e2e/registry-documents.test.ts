// What the gate asks a registry for: the version's own document (GET /<name>/<version>, a few kilobytes),
// not the packument (megabytes for popular packages); the abbreviated packument only where a registry
// has no per-version documents; and a document that names another version is not taken for this one.
// Through a proxy in front of the real Verdaccio that records every request and can change how the
// registry answers per-version paths.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { markerName } from '../harness/packages';
import type { Registry } from '../harness/registry';
import { Scope } from '../harness/scope';
import type { YarnProject } from '../harness/yarn-project';
import { assertNeverRan, assertRefused, snapshot } from './attacks/support';
import { ACME_RELEASER, acmePolicy, acmeProject, startWorld, type World } from './fixtures';

type VersionDocuments = 'served' | 'absent' | 'another-version';

interface RecordingRegistry {
  url: string;
  /** `<accept> <path>` of every document request (tarballs left out) */
  documents: string[];
  /** the path of every tarball request */
  tarballs: string[];
  versionDocuments: VersionDocuments;
}

async function startRecordingRegistry(scope: Scope, upstream: Registry): Promise<RecordingRegistry> {
  const proxy: RecordingRegistry = { url: '', documents: [], tarballs: [], versionDocuments: 'served' };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let path = req.url ?? '/';
    const tarball = /\/-\/[^/]+\.tgz$/.test(path);
    if (tarball) proxy.tarballs.push(path);
    else proxy.documents.push(path);
    // /<name>/<version>, the name scoped (@scope%2fname) or not
    const perVersion = /^\/((?:@[^/]+%2[fF])?[^/@][^/]*)\/(\d[^/]*)$/.exec(path);
    if (perVersion && proxy.versionDocuments === 'absent') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    if (perVersion && proxy.versionDocuments === 'another-version') path = `/${perVersion[1]}/2.0.0`;
    const answer = await fetch(`${upstream.url}${path.replace(/^\//, '')}`, {
      headers: { accept: req.headers.accept ?? '*/*' },
    });
    const type = answer.headers.get('content-type') ?? 'application/octet-stream';
    let body = Buffer.from(await answer.arrayBuffer());
    // tarball URLs in documents name this origin, as a registry behind a proxy writes them
    if (type.includes('json')) body = Buffer.from(body.toString('utf8').split(upstream.url).join(proxy.url));
    res.writeHead(answer.status, { 'content-type': type }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.defer(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return proxy;
}

/** A CI checkout: yarn.lock and the committed files, every cache (Yarn's and Tollgate's) empty. */
function ciCheckout(project: YarnProject): void {
  for (const path of ['node_modules', '.yarn/cache', '.yarn/install-state.gz']) {
    rmSync(join(project.dir, path), { recursive: true, force: true });
  }
  for (const path of ['tollgate', 'metadata', 'cache']) {
    rmSync(join(project.globalFolder, path), { recursive: true, force: true });
  }
}

describe('registry documents: the gate asks for the version, not the packument', () => {
  const scope = new Scope();
  let world: World;
  let registry: RecordingRegistry;
  let project: YarnProject;
  before(async () => {
    world = await startWorld(scope);
    registry = await startRecordingRegistry(scope, world.privateRegistry);
    await world.publishSigned(
      world.privateRegistry,
      { name: '@acme/doc-scoped', version: '1.0.0' },
      ACME_RELEASER,
    );
    await world.publishSigned(
      world.privateRegistry,
      { name: 'acme-doc-plain', version: '1.0.0' },
      ACME_RELEASER,
    );
    // a later, signed release: the version a confused registry answers with
    await world.publishSigned(
      world.privateRegistry,
      { name: 'acme-doc-plain', version: '2.0.0' },
      ACME_RELEASER,
    );
    const policy = acmePolicy(world);
    policy.rules[0]!.registries = [registry.url];
    project = await acmeProject(world, {
      dependencies: { '@acme/doc-scoped': '1.0.0', 'acme-doc-plain': '1.0.0' },
      policy,
      acmeScopeRegistry: { ...world.privateRegistry, url: registry.url },
      defaultRegistry: { ...world.privateRegistry, url: registry.url },
    });
    const first = await project.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /2 allowed \(2 on verified evidence\)/);
  });
  after(() => scope.close());

  test('a CI checkout asks each version document and no packument', async () => {
    ciCheckout(project);
    registry.versionDocuments = 'served';
    registry.documents.length = 0;
    registry.tarballs.length = 0;
    const res = await project.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.match(res.output, /2 allowed \(2 on verified evidence\)/);
    assert.deepEqual(
      [...registry.documents].sort(),
      ['/@acme%2fdoc-scoped/1.0.0', '/acme-doc-plain/1.0.0'],
      'the registry was asked for the two version documents only',
    );
    // Each tarball once: the gate binds the bytes Yarn downloaded (captured inside that locator's
    // fetch) instead of downloading the registry's tarball again.
    assert.deepEqual([...registry.tarballs].sort(), [
      '/@acme%2fdoc-scoped/-/doc-scoped-1.0.0.tgz',
      '/acme-doc-plain/-/acme-doc-plain-1.0.0.tgz',
    ]);
    assert.ok(world.ran('acme-doc-plain', '1.0.0'));
  });

  test('a registry without version documents: the packument answers instead', async () => {
    ciCheckout(project);
    registry.versionDocuments = 'absent';
    registry.documents.length = 0;
    const res = await project.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.match(res.output, /2 allowed \(2 on verified evidence\)/);
    for (const packument of ['/@acme%2fdoc-scoped', '/acme-doc-plain']) {
      assert.ok(
        registry.documents.includes(packument),
        `${packument} asked: ${registry.documents.join(', ')}`,
      );
    }
  });

  test('version document naming another version: not taken for this one, denied', async () => {
    ciCheckout(project);
    rmSync(join(world.markers, markerName('acme-doc-plain', '1.0.0')), { force: true });
    registry.versionDocuments = 'another-version';
    const before = snapshot(project);
    const res = await project.yarn(['install']);
    assertRefused(res, project, before, [/acme-doc-plain@1\.0\.0 is not listed by/]);
    assertNeverRan(world.markers, markerName('acme-doc-plain', '1.0.0'));
  });
});
