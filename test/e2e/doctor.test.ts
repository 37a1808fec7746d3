// `yarn tollgate doctor` with real Yarn, Verdaccio and tollgate-server: a healthy project gets no
// finding and exit 0; then every setting, file and cache that silently weakens protection is provoked
// in the same project — each is reported under its own code with its fix, and the exit code is 1; a
// policy that does not load is exit 2.
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { TufRepository } from '../../server/tuf/repository';
import { Scope } from '../harness/scope';
import { ACME_RELEASER, acmePolicy, acmeProject, startWorld, type World } from './fixtures';

// biome-ignore lint/suspicious/noExplicitAny: policy and pins documents are edited field by field
type Doc = Record<string, any>;

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

function jsonLines(output: string): Doc[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

describe('yarn tollgate doctor (real Yarn, Verdaccio and tollgate-server)', () => {
  const scope = new Scope();
  let world: World;
  before(async () => {
    world = await startWorld(scope);
    await world.publishSigned(world.privateRegistry, { name: '@acme/ui', version: '1.0.0' }, ACME_RELEASER);
  });
  after(() => scope.close());

  test('a healthy project has no finding; every weakening is its own finding with its code and fix', async () => {
    const policy = { ...acmePolicy(world), scripts: { default: 'allow-verified' } } as Doc;
    const project = await acmeProject(world, { dependencies: { '@acme/ui': '1.0.0' }, policy });
    const install = await project.yarn(['install']);
    assert.equal(install.code, 0, install.output);
    assert.ok(project.exists('.tollgate.pins.json'), 'the install pinned @acme/ui');

    // Healthy: Yarn's defaults for what the test harness loosens (scripts on, age gates 0).
    const yarnrc = parse(project.readYarnrc()) as Doc;
    project.mergeYarnrc({
      enableScripts: undefined,
      npmMinimalAgeGate: undefined,
      npmScopes: { acme: { npmRegistryServer: yarnrc.npmScopes.acme.npmRegistryServer } },
    });
    const clean = await project.yarn(['tollgate', 'doctor']);
    assert.equal(clean.code, 0, clean.output);
    assert.match(
      clean.output,
      /YN9100: Tollgate doctor: nothing weakens protection \(checked .*1 plugin bundle/,
    );
    assert.doesNotMatch(clean.output, /YN91(5[1-9]|6[01])/);
    const cleanJson = await project.yarn(['tollgate', 'doctor', '--json']);
    assert.equal(cleanJson.code, 0, cleanJson.output);
    assert.deepEqual(
      jsonLines(cleanJson.output)
        .filter((l) => l.type)
        .map((l) => [l.type, l.errors, l.warnings]),
      [['tollgate-doctor-summary', 0, 0]],
    );

    // A TUF root whose last verified timestamp expires a few seconds after `trust update` verified it.
    const repo = TufRepository.open(world.server.dataDir);
    const current = JSON.parse(await (await fetch(`${world.server.url}/tuf/timestamp.json`)).text());
    const expiresAt = new Date(Date.now() + 20_000);
    const shortLived = repo.signTimestamp({
      version: current.signed.version + 1,
      expires: expiresAt.toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    const mirror = createServer(async (req, res) => {
      if (req.url === '/tuf/timestamp.json') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(shortLived);
        return;
      }
      const answer = await fetch(`${world.server.url}${req.url}`);
      res.writeHead(answer.status).end(Buffer.from(await answer.arrayBuffer()));
    });
    await new Promise<void>((done) => mirror.listen(0, '127.0.0.1', done));
    scope.defer(() => new Promise<void>((done) => mirror.close(() => done())));
    const mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}/tuf`;
    project.write('mirror-root.json', await (await fetch(`${world.server.url}/tuf/1.root.json`)).text());

    // A trusted root nobody refreshed: its CA and log key ended yesterday.
    const stale = JSON.parse(world.server.trustedRootJson) as Doc;
    const ended = `${day(-1)}T00:00:00Z`;
    for (const ca of stale.certificateAuthorities) ca.validFor = { ...ca.validFor, end: ended };
    for (const log of stale.tlogs) log.publicKey.validFor = { ...log.publicKey.validFor, end: ended };
    project.write('stale-trusted-root.json', JSON.stringify(stale));

    policy.trustRoots = {
      ...policy.trustRoots,
      stale: { file: 'stale-trusted-root.json' },
      mirrored: { tuf: mirrorUrl, root: 'mirror-root.json' },
    };
    policy.scripts = { default: 'allow' };
    policy.exceptions = [
      { package: 'old-lib', reason: 'vendored fork', expires: day(-2) },
      { package: 'soon-lib', reason: 'upgrade pending', expires: day(5) },
    ];
    project.write('.tollgate.yml', stringify(policy));
    const update = await project.yarn(['tollgate', 'trust', 'update', 'mirrored']);
    assert.equal(update.code, 0, update.output);

    const pins = JSON.parse(project.read('.tollgate.pins.json')) as Doc;
    pins.packages['@acme/gone'] = pins.packages['@acme/ui'];
    project.write('.tollgate.pins.json', `${JSON.stringify(pins, null, 2)}\n`);

    project.mergeYarnrc({
      enableScripts: true,
      npmMinimalAgeGate: 0,
      approvedGitRepositories: ['**'],
      checksumBehavior: 'ignore',
      tollgateMode: 'warn',
    });
    // Replaced after `yarn plugin import` recorded its checksum: Yarn loads it anyway.
    appendFileSync(join(project.dir, '.yarn/plugins/@yarnpkg/plugin-tollgate.cjs'), '\n// replaced\n');

    const wait = expiresAt.getTime() + 1500 - Date.now();
    if (wait > 0) await sleep(wait);
    const env = { YARN_TOLLGATE_MODE: 'off' };
    const sick = await project.yarn(['tollgate', 'doctor'], { env });
    assert.equal(sick.code, 1, sick.output);
    for (const pattern of [
      /YN9151: \.yarnrc\.yml: enableScripts is true and the policy's scripts\.default is allow/,
      /YN9152: \.yarnrc\.yml: npmMinimalAgeGate is 0/,
      /YN9153: \.yarnrc\.yml: approvedGitRepositories has "\*\*"/,
      /YN9154: \.yarnrc\.yml: checksumBehavior is ignore/,
      /YN9155: \.yarnrc\.yml: tollgateMode: warn in \.yarnrc\.yml overrides every mode of the policy/,
      /YN9156: <environment>: YARN_TOLLGATE_MODE=off overrides every mode/,
      /YN9157: \.yarnrc\.yml: the plugin bundle \.yarn\/plugins\/@yarnpkg\/plugin-tollgate\.cjs does not match the checksum \.yarnrc\.yml records/,
      /YN9158: stale-trusted-root\.json: trust root "stale": every one of its certificate authorities stopped being valid/,
      /YN9158: stale-trusted-root\.json: trust root "stale": every one of its transparency-log keys stopped being valid/,
      /YN9159: http:\/\/127\.0\.0\.1:\d+\/tuf: trust root "mirrored": the TUF metadata last verified .* has expired \(timestamp expired .*\): installs refresh it when they reach/,
      /YN9160: \.tollgate\.yml:\d+:\d+: the exception for old-lib@\* \(vendored fork\) expired on/,
      /YN9160: \.tollgate\.yml:\d+:\d+: the exception for soon-lib@\* \(upgrade pending\) expires on .*, in \d day\(s\)/,
      /YN9161: \.tollgate\.pins\.json: \.tollgate\.pins\.json pins @acme\/gone, which yarn\.lock no longer installs/,
      /YN9157: {3}fix: restore the bundle from version control/,
      /YN9159: {3}fix: run `yarn tollgate trust update mirrored`/,
      /Tollgate doctor: 10 finding\(s\) weaken protection, 3 warning\(s\)/,
    ])
      assert.match(sick.output, pattern);
    assert.doesNotMatch(sick.output, /^\s+at /m, 'no stack trace');

    const json = await project.yarn(['tollgate', 'doctor', '--json'], { env });
    assert.equal(json.code, 1, json.output);
    const findings = jsonLines(json.output).filter((l) => l.type === 'tollgate-doctor-finding');
    assert.deepEqual(
      [...new Set(findings.map((f) => f.code))].sort(),
      [9151, 9152, 9153, 9154, 9155, 9156, 9157, 9158, 9159, 9160, 9161].map((n) => `YN${n}`),
    );
    for (const f of findings) {
      assert.ok(typeof f.fix === 'string' && f.fix.length > 0, `${f.code} has a fix`);
      assert.ok(['error', 'warning'].includes(f.severity));
    }
    assert.deepEqual(
      findings
        .filter((f) => f.severity === 'warning')
        .map((f) => f.code)
        .sort(),
      ['YN9159', 'YN9160', 'YN9161'],
    );

    // Offline, installs never refresh the policy root either: its expired metadata is an error.
    const offline = await project.yarn(['tollgate', 'doctor'], {
      env: { ...env, YARN_TOLLGATE_OFFLINE: 'true' },
    });
    assert.equal(offline.code, 1, offline.output);
    assert.match(offline.output, /YN9159: .*trust root "mirrored": .*installs never refresh it/);
    assert.match(offline.output, /Tollgate doctor: 11 finding\(s\) weaken protection, 2 warning\(s\)/);

    project.write('.tollgate.yml', 'version: 1\nrules: nope\n');
    const broken = await project.yarn(['tollgate', 'doctor'], { env });
    assert.equal(broken.code, 2, broken.output);
    assert.match(broken.output, /YN9105: Tollgate: the policy \.tollgate\.yml is invalid/);
    // What needs no policy is still checked: the replaced bundle is not hidden by a broken policy.
    assert.match(broken.output, /YN9157: .*does not match the checksum/);
    assert.match(broken.output, /YN9156: <environment>: YARN_TOLLGATE_MODE=off/);
    assert.doesNotMatch(broken.output, /YN9151/, 'the scripts check needs the policy');
    assert.match(broken.output, /Tollgate doctor: only the settings were checked/);
    assert.doesNotMatch(broken.output, /^\s+at /m, 'no stack trace');
  });
});
