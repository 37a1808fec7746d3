// Attack suite, part 6: code that runs while Yarn fetches, before any hook after fetching could
// object. Yarn packs a git dependency by running its repository's own scripts (and its .yarnrc.yml),
// and an exec: dependency is a script. A denied source must never be cloned or run; an allowed git or
// exec source runs only when the policy's scripts section allows it. Each test is named after the
// attack it proves blocked; each asserts that no script ran, yarn.lock and package.json are unchanged
// and nothing was linked.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../harness/paths';
import { Scope } from '../harness/scope';
import type { YarnProject } from '../harness/yarn-project';
import { assertRefused, snapshot } from './attacks/support';
import { acmePolicy, acmeProject, startWorld, type World } from './fixtures';

interface ServedRepository {
  /** the git+http URL a dependency names */
  url: string;
  /** a file its prepack script writes when it runs */
  marker: string;
  /** every path the git host was asked for */
  requests: string[];
}

/**
 * A real git repository served read-only over git's HTTP protocol on 127.0.0.1 (a stand-in for a git
 * host): its prepack script writes `marker`, so its presence proves the repository's code ran.
 */
async function serveRepository(scope: Scope, name: string): Promise<ServedRepository> {
  const work = tempDir(`git-${name}`);
  const marker = join(tempDir(`git-marker-${name}`), 'prepack-ran');
  writeFileSync(
    join(work, 'package.json'),
    JSON.stringify({
      name,
      version: '1.0.0',
      scripts: { prepack: 'node prepack.js' },
    }),
  );
  writeFileSync(join(work, 'prepack.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
  writeFileSync(join(work, 'index.js'), 'module.exports = 1;\n');
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'Tollgate test',
    GIT_AUTHOR_EMAIL: 'test@tollgate.invalid',
    GIT_COMMITTER_NAME: 'Tollgate test',
    GIT_COMMITTER_EMAIL: 'test@tollgate.invalid',
  };
  const git = (args: string[], cwd = work) => execFileSync('git', args, { cwd, env, stdio: 'pipe' });
  git(['init', '-q', '-b', 'main']);
  git(['add', '.']);
  git(['commit', '-q', '-m', 'release']);
  const root = tempDir(`git-served-${name}`);
  git(['clone', '-q', '--bare', work, join(root, `${name}.git`)], root);
  git(['update-server-info'], join(root, `${name}.git`));
  const requests: string[] = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    requests.push(path);
    try {
      res.writeHead(200).end(await readFile(join(root, path)));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: `git+http://127.0.0.1:${port}/${name}.git#main`, marker, requests };
}

describe('attacks through code that runs while Yarn fetches: git dependencies and exec: generators', () => {
  const scope = new Scope();
  let world: World;
  before(async () => {
    world = await startWorld(scope);
  });
  after(() => scope.close());

  const project = (dependencies: Record<string, string>, policy: object = acmePolicy(world)) =>
    acmeProject(world, {
      dependencies,
      defaultRegistry: world.privateRegistry,
      policy: policy as Record<string, unknown>,
      yarnrc: { approvedGitRepositories: ['**'] },
    });

  function withRule(rule: Record<string, unknown>, scripts?: unknown[]) {
    const policy = acmePolicy(world);
    (policy.rules as object[]).push(rule);
    if (scripts) policy.scripts = { ...policy.scripts, allow: scripts };
    return policy;
  }

  function execGenerator(yarn: YarnProject, name: string): string {
    const marker = join(tempDir(`exec-marker-${name}`), 'generator-ran');
    yarn.write(
      'gen.js',
      [
        `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');`,
        'const { buildDir } = execEnv;',
        `require('fs').writeFileSync(require('path').join(buildDir, 'package.json'), JSON.stringify({ name: ${JSON.stringify(name)}, version: '1.0.0' }));`,
        '',
      ].join('\n'),
    );
    return marker;
  }

  test('git dependency the policy does not allow: refused before its host is even asked, its prepack never runs', async () => {
    const repo = await serveRepository(scope, 'tool-denied');
    const yarn = await project({ 'tool-denied': repo.url });
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [
      /refused before resolving: tool-denied \(git: http:\/\/127\.0\.0\.1:\d+\/tool-denied\.git\) denied by rule defaults/,
      /source-not-allowed: git sources are not allowed by defaults/,
      /Nothing was fetched, cloned or run for it/,
    ]);
    assert.deepEqual(repo.requests, [], 'the git host was never contacted');
    assert.equal(existsSync(repo.marker), false, "the repository's prepack never ran");
  });

  test('git dependency under a protected name: refused before its host is asked, whatever the rule allows', async () => {
    const repo = await serveRepository(scope, 'acme-tool');
    const yarn = await project({ 'acme-tool': repo.url });
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [
      /registry-not-allowed: acme-tool is protected by acme-internal but came from a git source/,
    ]);
    assert.deepEqual(repo.requests, []);
    assert.equal(existsSync(repo.marker), false);
  });

  test('git dependency allowed as a source but not allowed to run code: refused before it is cloned', async () => {
    const repo = await serveRepository(scope, 'tool-unapproved');
    const yarn = await project(
      { 'tool-unapproved': repo.url },
      withRule({ name: 'git-tools', packages: ['tool-*'], sources: ['npm', 'git'], require: 'none' }),
    );
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [
      /source-scripts-not-allowed: fetching a git dependency runs its repository's code/,
      /scripts\.allow: \[\{ package: tool-unapproved, source: git/,
    ]);
    assert.equal(existsSync(repo.marker), false, "the repository's prepack never ran");
    assert.ok(!repo.requests.some((r) => r.includes('/objects/')), 'nothing was cloned');
  });

  test("git dependency allowed for another repository: refused, the attacker's repository never cloned", async () => {
    const repo = await serveRepository(scope, 'tool-elsewhere');
    const yarn = await project(
      { 'tool-elsewhere': repo.url },
      withRule({ name: 'git-tools', packages: ['tool-*'], sources: ['npm', 'git'], require: 'none' }, [
        {
          package: 'tool-elsewhere',
          source: 'git',
          repository: 'github.com/acme/tool',
          reason: 'our fork, reviewed',
        },
      ]),
    );
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [/source-scripts-not-allowed/]);
    assert.equal(existsSync(repo.marker), false);
  });

  test('control: a git dependency whose repository the scripts section allows is packed, and its prepack runs', async () => {
    const repo = await serveRepository(scope, 'tool-approved');
    const remote = repo.url.replace(/^git\+/, '').replace(/#.*$/, '');
    const yarn = await project(
      { 'tool-approved': repo.url },
      withRule({ name: 'git-tools', packages: ['tool-*'], sources: ['npm', 'git'], require: 'none' }, [
        {
          package: 'tool-approved',
          source: 'git',
          repository: remote,
          reason: 'built by its prepack, reviewed',
        },
      ]),
    );
    const res = await yarn.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.ok(existsSync(repo.marker), "the allowed repository's prepack ran");
    assert.ok(yarn.exists('node_modules/tool-approved/package.json'));
  });

  test('exec: generator the policy does not allow: refused before it runs', async () => {
    const yarn = await project({ gen: 'exec:./gen.js' });
    const marker = execGenerator(yarn, 'gen');
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [
      /refused before (resolving|fetching): gen \(exec: \.\/gen\.js\)/,
      /source-not-allowed: exec sources/,
    ]);
    assert.equal(existsSync(marker), false, 'the generator never ran');
  });

  test('exec: generator allowed as a source but not allowed to run: refused before it runs', async () => {
    const yarn = await project(
      { gen: 'exec:./gen.js' },
      withRule({ name: 'generated', packages: ['gen'], sources: ['npm', 'exec'], require: 'none' }),
    );
    const marker = execGenerator(yarn, 'gen');
    const before = snapshot(yarn);
    const res = await yarn.yarn(['install']);
    assertRefused(res, yarn, before, [/source-scripts-not-allowed: an exec: dependency is a script/]);
    assert.equal(existsSync(marker), false, 'the generator never ran');
  });

  test('control: an exec: generator the scripts section allows runs', async () => {
    const yarn = await project(
      { gen: 'exec:./gen.js' },
      withRule({ name: 'generated', packages: ['gen'], sources: ['npm', 'exec'], require: 'none' }, [
        { package: 'gen', source: 'exec', reason: 'generates our bindings, reviewed' },
      ]),
    );
    const marker = execGenerator(yarn, 'gen');
    mkdirSync(join(yarn.dir, 'node_modules'), { recursive: true });
    const res = await yarn.yarn(['install']);
    assert.equal(res.code, 0, res.output);
    assert.ok(existsSync(marker), 'the allowed generator ran');
  });
});
