// Web search at scale (on demand: `npm run bench web-search`). Prints figures; asserts nothing.
// Fills a log store with BENCH_WEB_ENTRIES (default 1,000,000) hashedrekord entries signed by
// certificates of ~2,000 identities, skewed as a public log is (one identity with 10% of all
// entries, 20 with 1% each, the rest spread), every entry with its artifact digest and one in ten
// with a package key; then starts the built tollgate-server on it and times the web API over HTTP
// from one client, one request at a time: each answer is a page of 20 summaries (the entry read,
// its certificate parsed). The load average is printed before and after: the machine may be shared.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as asn1js from 'asn1js';
import { identityKey, packageKey } from '../server/log/index-keys';
import { canonicalBody } from '../server/log/kinds/shared';
import { LogStore } from '../server/log/store';
import { x509 } from '../server/x509';
import { requireBuilt, serverBin } from '../test/harness/paths';

const ENTRIES = Number(process.env.BENCH_WEB_ENTRIES ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_WEB_REQUESTS ?? 500);
const ISSUER = 'https://oidc.bench.example';
const IDENTITIES = 2000;

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

interface Identity {
  email: string;
  pemB64: string;
  keyId: string;
}

async function makeIdentity(email: string, keys: webcrypto.CryptoKeyPair): Promise<Identity> {
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: 'CN=bench',
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 3600_000),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'email', value: email }], true),
      new x509.Extension('1.3.6.1.4.1.57264.1.1', false, Buffer.from(ISSUER)),
      new x509.Extension(
        '1.3.6.1.4.1.57264.1.8',
        false,
        new asn1js.Utf8String({ value: ISSUER }).toBER(false),
      ),
    ],
  });
  const pem = cert.toString('pem');
  const pemText = `${pem.replace(/\r\n/g, '\n').trim()}\n`;
  return {
    email,
    pemB64: Buffer.from(pemText).toString('base64'),
    keyId: `sha256:${createHash('sha256').update(pemText).digest('hex')}`,
  };
}

/** Which identity signs entry i: 10% the heavy one, 20% twenty medium ones, 70% the rest. */
function signerOf(i: number): number {
  const r = (i * 2654435761) % 100;
  if (r < 10) return 0;
  if (r < 30) return 1 + (i % 20);
  return 21 + (i % (IDENTITIES - 21));
}

const digestOf = (i: number) => createHash('sha256').update(`artifact ${i}`).digest('hex');

