// Organisation policies fetched from a URL, end to end (real Yarn 4, Verdaccio and tollgate-server): a
// base pinned by sha256 and a base signed with `yarn tollgate sign --as policy`, served over HTTP from
// 127.0.0.1. The base's rules decide; a wrong pin, a wrong signer, a bundle of another kind or a base
// altered after signing stop the command before anything is fetched; offline, the copy kept in
// Tollgate's cache is used, re-hashed or re-verified, and a tampered copy is refused.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { AuthenticatedStore } from '../../plugin/sources/engine/authenticated-store';
import { tempDir } from '../harness/paths';
import { Scope } from '../harness/scope';
import { createYarnProject, type YarnProject } from '../harness/yarn-project';
import { ACME_RELEASER, acmeProject, OUTSIDER, startWorld, type World } from './fixtures';

const POLICY_BOT = 'policy-bot@acme.example';

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A small HTTP server on 127.0.0.1 serving base policies (and their bundles) from memory. */
interface BaseServer {
  url: string;
  files: Map<string, Buffer>;
  /** paths asked for, in order */
  requests: string[];
  stop(): Promise<void>;
}

async function startBaseServer(scope: Scope): Promise<BaseServer> {
  const files = new Map<string, Buffer>();
  const requests: string[] = [];
  const server: Server = createHttpServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(path);
    const body = files.get(path);
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  scope.defer(stop);
  return { url: `http://127.0.0.1:${port}`, files, requests, stop };
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The organisation's base: @acme names only from the private registry, signed by an @acme.example
 * identity. A base from a URL may not name trust-root files (its pin would not cover them), so the
 * `local` root it uses comes from the base committed in the repository before it.
 */
function orgBase(world: World, require = 'signature'): string {
  return stringify({
    version: 1,
    mode: 'enforce',
    rules: [
      {
        name: 'acme-internal',
        packages: ['@acme/*'],
        registries: [world.privateRegistry.url],
        require,
        trust: ['local'],
        signers: [{ issuer: world.server.issuer, subject: { glob: '*@acme.example' } }],
      },
    ],
  });
}

/**
 * The committed base before it: the company's Sigstore instance (tollgate-server here) and what the
 * URL base may then build on. Every package the gate allows runs its build, so a script marker means
 * the gate let the package through (as in the gate's own tests).
 */
const TRUST_BASE = stringify({
  version: 1,
  trustRoots: { local: { file: '../local-trusted-root.json' } },
  defaults: { require: 'none', trust: ['local'] },
  scripts: { default: 'allow' },
});

/** The repository's policy: the committed trust base, then the URL base (extends[1]). */
function repositoryPolicy(urlEntry: Record<string, unknown>, own: Record<string, unknown> = {}) {
  return { version: 1, ...own, extends: ['org/trust.yml', urlEntry] };
}

function signedEntry(world: World, url: string, extra: Record<string, unknown> = {}) {
  return {
    url,
    signers: [{ issuer: world.server.issuer, subject: POLICY_BOT }],
    trust: ['policy-signing'],
    ...extra,
  };
}

/** The repository declares the root that verifies the signed base (its own, not inherited). */
const SIGNING_ROOT = { trustRoots: { 'policy-signing': { file: 'local-trusted-root.json' } } };

function assertNoStackTrace(output: string) {
  assert.doesNotMatch(output, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
}

/** Nothing resolved, fetched, linked or run: the project is as it was written. */
function assertUntouched(project: YarnProject, world: World, packageJson: string, names: string[]) {
  assert.equal(project.read('package.json'), packageJson, 'package.json unchanged');
  assert.equal(project.read('yarn.lock'), '', 'yarn.lock unchanged');
  assert.ok(
    !project.exists('node_modules') || readdirSync(join(project.dir, 'node_modules')).length === 0,
    'nothing linked',
  );
  const cache = join(project.dir, '.yarn/cache');
  assert.ok(
    !existsSync(cache) || !readdirSync(cache).some((f) => f.endsWith('.zip')),
    'nothing fetched into the project cache',
  );
  for (const name of names) assert.ok(!world.ran(name, '1.0.0'), `${name} ran its postinstall`);
}

/** The line (1-based) of a base's text that declares the rule, as decisions cite it. */
function ruleLine(text: string): number {
  return text.split('\n').findIndex((l) => /- name: acme-internal/.test(l)) + 1;
}

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The error of a base that cannot be used: at the extends entry, in .tollgate.yml, never skipped. */
function assertBaseRefused(
  res: { code: number | null; output: string },
  project: YarnProject,
  entry: number,
  url: string,
  reason: RegExp,
) {
  assert.equal(res.code, 1, res.output);
  const located = new RegExp(
    `\\.tollgate\\.yml:(\\d+):\\d+: error extends-unavailable: the base policy ${literal(url)} cannot be used: (.*); nothing is judged without it`,
  ).exec(res.output);
  assert.ok(located, res.output);
  assert.match(located[2]!, reason);
  assert.match(res.output, new RegExp(`field: +extends\\[${entry}\\]\\.url`));
  assert.match(project.read('.tollgate.yml').split('\n')[Number(located[1]) - 1]!, /url:/);
  assert.match(res.output, /nothing was installed/);
  assert.doesNotMatch(res.output, /YN0085|Fetch step/, 'stopped before resolution');
  assertNoStackTrace(res.output);
}

function setDependencies(project: YarnProject, dependencies: Record<string, string>) {
  project.write('package.json', `${JSON.stringify({ name: 'app', private: true, dependencies }, null, 2)}\n`);
}

describe('policy bases from a URL: pinned, signed, offline (real Yarn, Verdaccio and tollgate-server)', () => {
  const scope = new Scope();
  let world: World;
  let bases: BaseServer;
  /** a project used to run `yarn tollgate sign` */
  let signer: YarnProject;
  let signDir: string;
  /** orgBase, signed with `yarn tollgate sign --as policy` by POLICY_BOT */
  let signedText: string;
  let signedBundle: Buffer;

  async function sign(file: string, as: string[], identity: string): Promise<Buffer> {
    const out = join(signDir, `bundle-${Math.random().toString(36).slice(2)}.json`);
    const res = await signer.yarn([
      'tollgate',
      'sign',
      file,
      ...as,
      '--sigstore-server',
      world.server.url,
      '--dev-identity',
      identity,
      '--no-attach',
      '--output',
      out,
    ]);
    assert.equal(res.code, 0, res.output);
    return readFileSync(out);
  }

  before(async () => {
    world = await startWorld(scope);
    bases = await startBaseServer(scope);
    for (const name of ['@acme/pinned', '@acme/signed', '@acme/offline'])
      await world.publishSigned(world.privateRegistry, { name, version: '1.0.0' }, ACME_RELEASER);
    // Unsigned: the URL base denies them; were it skipped, the committed base alone would let them in.
    for (const name of ['@acme/unsigned', '@acme/wrong-pin', '@acme/refused', '@acme/unreachable'])
      await world.privateRegistry.publish(await world.build({ name, version: '1.0.0' }));
    signer = await createYarnProject({ registry: world.privateRegistry.url, withPlugin: true });
    signDir = tempDir('bases');
    signedText = orgBase(world);
    const file = join(signDir, 'base.yml');
    writeFileSync(file, signedText);
    signedBundle = await sign(file, ['--as', 'policy'], POLICY_BOT);
    assert.ok(existsSync(file), 'the signed file stays as it was');
  });
  after(() => scope.close());

  async function project(dependencies: Record<string, string>, policy: Record<string, unknown>) {
    const p = await acmeProject(world, { dependencies, policy });
    p.write('org/trust.yml', TRUST_BASE);
    return p;
  }

  test('a sha256-pinned URL base applies: its rule denies, named by URL and line; satisfied, the install runs', async () => {
    const text = orgBase(world);
    bases.files.set('/pinned/base.yml', Buffer.from(text));
    const url = `${bases.url}/pinned/base.yml`;
    const p = await project({ '@acme/unsigned': '1.0.0' }, repositoryPolicy({ url, sha256: sha256(text) }));

    const denied = await p.yarn(['install']);
    assert.equal(denied.code, 1, denied.output);
    assert.match(
      denied.output,
      new RegExp(
        `@acme/unsigned@1\\.0\\.0 from \\S+ denied by rule acme-internal \\(${literal(url)}:${ruleLine(text)}:5\\)`,
      ),
    );
    assert.match(denied.output, /evidence-missing: acme-internal requires signature/);
    assert.ok(!world.ran('@acme/unsigned', '1.0.0'));
    assert.equal(p.read('yarn.lock'), '');

    setDependencies(p, { '@acme/pinned': '1.0.0' });
    const ok = await p.yarn(['install']);
    assert.equal(ok.code, 0, ok.output);
    assert.match(ok.output, /✓ @acme\/pinned@1\.0\.0: signature by release-bot@acme\.example/);
    assert.ok(world.ran('@acme/pinned', '1.0.0'));

    const explain = await p.yarn(['tollgate', 'explain', '@acme/pinned']);
    assert.equal(explain.code, 0, explain.output);
    assert.match(explain.output, new RegExp(`rule: acme-internal at ${literal(url)}:${ruleLine(text)}:5`));
    assert.match(
      explain.output,
      new RegExp(`base 2: ${literal(url)} \\(pinned by sha256, sha256 ${sha256(text).slice(0, 12)}…\\)`),
    );
  });

  test('a wrong pin (the server swapped the base) stops the command before anything is fetched, naming the extends entry', async () => {
    const reviewed = orgBase(world);
    const swapped = orgBase(world, 'none');
    bases.files.set('/wrong/base.yml', Buffer.from(swapped));
    const url = `${bases.url}/wrong/base.yml`;
    const p = await project(
      { '@acme/wrong-pin': '1.0.0' },
      repositoryPolicy({ url, sha256: sha256(reviewed) }),
    );
    const packageJson = p.read('package.json');
    const asked = bases.requests.length;

    const res = await p.yarn(['install']);
    assertBaseRefused(
      res,
      p,
      1,
      url,
      new RegExp(
        `^its sha256 is ${sha256(swapped)}, not the pinned ${sha256(reviewed)}: these are not the bytes that were reviewed$`,
      ),
    );
    assert.ok(bases.requests.slice(asked).includes('/wrong/base.yml'), 'the base was fetched and compared');
    assertUntouched(p, world, packageJson, ['@acme/wrong-pin']);
  });

  test('a signed base: refused when signed by another identity, as a package, as a plugin release, altered after signing, under another trust root or without its bundle; accepted from the named signer', async () => {
    const url = `${bases.url}/signed/base.yml`;
    const serve = (text: string, bundle: Buffer | undefined) => {
      bases.files.set('/signed/base.yml', Buffer.from(text));
      if (bundle) bases.files.set('/signed/base.yml.sigstore.json', bundle);
      else bases.files.delete('/signed/base.yml.sigstore.json');
    };
    const p = await project(
      { '@acme/refused': '1.0.0' },
      repositoryPolicy(signedEntry(world, url), SIGNING_ROOT),
    );
    const packageJson = p.read('package.json');
    const file = join(signDir, 'base.yml');

    // Signed --as policy, but by someone the policy does not name.
    serve(signedText, await sign(file, ['--as', 'policy'], (OUTSIDER as { email: string }).email));
    assertBaseRefused(
      await p.yarn(['install']),
      p,
      1,
      url,
      new RegExp(
        `^its signature is not accepted: it is signed by mallory@evil\\.example \\(issuer ${literal(world.server.issuer)}\\), whom the policy does not list: expected subject=policy-bot@acme\\.example, got subject=mallory@evil\\.example$`,
      ),
    );

    // The named signer's bundle for a package (`yarn tollgate sign <tarball>`, not --as policy).
    const pkg = await world.build({ name: '@acme/packaged', version: '1.0.0' });
    const tgz = join(signDir, 'packaged.tgz');
    writeFileSync(tgz, pkg.tarball);
    serve(signedText, await sign(tgz, [], POLICY_BOT));
    assertBaseRefused(
      await p.yarn(['install']),
      p,
      1,
      url,
      /^its signature is not accepted: its bundle does not verify against these bytes \(SUBJECT_MISMATCH\)/,
    );

    // The named signer, over these very bytes, but as a plugin release: the predicate type decides.
    serve(signedText, await sign(file, ['--as', 'plugin-release'], POLICY_BOT));
    assertBaseRefused(
      await p.yarn(['install']),
      p,
      1,
      url,
      /^its signature is not accepted: its bundle is not a signature of a policy \(predicate \S*plugin-release\S*, expected \S*policy\S*\)$/,
    );

    // The right bundle, and a base relaxed after it was signed.
    serve(orgBase(world, 'none'), signedBundle);
    assertBaseRefused(
      await p.yarn(['install']),
      p,
      1,
      url,
      /^its signature is not accepted: its bundle does not verify against these bytes \(SUBJECT_MISMATCH\)/,
    );

    // No bundle at all.
    serve(signedText, undefined);
    assertBaseRefused(
      await p.yarn(['install']),
      p,
      1,
      url,
      new RegExp(
        `^its bundle cannot be read: ${literal(url)}\\.sigstore\\.json could not be fetched \\(HTTP 404\\)$`,
      ),
    );

    // The right bundle, but the entry trusts only public-good: tollgate-server's certificates do not chain there.
    serve(signedText, signedBundle);
    p.write(
      '.tollgate.yml',
      stringify(repositoryPolicy(signedEntry(world, url, { trust: ['public-good'] }))),
    );
    assertBaseRefused(
      await p.yarn(['install']),
      p,
      1,
      url,
      /^its signature is not accepted: its bundle does not verify against these bytes \(CERTIFICATE_INVALID\): trust root "public-good": Failed to verify certificate chain/,
    );
    assertUntouched(p, world, packageJson, ['@acme/refused']);

    // The named signer, the server's trust root: accepted, and its rule decides.
    p.write('.tollgate.yml', stringify(repositoryPolicy(signedEntry(world, url), SIGNING_ROOT)));
    const denied = await p.yarn(['install']);
    assert.equal(denied.code, 1, denied.output);
    assert.match(
      denied.output,
      new RegExp(
        `@acme/refused@1\\.0\\.0 from \\S+ denied by rule acme-internal \\(${literal(url)}:${ruleLine(signedText)}:5\\)`,
      ),
    );
    assert.doesNotMatch(denied.output, /trust-root-unused|is declared but no rule uses it/);
    assert.ok(!world.ran('@acme/refused', '1.0.0'));

    setDependencies(p, { '@acme/signed': '1.0.0' });
    const ok = await p.yarn(['install']);
    assert.equal(ok.code, 0, ok.output);
    assert.match(ok.output, /✓ @acme\/signed@1\.0\.0: signature by release-bot@acme\.example/);
    assert.ok(world.ran('@acme/signed', '1.0.0'));
    const explain = await p.yarn(['tollgate', 'explain', '@acme/signed']);
    assert.equal(explain.code, 0, explain.output);
    assert.match(
      explain.output,
      new RegExp(
        `base 2: ${literal(url)} \\(signed by policy-bot@acme\\.example \\(issuer ${literal(world.server.issuer)}, log index \\d+\\), sha256 ${sha256(signedText).slice(0, 12)}…\\)`,
      ),
    );
  });

  test('offline: the cached copies are used when the server is down (re-hashed, re-verified); a tampered copy is refused', async () => {
    const own = await startBaseServer(scope);
    const pinnedText = orgBase(world);
    own.files.set('/base.yml', Buffer.from(pinnedText));
    own.files.set('/signed.yml', Buffer.from(signedText));
    own.files.set('/signed.yml.sigstore.json', signedBundle);
    const pinnedUrl = `${own.url}/base.yml`;
    const signedUrl = `${own.url}/signed.yml`;
    const p = await project(
      { '@acme/offline': '1.0.0' },
      {
        version: 1,
        ...SIGNING_ROOT,
        extends: [
          'org/trust.yml',
          { url: pinnedUrl, sha256: sha256(pinnedText) },
          signedEntry(world, signedUrl),
        ],
      },
    );
    const first = await p.yarn(['install']);
    assert.equal(first.code, 0, first.output);
    assert.ok(world.ran('@acme/offline', '1.0.0'));

    const entries = join(p.globalFolder, 'tollgate', 'policy-bases');
    const entryOf = (url: string) => join(entries, `${sha256(url)}.json`);
    for (const url of [pinnedUrl, signedUrl, `${signedUrl}.sigstore.json`])
      assert.ok(existsSync(entryOf(url)), `a copy of ${url} is kept in Tollgate's cache`);
    const goodCopy = readFileSync(entryOf(pinnedUrl), 'utf8');

    // The server answers once with other bytes: refused, and the good copy is not replaced by them.
    own.files.set('/base.yml', Buffer.from(orgBase(world, 'none')));
    assertBaseRefused(
      await p.yarn(['install']),
      p,
      1,
      pinnedUrl,
      /^its sha256 is [0-9a-f]{64}, not the pinned/,
    );
    assert.equal(readFileSync(entryOf(pinnedUrl), 'utf8'), goodCopy);

    await own.stop();
    // Online with the server down: the pinned copy stands in (its hash decides); a signed base is
    // taken from the cache only offline, so a newer signed base is never hidden behind an older copy.
    const down = await p.yarn(['tollgate', 'explain', '@acme/offline']);
    assert.notEqual(down.code, 0, down.output);
    assert.match(
      down.output,
      new RegExp(
        `the base policy ${literal(signedUrl)} cannot be used: ${literal(signedUrl)} could not be fetched \\(connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+\\); the copy verified earlier on this machine is used only offline \\(tollgateOffline: true, or --offline\\)`,
      ),
    );
    assert.doesNotMatch(down.output, new RegExp(`base policy ${literal(pinnedUrl)} cannot be used`));

    // Offline (explain and audit --offline, tollgateOffline for installs): both copies are used.
    const explain = await p.yarn(['tollgate', 'explain', '@acme/offline', '--offline']);
    assert.equal(explain.code, 0, explain.output);
    assert.match(
      explain.output,
      new RegExp(
        `base 2: ${literal(pinnedUrl)} \\(pinned by sha256; the copy fetched earlier on this machine, sha256`,
      ),
    );
    assert.match(
      explain.output,
      new RegExp(
        `base 3: ${literal(signedUrl)} \\(signed by policy-bot@acme\\.example .*; the copy fetched earlier on this machine, sha256`,
      ),
    );
    assert.match(
      explain.output,
      new RegExp(`rule: acme-internal at ${literal(own.url)}/(base|signed)\\.yml:\\d+:5`),
    );
    const audit = await p.yarn(['tollgate', 'audit', '--offline']);
    assert.equal(audit.code, 0, audit.output);
    assert.match(audit.output, /✓ @acme\/offline@1\.0\.0: signature by release-bot@acme\.example/);
    p.mergeYarnrc({ tollgateOffline: true });
    const install = await p.yarn(['install']);
    assert.equal(install.code, 0, install.output);

    // Edited in Tollgate's cache folder (a relaxed base, base64 in the entry): does not authenticate.
    const editCopy = (url: string, text: string) => {
      const entry = JSON.parse(readFileSync(entryOf(url), 'utf8'));
      const body = JSON.parse(entry.body);
      body.bytes = Buffer.from(text).toString('base64');
      writeFileSync(entryOf(url), JSON.stringify({ ...entry, body: JSON.stringify(body) }));
    };
    const notAuthentic = (url: string) =>
      new RegExp(
        `^offline, and the copy in Tollgate's cache \\(${literal(entryOf(url))}\\) does not authenticate with this machine's cache key`,
      );
    editCopy(pinnedUrl, orgBase(world, 'none'));
    assertBaseRefused(await p.yarn(['install']), p, 1, pinnedUrl, notAuthentic(pinnedUrl));
    writeFileSync(entryOf(pinnedUrl), goodCopy);
    const signedCopy = readFileSync(entryOf(signedUrl), 'utf8');
    editCopy(signedUrl, orgBase(world, 'none'));
    assertBaseRefused(await p.yarn(['install']), p, 2, signedUrl, notAuthentic(signedUrl));

    // Even a copy that authenticates (written with this machine's key, as only Tollgate should) is
    // re-hashed against the pin and re-verified against its bundle on every read.
    const key = readFileSync(join(p.globalFolder, 'home', '.local', 'state', 'tollgate', 'cache.key'));
    const store = new AuthenticatedStore(entries, key);
    const relaxed = Buffer.from(orgBase(world, 'none')).toString('base64');
    store.write(sha256(signedUrl), { url: signedUrl, bytes: relaxed });
    assertBaseRefused(
      await p.yarn(['install']),
      p,
      2,
      signedUrl,
      /^its signature is not accepted: its bundle does not verify against these bytes/,
    );
    writeFileSync(entryOf(signedUrl), signedCopy);
    store.write(sha256(pinnedUrl), { url: pinnedUrl, bytes: relaxed });
    assertBaseRefused(
      await p.yarn(['install']),
      p,
      1,
      pinnedUrl,
      /^its sha256 is [0-9a-f]{64}, not the pinned/,
    );
    writeFileSync(entryOf(pinnedUrl), goodCopy);
    const restored = await p.yarn(['install']);
    assert.equal(restored.code, 0, restored.output);
  });

  test('an unreachable URL base with no cached copy fails closed with the reason, online and offline', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/base.yml`;
    const p = await project(
      { '@acme/unreachable': '1.0.0' },
      repositoryPolicy({ url, sha256: sha256(orgBase(world)) }),
    );
    const packageJson = p.read('package.json');
    assertBaseRefused(
      await p.yarn(['install']),
      p,
      1,
      url,
      new RegExp(`^${literal(url)} could not be fetched \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)$`),
    );
    p.mergeYarnrc({ tollgateOffline: true });
    assertBaseRefused(
      await p.yarn(['install']),
      p,
      1,
      url,
      new RegExp(`^offline, and ${literal(url)} was never fetched on this machine$`),
    );
    assertUntouched(p, world, packageJson, ['@acme/unreachable']);
  });
});
