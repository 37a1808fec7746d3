// The web page in a real browser (Debian's chromium, headless, through playwright-core) against
// the built tollgate-server, with entries signed by unmodified sigstore-js. A test double in front
// of the server serves tampered proofs. Screenshots go to test/output/web/.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import type { Browser, Page } from 'playwright-core';
import { attest, sign } from 'sigstore';
import { parseMonitorConfig } from '../../monitor/config/load';
import { launchChromium, outputFolder } from '../harness/browser';
import { tempDir } from '../harness/paths';
import { Scope } from '../harness/scope';
import { type SigstoreServer, startSigstoreServer } from '../harness/sigstore';

const scope = new Scope();
let server: SigstoreServer;
let browser: Browser;
const shots = outputFolder('web');

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
// An email the CA accepts (a dot-atom local part) with characters that mean something in HTML.
const ODD_EMAIL = "o'hara&{co}@example.com";
// A URI SAN the CA accepts (printable ASCII, a valid URL) that is markup if parsed as HTML.
const HTML_SAN = 'https://evil.example/"><img/src=x/onerror=window.__xss=1>';
const HTML_CLAIM = '<script>window.__xss=2</script><b>push</b>';
const FILE_BYTES = Buffer.from('the release notes of acme-ui 1.2.0\n');

const entries: Record<string, number> = {};
const aliceIndexes: number[] = [];

async function token(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${server.url}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { id_token: string }).id_token;
}

const emailToken = (email: string) => token({ sub: email, email });

function logIndexOf(bundle: unknown): number {
  // protobuf JSON leaves out a zero logIndex
  return Number(
    (bundle as { verificationMaterial: { tlogEntries: { logIndex?: string }[] } }).verificationMaterial
      .tlogEntries[0]!.logIndex ?? 0,
  );
}

async function signBlob(bytes: Buffer, identityToken: string): Promise<number> {
  const bundle = await sign(bytes, { fulcioURL: server.url, rekorURL: server.url, identityToken });
  return logIndexOf(bundle);
}

function npmStatement(name: string, version: string, tarball: Buffer) {
  const purlName = name.startsWith('@') ? `%40${name.slice(1)}` : name;
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [
      {
        name: `pkg:npm/${purlName}@${version}`,
        digest: { sha512: createHash('sha512').update(tarball).digest('hex') },
      },
    ],
    predicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1',
    predicate: { name, version, registry: 'https://registry.invalid/' },
  };
}

/** A page with every console error and CSP violation collected, and any dialog (alert) recorded. */
async function openPage(width = 1100, height = 900): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width, height } });
  scope.defer(() => context.close());
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  // Browser-side code is given as text: this file is type-checked without the DOM library.
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
  );
  return { page, problems };
}

async function ready(page: Page): Promise<void> {
  try {
    await page.waitForSelector('main[data-ready="true"]', { timeout: 20_000 });
  } catch (err) {
    throw new Error(
      `${page.url()} did not finish rendering: ${(err as Error).message}\n${await page.textContent('body')}`,
    );
  }
}

async function visit(page: Page, url: string): Promise<number> {
  const res = await page.goto(url);
  await ready(page);
  return res?.status() ?? 0;
}

async function noMarkupInjected(page: Page): Promise<void> {
  assert.equal(await page.evaluate('window.__xss'), undefined);
  assert.equal(await page.locator('main img, main script, main b, main svg').count(), 0);
}