async function fill(dir: string, identities: Identity[]): Promise<void> {
  const store = await LogStore.open(dir);
  const signature = randomBytes(71).toString('base64');
  const started = performance.now();
  const BATCH = 20_000;
  for (let filled = 0; filled < ENTRIES; ) {
    const n = Math.min(BATCH, ENTRIES - filled);
    await Promise.all(
      Array.from({ length: n }, (_, k) => {
        const i = filled + k;
        const who = identities[signerOf(i)]!;
        const digest = digestOf(i);
        const body = canonicalBody({
          apiVersion: '0.0.1',
          kind: 'hashedrekord',
          spec: {
            data: { hash: { algorithm: 'sha256', value: digest } },
            signature: { content: signature, publicKey: { content: who.pemB64 } },
          },
        });
        const searchKeys = [`sha256:${digest}`, who.keyId, who.email, identityKey(ISSUER, who.email)];
        if (i % 10 === 0) {
          const name = `pkg-${(i / 10) % 5000}`;
          const version = `1.0.${Math.floor(i / 50_000)}`;
          searchKeys.push(packageKey({ type: 'npm', name }), packageKey({ type: 'npm', name, version }));
        }
        return store.append({ body, searchKeys });
      }),
    );
    filled += n;
    if (filled % 200_000 === 0)
      console.log(`  filled ${filled} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  console.log(`filled ${ENTRIES} entries in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await store.close();
}

async function startServer(dataDir: string): Promise<{ child: ChildProcess; url: string; startMs: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [requireBuilt(serverBin), '--data', dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`tollgate-server exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  return { child, url: (JSON.parse(line) as { url: string }).url, startMs: performance.now() - t0 };
}

async function measure(
  url: string,
  name: string,
  path: () => string,
): Promise<{ name: string; p50: number; p99: number; max: number; total: number }> {
  const samples: number[] = [];
  let total = 0;
  for (let i = 0; i < REQUESTS + 20; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}${path()}`);
    const body = (await res.json()) as { total?: number };
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${JSON.stringify(body)}`);
    if (i >= 20) samples.push(ms); // the first requests warm the connection and the JIT
    total = body.total ?? 1;
  }
  samples.sort((a, b) => a - b);
  return {
    name,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: samples[samples.length - 1]!,
    total,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-web-'));
let server: ChildProcess | undefined;
try {
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}; load average ${load()}`);
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const identities: Identity[] = [];
  for (let i = 0; i < IDENTITIES; i++)
    identities.push(
      await makeIdentity(i === 0 ? 'release-bot@heavy.example' : `dev${i}@bench.example`, keys),
    );
  await fill(join(dir, 'tlog'), identities);
  const started = await startServer(dir);
  server = started.child;
  console.log(
    `tollgate-server ready on ${ENTRIES} entries in ${(started.startMs / 1000).toFixed(1)} s; load average ${load()}`,
  );
  const { url } = started;
  const random = (n: number) => Math.floor(Math.random() * n);
  const heavyPages = Math.ceil(ENTRIES / 10 / 20);
  const results = [
    await measure(
      url,
      'email, 10% of the log, page 1',
      () => `/api/web/v1/search?email=release-bot@heavy.example`,
    ),
    await measure(
      url,
      'email, 10% of the log, a random page',
      () => `/api/web/v1/search?email=release-bot@heavy.example&page=${1 + random(heavyPages)}`,
    ),
    await measure(
      url,
      'email + issuer, 10% of the log, a random page',
      () =>
        `/api/web/v1/search?email=release-bot@heavy.example&issuer=${encodeURIComponent(ISSUER)}&page=${1 + random(heavyPages)}`,
    ),
    await measure(
      url,
      'email, 1% of the log',
      () => `/api/web/v1/search?email=dev${1 + random(20)}@bench.example`,
    ),
    await measure(
      url,
      'email, a random ordinary identity',
      () => `/api/web/v1/search?email=dev${21 + random(IDENTITIES - 21)}@bench.example`,
    ),
    await measure(
      url,
      'digest (sha256), a random entry',
      () => `/api/web/v1/search?digest=sha256:${digestOf(random(ENTRIES))}`,
    ),
    await measure(
      url,
      'digest, not in the log',
      () => `/api/web/v1/search?digest=sha256:${randomBytes(32).toString('hex')}`,
    ),
    await measure(
      url,
      'package name (every version)',
      () => `/api/web/v1/search?package=pkg-${random(Math.min(5000, Math.ceil(ENTRIES / 10)))}`,
    ),
    await measure(
      url,
      'package name@version',
      () =>
        `/api/web/v1/search?package=pkg-${random(Math.min(5000, Math.ceil(ENTRIES / 10)))}@1.0.${random(Math.ceil(ENTRIES / 50_000))}`,
    ),
    await measure(
      url,
      'entry page data (entry, proof, checkpoint)',
      () => `/api/web/v1/entries/${random(ENTRIES)}`,
    ),
  ];
  console.log(
    `\nweb API over HTTP at ${ENTRIES} entries, ${REQUESTS} sequential requests each (after 20 warm-up), pages of 20:`,
  );
  console.log('| query | matching entries | p50 | p99 | max | goal p99 < 50 ms |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const goal = r.name.startsWith('entry page') ? '—' : r.p99 < 50 ? 'met' : '**missed**';
    console.log(
      `| ${r.name} | ${r.total} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${r.max.toFixed(1)} ms | ${goal} |`,
    );
  }
  console.log(`\nload average after: ${load()}`);
} finally {
  if (server) {
    server.kill('SIGTERM');
    await new Promise((r) => server!.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
}
