// Attack suite, part 4: the name code imports is not the package that was judged. An npm alias, a
// `resolutions` entry or a patch declared under a protected name, a yarn.lock edited so that a
// descriptor resolves to another package (online, offline, under --immutable, with the attacker's own
// evidence file committed beside it), and tarballs fetched from a lockfile archive URL on another
// origin. Each test is named after the attack it proves blocked; each asserts that no script ran,
// yarn.lock and package.json are unchanged and nothing was linked.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { markerName } from '../harness/packages';
import type { Registry } from '../harness/registry';
import { Scope } from '../harness/scope';
import { createYarnProject, type YarnProject } from '../harness/yarn-project';
import { assertNeverRan, assertRefused, freshClone, lockfileChecksum, snapshot } from './attacks/support';
import { ACME_RELEASER, acmePolicy, acmeProject, startWorld, type World } from './fixtures';

describe('attacks on names: aliases, resolutions, patches, edited lockfile resolutions, archive URLs', () => {
  const scope = new Scope();
  let world: World;
  before(async () => {
    world = await startWorld(scope);
    await world.publishSigned(world.privateRegistry, { name: 'acme-utils', version: '1.0.0' }, ACME_RELEASER);
    // Public packages, served by the company registry too (as a proxying registry would).
    for (const spec of [
      { name: 'evil-pkg', version: '1.0.0', files: { 'evil.js': 'steal()' } },
      { name: 'left-pad', version: '1.0.0' },
    ]) {
      const pkg = await world.build(spec);
      await world.publicRegistry.publish(pkg);
      await world.privateRegistry.publish(pkg);
    }
  });
  after(() => scope.close());

  const neverRan = (name: string, version: string) =>
    assertNeverRan(world.markers, markerName(name, version));
  const markers = () => (existsSync(world.markers) ? readdirSync(world.markers).sort() : []);

  const company = (dependencies: Record<string, string>) =>
    acmeProject(world, { dependencies, defaultRegistry: world.privateRegistry });

  function setManifest(project: YarnProject, change: (manifest: Record<string, unknown>) => void) {
    const manifest = JSON.parse(project.read('package.json')) as Record<string, unknown>;
    change(manifest);
    project.write('package.json', `${JSON.stringify(manifest, null, 2)}\n`);
  }

  /** The lockfile entry Yarn writes for name@version, checksum included (made in a throwaway project). */
  async function lockfileEntryOf(name: string, version: string): Promise<{ checksum: string }> {
    const workshop = await createYarnProject({
      registry: world.privateRegistry.url,
      dependencies: { [name]: version },
      yarnrc: { enableScripts: false },
    });
    const res = await workshop.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    return { checksum: lockfileChecksum(workshop.read('yarn.lock'), `${name}@npm:${version}`) };
  }

  test('control: the company package installs under its own name and its script runs', async () => {
    const project = await company({ 'acme-utils': '^1.0.0' });
    const res = await project.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.match(res.output, /✓ acme-utils@1\.0\.0: signature by release-bot@acme\.example/);
    assert.ok(world.ran('acme-utils', '1.0.0'));
    const evidence = JSON.parse(project.read('.tollgate.evidence.json'));
    assert.deepEqual(evidence.packages['acme-utils@npm:1.0.0'].descriptors, ['acme-utils@npm:^1.0.0']);
  });

  test('npm alias of a protected name: "acme-utils": "npm:evil-pkg@1.0.0" is refused before anything is fetched', async () => {
    const project = await company({ 'acme-utils': 'npm:evil-pkg@1.0.0' });
    const before = snapshot(project);
    const res = await project.yarn(['install']);
    assertRefused(res, project, before, [
      /evil-pkg@1\.0\.0 from \S+ denied by rule defaults/,
      /alias-of-protected-name: acme-utils is protected by acme-internal .* but it resolves to evil-pkg@1\.0\.0/,
      /denied before anything was fetched/,
    ]);
    assert.doesNotMatch(res.output, /YN0013/, 'nothing was downloaded');
    neverRan('evil-pkg', '1.0.0');
  });

  test('npm alias of a protected name added after a passing install: still refused before anything is fetched (what the passing install recorded covers only its own graph)', async () => {
    const project = await company({ 'acme-utils': '^1.0.0' });
    const first = await project.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    const warm = await project.yarn(['install']);
    assert.match(warm.output, /nothing changed since the install verified at/);
    setManifest(project, (m) => {
      m.dependencies = { 'acme-utils': 'npm:evil-pkg@1.0.0' };
    });
    const before = snapshot(project);
    const res = await project.yarn(['install']);
    assertRefused(res, project, before, [
      /alias-of-protected-name: acme-utils is protected by acme-internal .* but it resolves to evil-pkg@1\.0\.0/,
      /denied before anything was fetched/,
    ]);
    assert.doesNotMatch(res.output, /YN0013/, 'nothing was downloaded');
    neverRan('evil-pkg', '1.0.0');
  });

  test('resolutions alias of a protected name: "resolutions": {"acme-utils": "npm:evil-pkg@1.0.0"} is refused before anything is fetched', async () => {
    const project = await company({ 'acme-utils': '^1.0.0' });
    setManifest(project, (m) => {
      m.resolutions = { 'acme-utils': 'npm:evil-pkg@1.0.0' };
    });
    const before = snapshot(project);
    const res = await project.yarn(['install']);
    assertRefused(res, project, before, [
      /alias-of-protected-name: acme-utils is protected by acme-internal/,
      /denied before anything was fetched/,
    ]);
    neverRan('evil-pkg', '1.0.0');
  });

  test('patch of another package declared under a protected name is refused before anything is fetched', async () => {
    const project = await company({ 'acme-utils': 'patch:evil-pkg@npm%3A1.0.0#./patches/innocent.patch' });
    project.write(
      'patches/innocent.patch',
      [
        'diff --git a/index.js b/index.js',
        '--- a/index.js',
        '+++ b/index.js',
        '@@ -1 +1 @@',
        '-module.exports = "evil-pkg@1.0.0";',
        '+module.exports = "acme-utils@1.0.0";',
        '',
      ].join('\n'),
    );
    const before = snapshot(project);
    const res = await project.yarn(['install']);
    assertRefused(res, project, before, [
      /alias-of-protected-name: acme-utils is protected by acme-internal .* but it resolves to evil-pkg@1\.0\.0/,
    ]);
    neverRan('evil-pkg', '1.0.0');
  });

  test('unprotected alias of a protected package: "my-utils": "npm:acme-utils@1.0.0" is judged as acme-utils (registry binding included)', async () => {
    const fromPublic = await acmeProject(world, {
      dependencies: { 'my-utils': 'npm:acme-utils@1.0.0' },
      defaultRegistry: world.publicRegistry,
    });
    const before = snapshot(fromPublic);
    const res = await fromPublic.yarn(['install']);
    assertRefused(res, fromPublic, before, [/dependency confusion blocked: acme-utils may only come from/]);

    const fromCompany = await company({ 'my-utils': 'npm:acme-utils@1.0.0' });
    const ok = await fromCompany.yarn(['install']);
    assert.equal(ok.code, 0, ok.output);
    assert.match(ok.output, /✓ acme-utils@1\.0\.0: signature by release-bot@acme\.example/);
  });

  describe('a yarn.lock edited so that a descriptor resolves to another package', () => {
    /**
     * Installs `dependencies`, then edits yarn.lock as a malicious commit would: the entry of `from`
     * now resolves to evil-pkg@1.0.0, with evil-pkg's real checksum (the attacker made it with Yarn).
     */
    async function edited(dependencies: Record<string, string>, descriptor: string, genuine: string) {
      const project = await company(dependencies);
      const first = await project.yarn(['install']);
      assert.equal(first.code, 0, first.output);
      const { checksum } = await lockfileEntryOf('evil-pkg', '1.0.0');
      const lockfile = project.read('yarn.lock');
      const blocks = lockfile.split('\n\n');
      const at = blocks.findIndex((b) => b.startsWith(`"${descriptor}":`));
      assert.ok(at >= 0, `yarn.lock has an entry for ${descriptor}`);
      blocks[at] = blocks[at]!.replace(
        `resolution: "${genuine}"`,
        'resolution: "evil-pkg@npm:1.0.0"',
      ).replace(/^ {2}checksum: \S+$/m, `  checksum: ${checksum}`);
      project.write('yarn.lock', blocks.join('\n\n'));
      assert.match(project.read('yarn.lock'), /resolution: "evil-pkg@npm:1\.0\.0"/);
      freshClone(project);
      return project;
    }

    test('lockfile resolution of a protected descriptor edited to another package: refused online, offline, under --immutable and by audit', async () => {
      const project = await edited(
        { 'acme-utils': '^1.0.0' },
        'acme-utils@npm:^1.0.0',
        'acme-utils@npm:1.0.0',
      );
      const before = snapshot(project);
      const reasons = [
        /tampered-lockfile: yarn\.lock resolves acme-utils@npm:\^1\.0\.0 to evil-pkg@npm:1\.0\.0, which that descriptor cannot resolve to/,
        /alias-of-protected-name: acme-utils is protected by acme-internal/,
      ];
      assertRefused(await project.yarn(['install']), project, before, reasons);
      assertRefused(await project.yarn(['install', '--immutable']), project, before, reasons);
      assertRefused(await project.yarn(['tollgate', 'audit']), project, before, reasons);
      assertRefused(await project.yarn(['tollgate', 'audit', '--offline']), project, before, reasons);
      project.mergeYarnrc({ tollgateOffline: true });
      const offlineBefore = snapshot(project);
      assertRefused(await project.yarn(['install']), project, offlineBefore, reasons);
      neverRan('evil-pkg', '1.0.0');
    });

    test("lockfile resolution edited, with the attacker's own evidence file committed beside it: still refused", async () => {
      const project = await edited(
        { 'acme-utils': '^1.0.0' },
        'acme-utils@npm:^1.0.0',
        'acme-utils@npm:1.0.0',
      );
      // The attacker's own install of evil-pkg under that name, with its evidence file.
      const theirs = await createYarnProject({
        registry: world.privateRegistry.url,
        dependencies: { 'acme-utils': 'npm:evil-pkg@1.0.0' },
        withPlugin: true,
        yarnrc: {
          tollgatePolicyPath: '.tollgate.yml',
          tollgateAttestationStores: [world.server.url],
          enableScripts: false,
        },
        files: { '.tollgate.yml': stringify({ version: 1, defaults: { require: 'none' } }) },
      });
      const made = await theirs.yarn(['install']);
      assert.equal(made.code, 0, made.output);
      const forged = JSON.parse(theirs.read('.tollgate.evidence.json'));
      assert.ok(forged.packages['evil-pkg@npm:1.0.0'], 'the attacker recorded evil-pkg');
      forged.packages['evil-pkg@npm:1.0.0'].descriptors = ['acme-utils@npm:^1.0.0'];
      project.write('.tollgate.evidence.json', `${JSON.stringify(forged, null, 2)}\n`);
      const before = snapshot(project);
      for (const args of [['install'], ['install', '--immutable'], ['tollgate', 'audit', '--offline']]) {
        assertRefused(await project.yarn(args), project, before, [
          /tampered-lockfile/,
          /alias-of-protected-name/,
        ]);
      }
      neverRan('evil-pkg', '1.0.0');
    });

    test('lockfile entry replaced by its hash twin: "@acm/e-utils@npm:^1.0.0" answers the dependency on acme-utils (Yarn hashes the names alike): refused by install and audit', async () => {
      const twin = await world.build({
        name: '@acm/e-utils',
        version: '1.0.0',
        files: { 'evil.js': 'steal()' },
      });
      await world.privateRegistry.publish(twin);
      const project = await company({ 'acme-utils': '^1.0.0' });
      const first = await project.yarn(['install']);
      assert.equal(first.code, 0, first.output);
      const { checksum } = await lockfileEntryOf('@acm/e-utils', '1.0.0');
      const blocks = project.read('yarn.lock').split('\n\n');
      const at = blocks.findIndex((b) => b.startsWith('"acme-utils@npm:^1.0.0":'));
      assert.ok(at >= 0, 'yarn.lock has an entry for acme-utils');
      blocks[at] = [
        '"@acm/e-utils@npm:^1.0.0":',
        '  version: 1.0.0',
        '  resolution: "@acm/e-utils@npm:1.0.0"',
        `  checksum: ${checksum}`,
        '  languageName: node',
        '  linkType: hard',
      ].join('\n');
      project.write('yarn.lock', blocks.join('\n\n'));
      freshClone(project);
      const before = snapshot(project);
      const reasons = [
        /tampered-lockfile: .*depends on acme-utils@npm:\^1\.0\.0, and yarn\.lock answers it with its entry for @acm\/e-utils@npm:\^1\.0\.0/,
      ];
      assertRefused(await project.yarn(['tollgate', 'audit']), project, before, reasons);
      assertRefused(await project.yarn(['tollgate', 'audit', '--offline']), project, before, reasons);
      assertRefused(await project.yarn(['install']), project, before, [/tampered-lockfile/]);
      neverRan('@acm/e-utils', '1.0.0');
    });

    test('lockfile resolution of an unprotected descriptor edited to another package: refused as tampering', async () => {
      const project = await edited({ 'left-pad': '^1.0.0' }, 'left-pad@npm:^1.0.0', 'left-pad@npm:1.0.0');
      const before = snapshot(project);
      assertRefused(await project.yarn(['install']), project, before, [
        /evil-pkg@1\.0\.0 from \S+ denied by rule defaults/,
        /tampered-lockfile: yarn\.lock resolves left-pad@npm:\^1\.0\.0 to evil-pkg@npm:1\.0\.0/,
      ]);
      neverRan('evil-pkg', '1.0.0');
    });

    test('lockfile resolution edited to a version its range excludes: refused as tampering', async () => {
      await world.privateRegistry.publish(await world.build({ name: 'left-pad', version: '9.0.0' }));
      const project = await company({ 'left-pad': '^1.0.0' });
      assert.equal((await project.yarn(['install'])).code, 0);
      const { checksum } = await lockfileEntryOf('left-pad', '9.0.0');
      project.write(
        'yarn.lock',
        project
          .read('yarn.lock')
          .replace('resolution: "left-pad@npm:1.0.0"', 'resolution: "left-pad@npm:9.0.0"')
          .replace(/^ {2}version: 1\.0\.0$/m, '  version: 9.0.0')
          .replace(/^ {2}checksum: \S+$/m, `  checksum: ${checksum}`),
      );
      freshClone(project);
      const before = snapshot(project);
      assertRefused(await project.yarn(['install']), project, before, [
        /tampered-lockfile: yarn\.lock resolves left-pad@npm:\^1\.0\.0 to left-pad@npm:9\.0\.0, .*\(9\.0\.0 does not satisfy \^1\.0\.0\)/,
      ]);
      neverRan('left-pad', '9.0.0');
    });

    test('lockfile resolution edited to a dist-tag: audit refuses it as tampering; an install re-resolves it within the range', async () => {
      await world.privateRegistry.publish(await world.build({ name: 'right-pad', version: '1.0.0' }));
      const project = await company({ 'right-pad': '^1.0.0' });
      assert.equal((await project.yarn(['install'])).code, 0);
      // what the tag names now: a later release the range excludes
      await world.privateRegistry.publish(await world.build({ name: 'right-pad', version: '2.0.0' }));
      project.write(
        'yarn.lock',
        project
          .read('yarn.lock')
          .replace('resolution: "right-pad@npm:1.0.0"', 'resolution: "right-pad@npm:latest"'),
      );
      freshClone(project);
      const before = snapshot(project);
      assertRefused(await project.yarn(['tollgate', 'audit', '--offline']), project, before, [
        /tampered-lockfile: yarn\.lock resolves right-pad@npm:\^1\.0\.0 to right-pad@npm:latest, .*\(latest is not a version/,
      ]);
      // Yarn itself drops a lockfile entry no resolver could have written and resolves the range again.
      const install = await project.yarn(['install']);
      assert.equal(install.code, 0, install.output);
      assert.equal(JSON.parse(project.read('node_modules/right-pad/package.json')).version, '1.0.0');
      neverRan('right-pad', '2.0.0');
    });
  });

  describe('tarballs not at the registry default path (__archiveUrl)', () => {
    let relocating: RelocatingRegistry;
    let decoy: { url: string; requests: string[] };
    before(async () => {
      relocating = await startRelocatingRegistry(scope, world.privateRegistry);
      decoy = await startDecoy(scope);
      await world.publishSigned(
        world.privateRegistry,
        { name: 'acme-relocated', version: '1.0.0' },
        ACME_RELEASER,
      );
    });

    const relocatedProject = () => {
      const policy = acmePolicy(world);
      policy.rules[0]!.registries = [relocating.url];
      return acmeProject(world, {
        dependencies: { 'acme-relocated': '1.0.0' },
        defaultRegistry: relocating.registry,
        policy,
      });
    };

    test('control: a signed package whose tarball lives at another path on its registry installs, and audit agrees', async () => {
      const project = await relocatedProject();
      const res = await project.yarn(['install']);
      assert.equal(res.code, 0, res.output);
      assert.match(project.read('yarn.lock'), /acme-relocated@npm:1\.0\.0::__archiveUrl=/);
      assert.match(res.output, /✓ acme-relocated@1\.0\.0: signature by release-bot@acme\.example/);
      assert.ok(relocating.tarballRequests.some((r) => r.includes('/files/acme-relocated/')));
      assert.ok(world.ran('acme-relocated', '1.0.0'));
      const audit = await project.yarn(['tollgate', 'audit']);
      assert.equal(audit.code, 0, audit.output);
    });

    test('lockfile archive URL pointed at another origin: refused before the tarball is downloaded', async () => {
      const project = await relocatedProject();
      assert.equal((await project.yarn(['install'])).code, 0);
      const lockfile = project.read('yarn.lock');
      const encodedOrigin = encodeURIComponent(relocating.url.replace(/\/$/, ''));
      assert.ok(lockfile.includes(encodedOrigin), 'the archive URL is in yarn.lock');
      project.write('yarn.lock', lockfile.split(encodedOrigin).join(encodeURIComponent(decoy.url)));
      freshClone(project);
      // A fresh machine: nothing cached anywhere, so Yarn would have to download it.
      project.mergeYarnrc({ cacheFolder: '.yarn/cache-fresh', enableMirror: false });
      const before = snapshot(project);
      const markersBefore = markers();
      const res = await project.yarn(['install']);
      assertRefused(res, project, before, [
        /registry-not-allowed: acme-relocated is protected by acme-internal, and its registry is allowed, but its tarball is fetched from another origin/,
        /denied before anything was fetched/,
      ]);
      assert.deepEqual(decoy.requests, [], 'the other origin was never asked for the tarball');
      assert.deepEqual(markers(), markersBefore, 'no script ran');
    });
  });
});

interface RelocatingRegistry {
  url: string;
  /** the same registry, as the harness describes registries */
  registry: Registry;
  tarballRequests: string[];
}

/**
 * A registry whose tarballs are not at npm's conventional path, as GitHub Packages and Artifactory
 * serve them: the real Verdaccio behind it, with every `dist.tarball` rewritten to `/files/<name>/`.
 */
async function startRelocatingRegistry(scope: Scope, upstream: Registry): Promise<RelocatingRegistry> {
  const tarballRequests: string[] = [];
  let self = '';
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const files = /^\/files\/(.+)\/([^/]+)\.tgz$/.exec(path);
    const target = files
      ? `${upstream.url}${files[1]}/-/${files[1]!.split('/').pop()}-${files[2]}.tgz`
      : `${upstream.url}${path.replace(/^\//, '')}`;
    if (files) tarballRequests.push(path);
    const answer = await fetch(target, { headers: { accept: req.headers.accept ?? '*/*' } });
    const body = Buffer.from(await answer.arrayBuffer());
    if (!files && answer.ok && (answer.headers.get('content-type') ?? '').includes('json')) {
      const doc = JSON.parse(body.toString('utf8'));
      for (const [version, manifest] of Object.entries<Record<string, any>>(doc.versions ?? {})) {
        if (manifest.dist) manifest.dist.tarball = `${self}files/${doc.name}/${version}.tgz`;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
      return;
    }
    res.writeHead(answer.status, {
      'content-type': answer.headers.get('content-type') ?? 'application/octet-stream',
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  self = `http://127.0.0.1:${port}/`;
  return { url: self, registry: { ...upstream, url: self, label: 'relocating' }, tarballRequests };
}

/** An origin that records every request it gets (the attacker's server). */
async function startDecoy(scope: Scope): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '/');
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}