/** A test double in front of tollgate-server that alters the entry answers it passes on. */
// biome-ignore lint/suspicious/noExplicitAny: the Rekor entry JSON, edited field by field
async function tamperingProxy(alter: (entry: Record<string, any>) => void): Promise<string> {
  const target = new URL(server.url);
  const proxy: Server = createServer((req, res) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: {
          ...req.headers,
          host: target.host,
          // the double serves the page as its own origin: module scripts carry an Origin header
          ...(req.headers.origin ? { origin: target.origin } : {}),
          'accept-encoding': 'identity',
        },
      },
      (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          let body = Buffer.concat(chunks);
          if (/^\/api\/web\/v1\/entries\/\d+$/.test(req.url ?? '') && up.statusCode === 200) {
            const detail = JSON.parse(body.toString('utf8'));
            alter(detail.rekor.entry);
            body = Buffer.from(JSON.stringify(detail));
          }
          const headers = { ...up.headers, 'content-length': String(body.length) };
          res.writeHead(up.statusCode ?? 502, headers);
          res.end(body);
        });
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  // the browser may still hold a connection to the double (keep-alive, a request the page left
  // pending): close() alone would wait for it, and once kept this test file from ever ending
  scope.defer(
    () =>
      new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

before(async () => {
  browser = await launchChromium(scope);
  server = await startSigstoreServer(scope, 'web');
  const alice = await emailToken(ALICE);
  aliceIndexes.push(await signBlob(Buffer.from('alice 1'), alice));
  entries['file'] = await signBlob(FILE_BYTES, alice);
  aliceIndexes.push(entries['file']);
  aliceIndexes.push(await signBlob(Buffer.from('alice 3'), alice));
  entries['bob'] = await signBlob(Buffer.from('bob 1'), await emailToken(BOB));
  entries['odd'] = await signBlob(Buffer.from('odd 1'), await emailToken(ODD_EMAIL));
  const tarball = Buffer.from('not really a tarball, but bytes with a digest');
  const dsse = await attest(
    Buffer.from(JSON.stringify(npmStatement('@acme/ui', '1.2.0', tarball))),
    'application/vnd.in-toto+json',
    {
      fulcioURL: server.url,
      rekorURL: server.url,
      identityToken: await token({
        sub: 'repo:acme/ui:ref:refs/heads/main',
        claims: {
          job_workflow_ref: 'acme/ui/.github/workflows/release.yml@refs/heads/main',
          repository: 'acme/ui',
          repository_id: '495574555',
          repository_owner: 'acme',
          repository_owner_id: '71096353',
          ref: 'refs/heads/main',
          sha: 'a'.repeat(40),
          event_name: 'push',
          runner_environment: 'github-hosted',
          workflow_ref: 'acme/ui/.github/workflows/release.yml@refs/heads/main',
        },
      }),
    },
  );
  entries['dsse'] = logIndexOf(dsse);
  const hostile = await attest(
    Buffer.from(JSON.stringify(npmStatement('evil-pkg', '6.6.6', Buffer.from('x')))),
    'application/vnd.in-toto+json',
    {
      fulcioURL: server.url,
      rekorURL: server.url,
      identityToken: await token({
        sub: HTML_SAN,
        claims: { event_name: HTML_CLAIM, runner_environment: '"><svg/onload=window.__xss=3>' },
      }),
    },
  );
  entries['html'] = logIndexOf(hostile);
});

after(() => scope.close());

describe('the web page', () => {
  test('is served under a strict Content-Security-Policy, from this origin only', async () => {
    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "require-trusted-types-for 'script'",
    ])
      assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp}`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    const html = await res.text();
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /\sstyle=|<style/, 'no inline style');
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from another origin');
    const { page, problems } = await openPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await visit(page, `${server.url}/`);
    assert.ok(requested.length > 0);
    for (const url of requested)
      assert.ok(url.startsWith(`${server.url}/`), `request to ${url} stays on the origin`);
    assert.deepEqual(problems, []);
  });

  test("search by email finds exactly that identity's entries, newest first", async () => {
    const { page, problems } = await openPage();
    await visit(page, `${server.url}/`);
    // By keyboard: focus the field, type, Enter submits.
    await page.focus('#q-subject');
    await page.keyboard.type(ALICE);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#result-count');
    await ready(page);
    assert.equal(new URL(page.url()).searchParams.get('email'), ALICE);
    assert.equal(await page.textContent('#result-count'), `3 entries for email ${ALICE}`);
    const titles = await page.locator('ol.entries > li h3').allTextContents();
    assert.deepEqual(
      titles,
      [...aliceIndexes].sort((a, b) => b - a).map((i) => `Entry ${i}`),
    );
    const identities = await page.locator('ol.entries > li dd code').allTextContents();
    assert.ok(
      identities.filter((t) => t.includes('@')).every((t) => t === ALICE),
      identities.join(', '),
    );
    assert.ok(!(await page.textContent('main'))!.includes(BOB));
    // With the issuer: the same entries; with another issuer: none.
    await visit(
      page,
      `${server.url}/?email=${encodeURIComponent(ALICE)}&issuer=${encodeURIComponent(server.issuer)}`,
    );
    assert.equal(
      await page.textContent('#result-count'),
      `3 entries for email ${ALICE}, issuer ${server.issuer}`,
    );
    await visit(
      page,
      `${server.url}/?email=${encodeURIComponent(ALICE)}&issuer=${encodeURIComponent('https://other.example')}`,
    );
    assert.equal(await page.locator('ol.entries > li').count(), 0);
    await visit(page, `${server.url}/?email=${encodeURIComponent(ALICE)}`);
    await page.screenshot({ path: join(shots, 'search-email.png'), fullPage: true });
    assert.deepEqual(problems, []);
  });

  test('paging: an identity with more entries than a page is read page by page', async () => {
    const res = await fetch(`${server.url}/api/web/v1/search?email=${ALICE}&perPage=2`);
    const first = (await res.json()) as { total: number; pages: number; entries: { logIndex: number }[] };
    assert.equal(first.total, 3);
    assert.equal(first.pages, 2);
    const second = (await (
      await fetch(`${server.url}/api/web/v1/search?email=${ALICE}&perPage=2&page=2`)
    ).json()) as typeof first;
    assert.deepEqual(
      [...first.entries, ...second.entries].map((e) => e.logIndex),
      [...aliceIndexes].sort((a, b) => b - a),
    );
    const { page } = await openPage();
    await visit(page, `${server.url}/?email=${ALICE}&perPage=2`);
    await page.click('nav.pages a[rel=next]');
    await page.waitForFunction("new URL(location.href).searchParams.get('page') === '2'");
    await ready(page);
    assert.deepEqual(await page.locator('ol.entries > li h3').allTextContents(), [
      `Entry ${Math.min(...aliceIndexes)}`,
    ]);
  });

  test('a dropped file is hashed in the browser and finds its entry', async () => {
    const { page, problems } = await openPage();
    await visit(page, `${server.url}/`);
    const dataTransfer = await page.evaluateHandle(
      `(() => { const dt = new DataTransfer(); dt.items.add(new File([new Uint8Array(${JSON.stringify([...FILE_BYTES])})], 'notes.txt', { type: 'text/plain' })); return dt; })()`,
    );
    await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer });
    await page.waitForSelector('#result-count');
    await ready(page);
    const digests = new URL(page.url()).searchParams.getAll('digest');
    assert.deepEqual(digests, [
      `sha256:${createHash('sha256').update(FILE_BYTES).digest('hex')}`,
      `sha512:${createHash('sha512').update(FILE_BYTES).digest('hex')}`,
    ]);
    assert.deepEqual(await page.locator('ol.entries > li h3').allTextContents(), [
      `Entry ${entries['file']}`,
    ]);
    await page.screenshot({ path: join(shots, 'search-file.png'), fullPage: true });
    // The file chooser does the same, for keyboard users.
    await visit(page, `${server.url}/`);
    await page.setInputFiles('#q-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: FILE_BYTES });
    await page.waitForSelector('#result-count');
    await ready(page);
    assert.deepEqual(await page.locator('ol.entries > li h3').allTextContents(), [
      `Entry ${entries['file']}`,
    ]);
    assert.deepEqual(problems, []);
  });

  test('search by package (name@version and purl) finds the attestation with its in-toto subject and CI claims', async () => {
    const { page, problems } = await openPage();
    for (const q of ['@acme/ui@1.2.0', 'pkg:npm/%40acme/ui@1.2.0', '@acme/ui']) {
      await visit(page, `${server.url}/?${new URLSearchParams({ package: q })}`);
      assert.deepEqual(
        await page.locator('ol.entries > li h3').allTextContents(),
        [`Entry ${entries['dsse']}`],
        q,
      );
    }
    const card = (await page.textContent('ol.entries'))!;
    assert.ok(card.includes('pkg:npm/%40acme/ui@1.2.0'));
    assert.ok(card.includes('https://github.com/acme/ui'));
    assert.ok(card.includes('495574555'));
    assert.ok(card.includes('refs/heads/main'));
    await visit(page, `${server.url}/?package=nothing-here@1.0.0`);
    assert.equal(await page.textContent('#result-count'), '0 entries for package nothing-here@1.0.0');
    assert.deepEqual(problems, []);
  });

  test('an entry page verifies a real entry in the browser (hashedrekord and DSSE)', async () => {
    const { page, problems } = await openPage();
    for (const index of [entries['file']!, entries['dsse']!]) {
      await visit(page, `${server.url}/entry/${index}`);
      assert.equal(await page.textContent('#verdict-title'), '✓ Verified in your browser');
      const checks = await page.locator('#verdict li').allTextContents();
      assert.ok(checks.length >= 5, checks.join('\n'));
      assert.equal(await page.locator('#verdict li.fail').count(), 0, checks.join('\n'));
      for (const name of [
        'Inclusion proof',
        'Checkpoint signature',
        'Signed entry timestamp',
        'Certificate issued by a trusted CA',
      ])
        assert.ok(
          checks.some((c) => c.includes(name)),
          name,
        );
      if (index === entries['dsse']) {
        assert.ok(checks.some((c) => c.includes('DSSE envelope and signature') && c.includes('passed')));
        assert.ok((await page.textContent('main'))!.includes('pkg:npm/%40acme/ui@1.2.0'));
        await page.screenshot({ path: join(shots, 'entry-verified-dsse.png'), fullPage: true });
      } else {
        await page.screenshot({ path: join(shots, 'entry-verified.png'), fullPage: true });
      }
    }
    assert.deepEqual(problems, []);
  });

  test('the bundle download verifies with @sigstore/verify against the trusted root', async () => {
    const res = await fetch(`${server.url}/api/web/v1/entries/${entries['file']}/bundle`);
    assert.equal(res.status, 200);
    assert.match(
      res.headers.get('content-disposition') ?? '',
      /attachment; filename="entry-\d+\.sigstore\.json"/,
    );
    const bundle = bundleFromJSON(await res.json());
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(server.trustedRootJson))));
    const signer = verifier.verify(toSignedEntity(bundle, FILE_BYTES));
    assert.equal(signer.identity?.subjectAlternativeName, ALICE);
    assert.throws(() => verifier.verify(toSignedEntity(bundle, Buffer.from('other bytes'))));
    const dsse = bundleFromJSON(
      await (await fetch(`${server.url}/api/web/v1/entries/${entries['dsse']}/bundle`)).json(),
    );
    assert.ok(
      verifier
        .verify(toSignedEntity(dsse))
        .identity?.subjectAlternativeName?.endsWith('release.yml@refs/heads/main'),
    );
  });

  test('a tampered inclusion proof or checkpoint from a test double is shown as a clear failure', async () => {
    const { page } = await openPage();
    const flipped = await tamperingProxy((entry) => {
      const hashes = entry['verification'].inclusionProof.hashes as string[];
      const last = hashes.length - 1;
      hashes[last] = `${hashes[last]!.slice(0, -1)}${hashes[last]!.endsWith('0') ? '1' : '0'}`;
    });
    await visit(page, `${flipped}/entry/${entries['file']}`);
    assert.equal(await page.textContent('#verdict-title'), '✗ Verification failed');
    const failed = await page.locator('#verdict li.fail').allTextContents();
    assert.ok(
      failed.some((c) => c.startsWith('✗ Inclusion proof')),
      failed.join('\n'),
    );
    await page.screenshot({ path: join(shots, 'entry-tampered-proof.png'), fullPage: true });

    const checkpoint = await tamperingProxy((entry) => {
      const proof = entry['verification'].inclusionProof;
      const lines = (proof.checkpoint as string).split('\n');
      lines[1] = String(Number(lines[1]) + 1); // claims a bigger tree under the same signature
      proof.checkpoint = lines.join('\n');
    });
    await visit(page, `${checkpoint}/entry/${entries['dsse']}`);
    assert.equal(await page.textContent('#verdict-title'), '✗ Verification failed');
    const failedCheckpoint = await page.locator('#verdict li.fail').allTextContents();
    assert.ok(
      failedCheckpoint.some((c) => c.startsWith('✗ Checkpoint signature')),
      failedCheckpoint.join('\n'),
    );

    const body = await tamperingProxy((entry) => {
      entry['integratedTime'] = Number(entry['integratedTime']) - 86_400; // a backdated signing time
    });
    await visit(page, `${body}/entry/${entries['file']}`);
    const failedSet = await page.locator('#verdict li.fail').allTextContents();
    assert.ok(
      failedSet.some((c) => c.startsWith('✗ Signed entry timestamp')),
      failedSet.join('\n'),
    );
  });

  test('a SAN, claims and email with HTML in them are shown as text, never as markup', async () => {
    const { page, problems } = await openPage();
    await visit(page, `${server.url}/entry/${entries['html']}`);
    assert.equal(await page.textContent('#verdict-title'), '✓ Verified in your browser');
    const codes = await page.locator('main code').allTextContents();
    assert.ok(codes.includes(HTML_SAN), 'the SAN is shown exactly, as text');
    assert.ok(codes.includes(HTML_CLAIM), 'the claim is shown exactly, as text');
    await noMarkupInjected(page);
    await page.screenshot({ path: join(shots, 'entry-html-san.png'), fullPage: true });
    await visit(page, `${server.url}/?${new URLSearchParams({ subject: HTML_SAN })}`);
    assert.deepEqual(await page.locator('ol.entries > li h3').allTextContents(), [
      `Entry ${entries['html']}`,
    ]);
    assert.ok((await page.locator('ol.entries code').allTextContents()).includes(HTML_SAN));
    await noMarkupInjected(page);
    await visit(page, `${server.url}/?${new URLSearchParams({ email: ODD_EMAIL })}`);
    assert.deepEqual(await page.locator('ol.entries > li h3').allTextContents(), [`Entry ${entries['odd']}`]);
    assert.ok((await page.locator('ol.entries code').allTextContents()).includes(ODD_EMAIL));
    await noMarkupInjected(page);
    assert.deepEqual(problems, []);
  });

  test('hostile queries get a 4xx from the page and the API, and the reason is shown as text', async () => {
    const { page, problems } = await openPage();
    const hostile = [
      '?email=<script>window.__xss=4</script>',
      '?subject=a%00b',
      '?digest=sha256:zz',
      '?digest=sha512:abc',
      '?package=<img src=x>',
      '?email=a@b&package=x',
      '?email=a@b&email=c@d',
      `?subject=${'x'.repeat(3000)}`,
      '?unknown=1',
      '?email=a@b&page=0',
      '?email=a@b&perPage=1000',
      '?issuer=javascript:alert(1)&email=a@b',
    ];
    for (const query of hostile) {
      const api = await fetch(`${server.url}/api/web/v1/search${query}`);
      assert.equal(api.status, 400, query);
      const { message } = (await api.json()) as { message: string };
      assert.equal(await visit(page, `${server.url}/${query}`), 400, query);
      assert.equal(await page.locator('#results .problem').count(), 1, query);
      assert.ok((await page.textContent('#results .problem'))!.includes(message), query);
      await noMarkupInjected(page);
    }
    await page.screenshot({ path: join(shots, 'hostile-query.png'), fullPage: true });
    for (const path of [
      '/entry/99999',
      '/api/web/v1/entries/99999',
      '/api/web/v1/entries/-1',
      '/api/web/v1/entries/1e3',
      '/entry/abc',
      '/api/web/v1/watch?subject=a%0Ab&issuer=https://x.example',
      '/api/web/v1/watch?subject=a&issuer=javascript:x',
      '/assets/../package.json',
      '/assets/nope.js',
    ]) {
      const res = await fetch(`${server.url}${path}`);
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
    }
    assert.equal(await visit(page, `${server.url}/entry/99999`), 404);
    assert.match((await page.textContent('#verdict'))!, /no entry at log index 99999/);
    assert.deepEqual(problems, []);
  });

  test('"Watch this identity" writes a monitor configuration that tollgate-monitor accepts', async () => {
    const { page, problems } = await openPage();
    await visit(page, `${server.url}/entry/${entries['html']}`);
    await page.click('text=Watch this identity');
    await page.waitForSelector('#watch-output pre');
    const yaml = (await page.textContent('#watch-output pre'))!;
    const dir = tempDir('web-watch');
    writeFileSync(join(dir, 'trusted_root.json'), server.trustedRootJson);
    writeFileSync(join(dir, '.tollgate-monitor.yml'), yaml);
    const loaded = parseMonitorConfig(yaml, '.tollgate-monitor.yml', join(dir, '.tollgate-monitor.yml'));
    assert.ok(loaded.ok, JSON.stringify(loaded));
    const identity = loaded.config.identities[0]!;
    assert.equal(identity.issuer, server.issuer);
    assert.equal(identity.subject?.test(HTML_SAN), true);
    assert.equal(identity.subject?.test(`${HTML_SAN}x`), false);
    assert.equal(loaded.config.logs[0]!.url, server.url);
    assert.equal(await page.getAttribute('#watch-button', 'aria-expanded'), 'true');
    await noMarkupInjected(page);
    await page.screenshot({ path: join(shots, 'watch.png'), fullPage: true });
    assert.deepEqual(problems, []);
  });

  test('accessible: every field is labelled, the page works by keyboard, and it fits a phone-width screen', async () => {
    const { page, problems } = await openPage(360, 740);
    await visit(page, `${server.url}/`);
    const unlabelled = await page.evaluate(
      "[...document.querySelectorAll('input, button')].filter((el) => el.tagName === 'INPUT' ? (el.labels?.length ?? 0) === 0 : (el.textContent ?? '').trim() === '').length",
    );
    assert.equal(unlabelled, 0);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content');
    for (const path of ['/', `/?email=${ALICE}`, `/entry/${entries['dsse']}`, `/entry/${entries['html']}`]) {
      await visit(page, `${server.url}${path}`);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px at 360px`);
    }
    await visit(page, `${server.url}/entry/${entries['dsse']}`);
    await page.screenshot({ path: join(shots, 'entry-phone.png'), fullPage: true });
    assert.deepEqual(problems, []);
  });
});
