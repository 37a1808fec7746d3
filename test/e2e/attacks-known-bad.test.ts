// Attack suite, part 8: releases the world already knows are bad. A real-format MAL record for a
// public package denies it at install before its script runs; the company's private package of the
// same name is unaffected; a withdrawn record denies nothing; a compromised signer identity denies what
// it signed inside its window and nothing outside; a signed snapshot by the wrong signer is refused on
// import; a planted or altered database is not believed. Each denial asserts that no script ran,
// yarn.lock and package.json are unchanged and nothing was linked.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { zipSync } from 'fflate';
import { markerName } from '../harness/packages';
import { requireBuilt, serverBin, tempDir } from '../harness/paths';
import { startAnnouncing, stopChild } from '../harness/process';
import { Scope } from '../harness/scope';
import type { YarnProject } from '../harness/yarn-project';
import { malRecord, recordText } from '../knownbad/records';
import { assertNeverRan, assertRefused, snapshot } from './attacks/support';
import { ACME_RELEASER, acmePolicy, acmeProject, startWorld, type World } from './fixtures';

/** A folder laid out like a checkout of ossf/malicious-packages. */
function malFolder(records: Array<Record<string, unknown>>): string {
  const dir = tempDir('mal');
  for (const record of records) {
    const name = (record.affected as Array<{ package: { name: string } }>)[0]!.package.name;
    const folder = join(dir, 'osv', record.withdrawn ? 'withdrawn' : 'malicious', 'npm', name);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `${record.id}.json`), recordText(record));
  }
  return dir;
}

