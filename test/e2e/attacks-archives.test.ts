// Attack suite, part 5: the bytes Yarn links are not the bytes that were checked. Archives Yarn never
// validates (conditional packages, for which yarn.lock records no checksum; checksumBehavior ignore,
// update and reset), a poisoned global mirror, and a patched archive that is not Yarn's patch of the
// verified base. Each test is named after the attack it proves blocked; each asserts that no script
// ran, yarn.lock and package.json are unchanged and nothing was linked.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildPackage, markerName } from '../harness/packages';
import { tempDir } from '../harness/paths';
import { Scope } from '../harness/scope';
import { createYarnProject, type YarnProject } from '../harness/yarn-project';
import { assertNeverRan, assertRefused, freshClone, snapshot } from './attacks/support';
import { ACME_RELEASER, acmeProject, startWorld, type World } from './fixtures';

const here = { os: [process.platform], cpu: [process.arch] };

describe('attacks on archives: what Yarn links without checking, the global mirror, patched archives', () => {
  const scope = new Scope();
  let world: World;
  let evilMarkers: string;
  before(async () => {
    world = await startWorld(scope);
    evilMarkers = tempDir('evil-markers');
  });
  after(() => scope.close());

  const project = (dependencies: Record<string, string>) =>
    acmeProject(world, { dependencies, defaultRegistry: world.privateRegistry });

  /**
   * The attacker's own name@version (with a postinstall of theirs), made into a cache archive by Yarn
   * in a throwaway project on a registry they control; returns the archive's file name and folder.
   */
  async function forgedArchive(spec: {
    name: string;
    version: string;
    manifestFields?: Record<string, unknown>;
  }) {
    const evil = await buildPackage({
      ...spec,
      files: { 'evil.js': 'steal()' },
      postinstallMarkerDir: evilMarkers,
    });
    const registry = await import('../harness/registry').then((m) =>
      m.startRegistry(scope, `attacker-${spec.name}`),
    );
    await registry.publish(evil);
    const workshop = await createYarnProject({ registry: registry.url, yarnrc: { enableScripts: false } });
    const manifest = JSON.parse(workshop.read('package.json'));
    manifest[spec.manifestFields ? 'optionalDependencies' : 'dependencies'] = { [spec.name]: spec.version };
    workshop.write('package.json', `${JSON.stringify(manifest, null, 2)}\n`);
    const res = await workshop.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    const folder = join(workshop.dir, '.yarn/cache');
    const file = readdirSync(folder).find((f) => f.startsWith(`${spec.name}-npm-`));
    assert.ok(file, `the workshop made an archive of ${spec.name}`);
    return { folder, file };
  }

  function archiveOf(yarn: YarnProject, name: string, folder = join(yarn.dir, '.yarn/cache')): string {
    const found = readdirSync(folder).filter((f) => f.startsWith(`${name}-npm-`));
    assert.equal(found.length, 1, `one archive of ${name} in ${folder}: ${found.join(', ')}`);
    return join(folder, found[0]!);
  }

  /** A project with `name`@1.0.0, signed and published, as an optional package for this platform. */
  async function withConditionalPackage(name: string): Promise<YarnProject> {
    await world.publishSigned(
      world.privateRegistry,
      { name, version: '1.0.0', manifestFields: here },
      ACME_RELEASER,
    );
    const yarn = await project({});
    const manifest = JSON.parse(yarn.read('package.json'));
    manifest.optionalDependencies = { [name]: '1.0.0' };
    yarn.write('package.json', `${JSON.stringify(manifest, null, 2)}\n`);
    return yarn;
  }

  test('conditional package swapped in the committed cache (yarn.lock records no checksum for it): denied', async () => {
    const name = 'acme-native';
    const yarn = await withConditionalPackage(name);
    const first = await yarn.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    assert.ok(world.ran(name, '1.0.0'), 'the genuine package installed here');
    const block = yarn
      .read('yarn.lock')
      .split('\n\n')
      .find((b) => b.startsWith(`"${name}@`))!;
    assert.match(block, /conditions: /);
    assert.doesNotMatch(block, /checksum:/, 'yarn.lock pins nothing for a conditional package');

    const forged = await forgedArchive({ name, version: '1.0.0', manifestFields: here });
    copyFileSync(join(forged.folder, forged.file), archiveOf(yarn, name));
    freshClone(yarn);
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [
      /acme-native@1\.0\.0 .*denied by rule acme-internal/,
      /tampered-archive: tampering \(LOCKFILE_CHECKSUM_MISMATCH\): the archive Yarn would link for acme-native@1\.0\.0/,
    ]);
    // The audit judges the copy the cache holds too, whatever yarn.lock's conditions say.
    assertRefused(await yarn.yarn(['tollgate', 'audit']), yarn, before, [
      /acme-native@1\.0\.0/,
      /tampered-archive/,
    ]);
    assertNeverRan(evilMarkers, markerName(name, '1.0.0'));
  });

  test('conditional package swapped after this machine remembered its digest, timestamps put back: hashed again, denied', async () => {
    const name = 'acme-native-remembered';
    const yarn = await withConditionalPackage(name);
    assert.equal((await yarn.yarn(['install'])).code, 0);
    // An archive changed in the last two seconds is hashed every time; past that, its digest is
    // remembered by the file's identity (archive-digests.ts), which the next install does.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    freshClone(yarn);
    const second = await yarn.yarn(['install']);
    assert.equal(second.code, 0, second.output);
    const remembered = readdirSync(join(yarn.globalFolder, 'tollgate', 'archive-digests'));
    assert.equal(remembered.filter((f) => f.endsWith('.json')).length, 1, 'the digest is remembered');

    const archive = archiveOf(yarn, name);
    const { atime, mtime } = statSync(archive);
    const forged = await forgedArchive({ name, version: '1.0.0', manifestFields: here });
    copyFileSync(join(forged.folder, forged.file), archive);
    utimesSync(archive, atime, mtime);
    freshClone(yarn);
    const before = snapshot(yarn);
    assertRefused(await yarn.yarn(['install']), yarn, before, [
      /acme-native-remembered@1\.0\.0 .*denied by rule acme-internal/,
      /tampered-archive: tampering \(LOCKFILE_CHECKSUM_MISMATCH\)/,
    ]);
    assertRefused(await yarn.yarn(['tollgate', 'audit', '--offline']), yarn, before, [
      /acme-native-remembered@1\.0\.0/,
    ]);
    assertNeverRan(evilMarkers, markerName(name, '1.0.0'));
  });

  for (const behavior of ['ignore', 'update', 'reset'] as const) {
    test(`checksumBehavior: ${behavior} with the cache archive swapped and yarn.lock untouched: denied, and no earlier verdict is reused`, async () => {
      const name = `acme-behaves-${behavior}`;
      await world.publishSigned(world.privateRegistry, { name, version: '1.0.0' }, ACME_RELEASER);
      const yarn = await project({ [name]: '1.0.0' });
      const first = await yarn.yarn(['install']);
      assert.equal(first.code, 0, first.output);
      const forged = await forgedArchive({ name, version: '1.0.0' });
      const genuine = archiveOf(yarn, name);
      if (behavior === 'reset') {
        // Reset refetches through the global mirror: the attacker poisons that copy too.
        const mirror = archiveOf(yarn, name, join(yarn.globalFolder, 'cache'));
        copyFileSync(join(forged.folder, forged.file), mirror);
      }
      copyFileSync(join(forged.folder, forged.file), genuine);
      yarn.mergeYarnrc({ checksumBehavior: behavior });
      freshClone(yarn);
      const before = snapshot(yarn);
      const res = await yarn.yarn(['install']);
      assertRefused(res, yarn, before, [
        new RegExp(`${name}@1\\.0\\.0 .*denied by rule acme-internal`),
        /tampered-archive/,
      ]);
      assert.doesNotMatch(res.output, /nothing changed since the install verified/);
      assertNeverRan(evilMarkers, markerName(name, '1.0.0'));
    });
  }

  test('global mirror poisoned: a new dependency served from a forged mirror copy (no download) is denied', async () => {
    const name = 'acme-mirrored';
    await world.publishSigned(world.privateRegistry, { name, version: '1.0.0' }, ACME_RELEASER);
    const yarn = await project({});
    const forged = await forgedArchive({ name, version: '1.0.0' });
    const mirror = join(yarn.globalFolder, 'cache');
    mkdirSync(mirror, { recursive: true });
    // Yarn names mirror copies <slug>-<cacheKey>.zip: the attacker plants one under that name.
    const slugged = forged.file.replace(/-[0-9a-f]{10}\.zip$/, '-10c0.zip');
    copyFileSync(join(forged.folder, forged.file), join(mirror, slugged));
    const manifest = JSON.parse(yarn.read('package.json'));
    manifest.dependencies = { [name]: '1.0.0' };
    yarn.write('package.json', `${JSON.stringify(manifest, null, 2)}\n`);
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [
      new RegExp(`${name}@1\\.0\\.0 .*denied by rule acme-internal`),
      /tampered-archive/,
    ]);
    assertNeverRan(evilMarkers, markerName(name, '1.0.0'));
  });

  /** A project on `name`@1.0.0 (signed and published) through a patch of its index.js. */
  async function patchedProject(name: string): Promise<YarnProject> {
    await world.publishSigned(world.privateRegistry, { name, version: '1.0.0' }, ACME_RELEASER);
    const yarn = await project({ [name]: `patch:${name}@npm%3A1.0.0#./patches/fix.patch` });
    yarn.write(
      'patches/fix.patch',
      [
        'diff --git a/index.js b/index.js',
        '--- a/index.js',
        '+++ b/index.js',
        '@@ -1 +1 @@',
        `-module.exports = "${name}@1.0.0";`,
        `+module.exports = "${name}@1.0.0 (fixed)";`,
        '',
      ].join('\n'),
    );
    return yarn;
  }

  /** The checksum yarn.lock records for an archive (cache key 10c0). */
  const zipChecksum = (path: string) =>
    `10c0/${createHash('sha512').update(readFileSync(path)).digest('hex')}`;

  test("patched archive swapped with its yarn.lock checksum: it is not Yarn's patch of the verified base, denied", async () => {
    const name = 'acme-patched';
    const yarn = await patchedProject(name);
    const first = await yarn.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /✓ acme-patched@1\.0\.0: signature/);

    // The attacker commits another patched archive (made from their own bytes) with its checksum.
    const forged = await forgedArchive({ name, version: '1.0.0' });
    const patched = readdirSync(join(yarn.dir, '.yarn/cache')).find((f) => f.startsWith(`${name}-patch-`));
    assert.ok(patched, 'the project cache holds the patched archive');
    const lockfile = yarn.read('yarn.lock');
    const block = lockfile.split('\n\n').find((b) => b.includes(`resolution: "${name}@patch:`))!;
    const genuineChecksum = /checksum: (\S+)/.exec(block)![1]!;
    copyFileSync(join(forged.folder, forged.file), join(yarn.dir, '.yarn/cache', patched));
    const forgedChecksum = zipChecksum(join(yarn.dir, '.yarn/cache', patched));
    // Yarn finds the archive by the first ten characters of its checksum: keep the file where Yarn looks.
    const renamed = patched.replace(/-[0-9a-f]{10}\.zip$/, `-${forgedChecksum.slice(5, 15)}.zip`);
    if (renamed !== patched) {
      copyFileSync(join(yarn.dir, '.yarn/cache', patched), join(yarn.dir, '.yarn/cache', renamed));
      rmSync(join(yarn.dir, '.yarn/cache', patched));
    }
    yarn.write('yarn.lock', lockfile.replace(genuineChecksum, forgedChecksum));
    freshClone(yarn);
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [
      /acme-patched@1\.0\.0 .*denied by rule acme-internal/,
      /tampered-archive: tampering \(PATCH_ARCHIVE_MISMATCH\): the archive of the patched acme-patched/,
    ]);
    assertNeverRan(evilMarkers, markerName(name, '1.0.0'));
    assert.equal(existsSync(join(yarn.dir, 'node_modules', name)), false);
  });

  // Where Yarn builds the patched archive in the install itself, the gate takes Yarn's build instead of
  // rebuilding it (gate/patch-builds.ts). These are the states in which Yarn builds nothing and an
  // archive it links still has to be proven: the global mirror's copy, and a base that is not the one
  // verified.
  test("patched archive forged in the global mirror, project cache emptied (Yarn copies it, builds nothing): not Yarn's patch, denied", async () => {
    const name = 'acme-patched-mirror';
    const yarn = await patchedProject(name);
    const first = await yarn.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    const mirror = join(yarn.globalFolder, 'cache');
    const mirrored = readdirSync(mirror).find((f) => f.startsWith(`${name}-patch-`));
    assert.ok(mirrored, `the global mirror holds the patched archive: ${readdirSync(mirror).join(', ')}`);

    const forged = await forgedArchive({ name, version: '1.0.0' });
    copyFileSync(join(forged.folder, forged.file), join(mirror, mirrored));
    const forgedChecksum = zipChecksum(join(mirror, mirrored));
    const lockfile = yarn.read('yarn.lock');
    const block = lockfile.split('\n\n').find((b) => b.includes(`resolution: "${name}@patch:`))!;
    yarn.write('yarn.lock', lockfile.replace(/checksum: (\S+)/.exec(block)![1]!, forgedChecksum));
    // A fresh clone without the patched archive in the project cache: Yarn takes the mirror's copy.
    for (const f of readdirSync(join(yarn.dir, '.yarn/cache')))
      if (f.startsWith(`${name}-patch-`)) rmSync(join(yarn.dir, '.yarn/cache', f));
    freshClone(yarn);
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [
      new RegExp(`${name}@1\\.0\\.0 .*denied by rule acme-internal`),
      /tampered-archive: tampering \(PATCH_ARCHIVE_MISMATCH\): the archive of the patched acme-patched-mirror/,
    ]);
    assertNeverRan(evilMarkers, markerName(name, '1.0.0'));
    assert.equal(existsSync(join(yarn.dir, 'node_modules', name)), false);
  });

  test('patched archive built by Yarn from a base swapped in the cache (yarn.lock re-pinned to it): the base is not the verified tarball, both denied', async () => {
    const name = 'acme-patched-base';
    const yarn = await patchedProject(name);
    const first = await yarn.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    // The attacker's own archive of the base, under the base's checksum in yarn.lock; the patched
    // archive is gone from both caches, so Yarn builds it in this install, from the attacker's base.
    const forged = await forgedArchive({ name, version: '1.0.0', manifestFields: { main: 'evil.js' } });
    const genuine = archiveOf(yarn, name);
    const forgedChecksum = zipChecksum(join(forged.folder, forged.file));
    const renamed = join(yarn.dir, '.yarn/cache', forged.file);
    rmSync(genuine);
    copyFileSync(join(forged.folder, forged.file), renamed);
    let lockfile = yarn.read('yarn.lock');
    const baseBlock = lockfile.split('\n\n').find((b) => b.includes(`resolution: "${name}@npm:1.0.0"`))!;
    lockfile = lockfile.replace(/checksum: (\S+)/.exec(baseBlock)![1]!, forgedChecksum);
    const patchBlock = lockfile.split('\n\n').find((b) => b.includes(`resolution: "${name}@patch:`))!;
    lockfile = lockfile.replace(patchBlock, patchBlock.replace(/\n {2}checksum: \S+/, ''));
    yarn.write('yarn.lock', lockfile);
    for (const folder of [join(yarn.dir, '.yarn/cache'), join(yarn.globalFolder, 'cache')])
      for (const f of readdirSync(folder))
        if (f.startsWith(`${name}-`) && f !== forged.file) rmSync(join(folder, f));
    freshClone(yarn);
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [
      new RegExp(`${name}@1\\.0\\.0 .*denied by rule acme-internal`),
      /tampered-archive/,
    ]);
    assertNeverRan(evilMarkers, markerName(name, '1.0.0'));
    assert.equal(existsSync(join(yarn.dir, 'node_modules', name)), false);
  });
});