describe('attacks with known-bad releases: MAL records, private names, withdrawn records, compromised signers, snapshots', () => {
  const scope = new Scope();
  let world: World;
  let records: string;
  before(async () => {
    world = await startWorld(scope);
    // The typosquat on the public registry, a withdrawn record's package, and the company's own
    // acme-utils (signed, on the private registry) whose name a public MAL record also names.
    await world.publicRegistry.publish(await world.build({ name: 'lodahs', version: '4.17.21' }));
    await world.publicRegistry.publish(await world.build({ name: 'is-thirteen', version: '2.0.0' }));
    await world.publicRegistry.publish(await world.build({ name: 'tiny-lib', version: '1.0.0' }));
    await world.publishSigned(world.privateRegistry, { name: 'acme-utils', version: '1.2.0' }, ACME_RELEASER);
    await world.publishSigned(world.privateRegistry, { name: '@acme/ui', version: '1.0.0' }, ACME_RELEASER);
    records = malFolder([
      malRecord({ id: 'MAL-2026-101', name: 'lodahs', ranges: [[{ introduced: '0' }]] }),
      malRecord({ id: 'MAL-2026-102', name: 'acme-utils', ranges: [[{ introduced: '0' }]] }),
      malRecord({
        id: 'MAL-2026-103',
        name: 'is-thirteen',
        versions: ['2.0.0'],
        withdrawn: '2026-01-02T03:04:05Z',
      }),
    ]);
  });
  after(() => scope.close());

  async function projectWith(
    dependencies: Record<string, string>,
    policy: Record<string, unknown> = acmePolicy(world),
    options: { defaultRegistry?: World['privateRegistry'] } = {},
  ): Promise<YarnProject> {
    const project = await acmeProject(world, { dependencies, policy, ...options });
    const imported = await project.yarn(['tollgate', 'db', 'update', '--from', records]);
    assert.equal(imported.code, 0, imported.output);
    assert.match(imported.output, /imported 3 record\(s\) .*3 package entries, 1 withdrawn/);
    return project;
  }

  test('a public typosquat a MAL record names is denied at install, before its script runs', async () => {
    const project = await projectWith({ lodahs: '^4.17.0' });
    const before = snapshot(project);
    const res = await project.yarn(['install']);
    assertRefused(res, project, before, [
      /lodahs@4\.17\.21 .*denied/,
      /known-bad: MAL-2026-101: Malicious code in lodahs \(npm\) \(https:\/\/github\.com\/advisories\//,
      /version 4\.17\.21 in SEMVER introduced 0/,
      /known-bad database: 3 record\(s\) from 1 source\(s\)/,
    ]);
    assertNeverRan(world.markers, markerName('lodahs', '4.17.21'));
  });

  test('the company private acme-utils is unaffected by the public record of the same name', async () => {
    const project = await projectWith({ 'acme-utils': '^1.2.0' }, acmePolicy(world), {
      defaultRegistry: world.privateRegistry,
    });
    const res = await project.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.ok(world.ran('acme-utils', '1.2.0'), "acme-utils's postinstall ran");
    assert.doesNotMatch(res.output, /known-bad: MAL-2026-102/);
    const explain = await project.yarn(['tollgate', 'explain', 'acme-utils']);
    assert.equal(explain.code, 0, explain.output);
    assert.doesNotMatch(explain.output, /\[violation\] known-bad/);
    assert.match(explain.output, /YN9108: Tollgate: known-bad database: 3 record\(s\)/);
  });

  test('a withdrawn record denies nothing', async () => {
    const project = await projectWith({ 'is-thirteen': '2.0.0' });
    const res = await project.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.ok(world.ran('is-thirteen', '2.0.0'));
    assert.doesNotMatch(res.output, /MAL-2026-103/);
  });

  test('a record imported after the install: the audit finds it, with the database age; explain shows the match', async () => {
    const project = await acmeProject(world, { dependencies: { lodahs: '4.17.21' } });
    const installed = await project.yarn(['install']);
    assert.equal(installed.code, 0, installed.output);
    const imported = await project.yarn(['tollgate', 'db', 'update', '--from', records]);
    assert.equal(imported.code, 0, imported.output);
    const audit = await project.yarn(['tollgate', 'audit']);
    assert.equal(audit.code, 1, audit.output);
    assert.match(audit.output, /known-bad: MAL-2026-101/);
    assert.match(
      audit.output,
      /YN9108: .*known-bad database: 3 record\(s\) from 1 source\(s\), the oldest as of .* old/,
    );
    const sarif = await project.yarn(['tollgate', 'audit', '--format', 'sarif']);
    assert.equal(sarif.code, 1);
    const log = JSON.parse(sarif.stdout);
    assert.ok(log.runs[0].tool.driver.rules.some((r: { id: string }) => r.id === 'known-bad'));
    assert.ok(log.runs[0].results.some((r: { ruleId: string }) => r.ruleId === 'known-bad'));
    const explain = await project.yarn(['tollgate', 'explain', 'lodahs']);
    assert.equal(explain.code, 1, explain.output);
    assert.match(explain.output, /\[violation\] known-bad: MAL-2026-101: Malicious code in lodahs/);
    assert.match(explain.output, /integrity: sha512-/, 'the ready exception names the exact tarball');
  });

  test('a compromised signer identity denies what it signed inside the window, and nothing outside it', async () => {
    const window = (from: string, until: string) =>
      `version: 1\nsigners:\n  - id: INC-7\n    issuer: ${world.server.issuer}\n    subject: release-bot@acme.example\n    from: ${from}\n    until: ${until}\n    summary: the release bot's token leaked\n`;
    const hour = 3_600_000;
    const inside = await acmeProject(world, { dependencies: { '@acme/ui': '1.0.0' } });
    inside.write(
      '.tollgate.known-bad.yml',
      window(new Date(Date.now() - hour).toISOString(), new Date(Date.now() + hour).toISOString()),
    );
    const before = snapshot(inside);
    const res = await inside.yarn(['install']);
    assertRefused(res, inside, before, [
      /known-bad: INC-7: the release bot's token leaked/,
      /signed by release-bot@acme\.example .* inside /,
      /\.tollgate\.known-bad\.yml:3:5/,
    ]);
    assertNeverRan(world.markers, markerName('@acme/ui', '1.0.0'));

    const outside = await acmeProject(world, { dependencies: { '@acme/ui': '1.0.0' } });
    outside.write('.tollgate.known-bad.yml', window('2020-01-01T00:00:00Z', '2020-02-01T00:00:00Z'));
    const ok = await outside.yarn(['install']);
    assert.equal(ok.code, 0, ok.output);
    assert.ok(world.ran('@acme/ui', '1.0.0'));
  });

  test('an invalid known-bad list is a configuration error, located', async () => {
    const project = await acmeProject(world, { dependencies: { '@acme/ui': '1.0.0' } });
    project.write('.tollgate.known-bad.yml', 'version: 1\nreleases:\n  - package: x\n    verions: 1.0.0\n');
    const res = await project.yarn(['tollgate', 'audit']);
    assert.equal(res.code, 2, res.output);
    assert.match(res.output, /\.tollgate\.known-bad\.yml:4:5: error unknown-key: unknown key "verions"/);
    assert.match(res.output, /did you mean "versions"\?/);
  });

  describe('signed snapshots', () => {
    /** A company's snapshot: a zip of OSV records, signed with `yarn tollgate db sign` as `email`. */
    async function signedSnapshot(project: YarnProject, email: string): Promise<string> {
      const dir = tempDir('snapshot');
      const zip = Buffer.from(
        zipSync({
          'MAL-2026-201.json': Buffer.from(
            recordText(malRecord({ id: 'MAL-2026-201', name: 'lodahs', versions: ['4.17.21'] })),
          ),
        }),
      );
      const path = join(dir, 'acme-known-bad.zip');
      writeFileSync(path, zip);
      const signed = await project.yarn([
        'tollgate',
        'db',
        'sign',
        path,
        '--sigstore-server',
        world.server.url,
        '--dev-identity',
        email,
      ]);
      assert.equal(signed.code, 0, signed.output);
      assert.match(
        signed.output,
        new RegExp(`Signed the known-bad snapshot .* as ${email.replace('.', '\\.')}`),
      );
      return path;
    }
    const policy = () => ({
      ...acmePolicy(world),
      knownBad: {
        sources: [
          {
            name: 'acme-list',
            trust: ['local'],
            signers: [{ issuer: world.server.issuer, subject: 'security@acme.example' }],
          },
        ],
      },
    });

    test('a snapshot signed by the wrong identity is refused on import, and nothing is imported', async () => {
      const project = await acmeProject(world, { dependencies: {}, policy: policy() });
      const path = await signedSnapshot(project, 'mallory@evil.example');
      const res = await project.yarn([
        'tollgate',
        'db',
        'update',
        '--from',
        path,
        '--signed-by',
        'acme-list',
      ]);
      assert.equal(res.code, 1, res.output);
      assert.match(res.output, /refused .*acme-known-bad\.zip: it is signed by mallory@evil\.example/);
      assert.match(
        res.output,
        /acme-list expects subject=security@acme\.example, got subject=mallory@evil\.example/,
      );
      assert.match(res.output, /nothing was imported/);
      const status = await project.yarn(['tollgate', 'db', 'status']);
      assert.match(status.output, /no known-bad database imported/);
    });

    test('a snapshot the policy names must be signed; the right signer is imported with its signed time', async () => {
      const project = await acmeProject(world, { dependencies: { lodahs: '4.17.21' }, policy: policy() });
      const path = await signedSnapshot(project, 'security@acme.example');
      const unsigned = join(tempDir('unsigned'), 'acme-known-bad.zip');
      writeFileSync(unsigned, readFileSync(path));
      const refused = await project.yarn([
        'tollgate',
        'db',
        'update',
        '--from',
        unsigned,
        '--signed-by',
        'acme-list',
      ]);
      assert.equal(refused.code, 1, refused.output);
      assert.match(refused.output, /must be signed by knownBad\.sources acme-list, and no bundle was found/);
      const res = await project.yarn([
        'tollgate',
        'db',
        'update',
        '--from',
        path,
        '--signed-by',
        'acme-list',
      ]);
      assert.equal(res.code, 0, res.output);
      assert.match(res.output, /signed by security@acme\.example, issuer .*, as acme-list/);
      const status = await project.yarn(['tollgate', 'db', 'status']);
      assert.equal(status.code, 0, status.output);
      assert.match(status.output, /signed by security@acme\.example .* for knownBad\.sources acme-list/);
      const before = snapshot(project);
      const install = await project.yarn(['install']);
      assertRefused(install, project, before, [/known-bad: MAL-2026-201/, /version 4\.17\.21 listed/]);
    });
  });

  describe("a verdict service (an organisation's central list)", () => {
    async function startVerdictService(): Promise<{ url: string; publicKey: string }> {
      const dir = tempDir('verdict-service');
      const list = join(dir, 'list');
      mkdirSync(list);
      writeFileSync(
        join(list, 'MAL-2026-401.json'),
        recordText(malRecord({ id: 'MAL-2026-401', name: 'org-flagged', versions: ['1.0.0'] })),
      );
      const started = await startAnnouncing<{ url: string }>(
        process.execPath,
        [requireBuilt(serverBin), '--data', join(dir, 'data'), '--port', '0', '--known-bad', list],
        { cwd: dir, name: 'tollgate-server (verdict service)' },
      );
      scope.defer(() => stopChild(started.child));
      const publicKey = await (await fetch(`${started.ready.url}/api/v1/verdict/public-key`)).text();
      return { url: started.ready.url, publicKey };
    }
    const closedPort = async () => {
      const probe = createServer();
      await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
      const { port } = probe.address() as { port: number };
      await new Promise<void>((done) => probe.close(() => done()));
      return port;
    };
    async function projectAsking(
      url: string,
      publicKey: string,
      dependencies: Record<string, string>,
      mode = 'enforce',
    ) {
      const project = await acmeProject(world, {
        dependencies,
        policy: {
          ...acmePolicy(world, { mode }),
          knownBad: { verdictService: { url, publicKey: 'verdict.pem' } },
        },
      });
      project.write('verdict.pem', publicKey);
      return project;
    }

    test('a no-go from the service denies the package before its script runs', async () => {
      await world.publicRegistry.publish(await world.build({ name: 'org-flagged', version: '1.0.0' }));
      const service = await startVerdictService();
      const project = await projectAsking(service.url, service.publicKey, { 'org-flagged': '1.0.0' });
      const before = snapshot(project);
      const res = await project.yarn(['install']);
      assertRefused(res, project, before, [
        /known-bad: MAL-2026-401: Malicious code in org-flagged/,
        /the verdict service http:\/\/127\.0\.0\.1:\d+\//,
      ]);
      assertNeverRan(world.markers, markerName('org-flagged', '1.0.0'));
    });

    test('an unreachable verdict service is a denial in enforce mode, and a warning in warn mode', async () => {
      await world.publicRegistry.publish(await world.build({ name: 'plain-lib', version: '1.0.0' }));
      const service = await startVerdictService();
      const url = `http://127.0.0.1:${await closedPort()}`;
      const project = await projectAsking(url, service.publicKey, { 'plain-lib': '1.0.0' });
      const before = snapshot(project);
      const res = await project.yarn(['install']);
      assertRefused(res, project, before, [
        /known-bad-unchecked: .*VERDICT_UNAVAILABLE.*did not answer for plain-lib@1\.0\.0/,
      ]);
      assertNeverRan(world.markers, markerName('plain-lib', '1.0.0'));
      const warned = await projectAsking(url, service.publicKey, { 'plain-lib': '1.0.0' }, 'warn');
      const ok = await warned.yarn(['install']);
      assert.equal(ok.code, 0, ok.output);
      assert.match(ok.output, /YN9102: .*known-bad-unchecked/);
    });

    test('answers signed by another key are not believed', async () => {
      const service = await startVerdictService();
      const other = await startVerdictService();
      const project = await projectAsking(service.url, other.publicKey, { 'plain-lib': '1.0.0' });
      const before = snapshot(project);
      const res = await project.yarn(['install']);
      assertRefused(res, project, before, [/VERDICT_UNVERIFIED.*not signed by the configured verdict key/]);
    });
  });

  test('a database altered in the cache folder is not believed: with maxAge and stale: deny, installs are denied', async () => {
    const project = await projectWith(
      { 'tiny-lib': '1.0.0' },
      { ...acmePolicy(world), knownBad: { maxAge: '7d', stale: 'deny' } },
    );
    const folder = join(project.globalFolder, 'tollgate', 'known-bad');
    const index = readdirSync(folder).find((f) => f.endsWith('.index'))!;
    const bytes = readFileSync(join(folder, index), 'utf8');
    // Whoever restores a CI cache can rewrite the index: here, dropping the typosquat's record.
    writeFileSync(join(folder, index), bytes.replace('MAL-2026-101', 'MAL-2026-999'));
    const before = snapshot(project);
    const res = await project.yarn(['install']);
    assertRefused(res, project, before, [
      /known-bad database part not used: .*its index was altered after `db update` wrote it/,
      /there is no known-bad database/,
      /known-bad-unchecked: .*DATABASE_ABSENT.*run `yarn tollgate db update`/,
    ]);
    assertNeverRan(world.markers, markerName('tiny-lib', '1.0.0'));
    const status = await project.yarn(['tollgate', 'db', 'status']);
    assert.equal(status.code, 1, status.output);
  });
});
