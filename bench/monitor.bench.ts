// Identity monitor benchmarks (on demand: `npm run bench monitor`). Prints figures; asserts nothing.
//  1. catch-up through tollgate-server as it is (one GET /api/v1/log/entries?logIndex=N per entry),
//     on a sample of the log, extrapolated to the whole log;
//  2. catch-up of the whole log (1M entries by default) through Rekor v1's batch read
//     (POST /api/v1/log/entries/retrieve), served by bench/monitor/batch-log.ts from the same data
//     folder with tollgate-server's own TransparencyLog: full entries (SET + inclusion proof each),
//     and bodies only;
//  3. keeping up with a log that grows at 1,000 entries/s (the batch server appends while serving),
//     the monitor running once a second as `--interval 1s` would.
// Every entry is verified as in production: leaf hashes appended to the compact range, every
// segment proven against the signed checkpoint, each certificate prefiltered and the watched
// identity's parsed and matched (one entry in 100,000 is the watched identity's).
// Knobs: BENCH_MONITOR_ENTRIES (1000000), BENCH_MONITOR_SINGLE_SAMPLE (20000),
// BENCH_MONITOR_KEEPUP_SECONDS (30), BENCH_MONITOR_GROWTH (1000 entries/s), BENCH_MONITOR_BATCH (1000).
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { attest } from 'sigstore';
import { openMonitor } from '../monitor/monitor';
import { LogStore } from '../server/log/store';
import { intFromEnv } from './lib/options';
import { benchRoot, describeMachine, repoRoot, writeResults } from './lib/results';
import { syntheticBody } from './monitor/synthetic';

const ENTRIES = intFromEnv('BENCH_MONITOR_ENTRIES', 1_000_000);
const SINGLE_SAMPLE = intFromEnv('BENCH_MONITOR_SINGLE_SAMPLE', 20_000);
const KEEPUP_SECONDS = intFromEnv('BENCH_MONITOR_KEEPUP_SECONDS', 30);
const GROWTH = intFromEnv('BENCH_MONITOR_GROWTH', 1000);
const BATCH = intFromEnv('BENCH_MONITOR_BATCH', 1000);
const IDENTITIES = 32;
const WATCHED_EVERY = 100_000;
const WATCHED = 'release-bot@bench.example';

const startedAt = new Date();
const machine = describeMachine();
const cacheDir = join(benchRoot, '.cache', 'monitor', `log-${ENTRIES}`);
const dataDir = join(cacheDir, 'data');

async function startAnnouncing(args: string[], cwd: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  return { child, url: (JSON.parse(line) as { url: string }).url };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

// tollgate-server runs from source (as bench/server.bench.ts does), the same code that fills its log
// directly: a dist/ built at another time may store entries differently.
const serverArgs = ['--import', 'tsx', join(repoRoot, 'server/cli.ts')];

/** Names the store code a cached log was written with: a cache from other code is rebuilt. */
function storeCodeDigest(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(join(repoRoot, 'server/log')).sort()) {
    if (file.endsWith('.ts')) hash.update(file).update(readFileSync(join(repoRoot, 'server/log', file)));
  }
  return hash.digest('hex');
}

/** Signs one publish attestation per identity through a real tollgate-server and keeps the logged bodies. */
async function signTemplates(): Promise<void> {
  const { child, url } = await startAnnouncing([...serverArgs, '--data', dataDir, '--port', '0'], repoRoot);
  try {
    writeFileSync(
      join(cacheDir, 'trusted_root.json'),
      await (await fetch(`${url}/trusted_root.json`)).text(),
    );
    const bodies: string[] = [];
    for (let i = 0; i < IDENTITIES; i++) {
      const email = i === 0 ? WATCHED : `developer-${i}@elsewhere.example`;
      const tokenRes = await fetch(`${url}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub: email, email }),
      });
      const { id_token } = (await tokenRes.json()) as { id_token: string };
      const statement = {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: `pkg:npm/bench-${i}@1.0.0`, digest: { sha512: 'ab'.repeat(64) } }],
        predicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1',
        predicate: { name: `bench-${i}`, version: '1.0.0', registry: 'https://registry.invalid/' },
      };
      const bundle = await attest(Buffer.from(JSON.stringify(statement)), 'application/vnd.in-toto+json', {
        fulcioURL: url,
        rekorURL: url,
        identityToken: id_token,
        tlogUpload: true,
      });
      // The logged canonical body, exactly as the log hashed it.
      const json = JSON.parse(JSON.stringify(bundle)) as {
        verificationMaterial: { tlogEntries: { canonicalizedBody: string }[] };
      };
      bodies.push(json.verificationMaterial.tlogEntries[0]!.canonicalizedBody);
    }
    writeFileSync(join(cacheDir, 'templates.json'), JSON.stringify(bodies));
  } finally {
    await stop(child);
  }
}

async function fill(): Promise<void> {
  const templates = JSON.parse(readFileSync(join(cacheDir, 'templates.json'), 'utf8')) as string[];
  const store = await LogStore.open(join(dataDir, 'tlog'));
  const started = performance.now();
  try {
    while (store.size < ENTRIES) {
      const from = store.size;
      const n = Math.min(20_000, ENTRIES - from);
      await Promise.all(
        Array.from({ length: n }, (_, k) => {
          const i = from + k;
          const template = i % WATCHED_EVERY === WATCHED_EVERY - 1 ? 0 : 1 + (i % (templates.length - 1));
          return store.append({ body: syntheticBody(templates, i, template), searchKeys: [] });
        }),
      );
    }
  } finally {
    await store.close();
  }
  console.log(
    `filled the log to ${ENTRIES} entries in ${((performance.now() - started) / 1000).toFixed(1)} s (cached in ${cacheDir})`,
  );
}

async function prepare(): Promise<void> {
  const ready = join(cacheDir, 'ready');
  if (existsSync(ready) && readFileSync(ready, 'utf8') === `${ENTRIES} ${storeCodeDigest()}\n`) return;
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  await signTemplates();
  await fill();
  writeFileSync(ready, `${ENTRIES} ${storeCodeDigest()}\n`);
}

interface Measure {
  name: string;
  entries: number;
  seconds: number;
  entriesPerSecond: number;
  cpuSeconds: number;
  requests: number;
  certificatesParsed: number;
  findings: number;
  extrapolatedSecondsFor1M?: number;
}

function writeConfig(
  dir: string,
  url: string,
  options: { start: number; batchRead: string; batchSize: number; concurrency: number },
  trustedRoot = join(cacheDir, 'trusted_root.json'),
): string {
  const path = join(dir, 'monitor.yml');
  writeFileSync(
    path,
    [
      'version: 1',
      'state: state.json',
      'logs:',
      '  - name: bench',
      `    url: ${url}`,
      `    trustedRoot: ${trustedRoot}`,
      `    start: ${options.start}`,
      `    batchRead: ${options.batchRead}`,
      `    batchSize: ${options.batchSize}`,
      `    concurrency: ${options.concurrency}`,
      'identities:',
      '  - name: release-bot',
      `    email: ${WATCHED}`,
      '',
    ].join('\n'),
  );
  return path;
}

async function catchUp(
  name: string,
  url: string,
  options: { start: number; batchRead: string; batchSize: number; concurrency: number },
): Promise<Measure> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-monitor-'));
  try {
    const monitor = openMonitor(writeConfig(dir, url, options), { cwd: dir });
    const cpu = process.cpuUsage();
    const started = performance.now();
    const report = await monitor.run();
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    monitor.close();
    const log = report.logs[0];
    if (!log) throw new Error(`${name}: the run read no log: ${JSON.stringify(report.problems)}`);
    if (log.verifiedSize !== log.checkpointSize || report.problems.length) {
      throw new Error(`${name}: the run did not verify the whole log: ${JSON.stringify(report.problems)}`);
    }
    const measure: Measure = {
      name,
      entries: log.entriesRead,
      seconds,
      entriesPerSecond: Math.round(log.entriesRead / seconds),
      cpuSeconds: (used.user + used.system) / 1e6,
      requests: log.requests,
      certificatesParsed: log.certificatesParsed,
      findings: report.findings.length,
    };
    console.log(
      `${name}: ${measure.entries} entries in ${seconds.toFixed(2)} s = ${measure.entriesPerSecond} entries/s ` +
        `(monitor CPU ${measure.cpuSeconds.toFixed(1)} s, ${measure.requests} requests, ${measure.certificatesParsed} certificates parsed, ${measure.findings} findings)`,
    );
    return measure;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface KeepUp {
  growthPerSecond: number;
  seconds: number;
  cycles: number;
  entriesRead: number;
  busySeconds: number;
  processedPerBusySecond: number;
  maxLagEntries: number;
  finalLagEntries: number;
  cpuSeconds: number;
  /** runs that could not read the log (e.g. an overloaded server), with why */
  problems: string[];
}

async function keepUp(url: string, dir: string): Promise<KeepUp> {
  const monitor = openMonitor(join(dir, 'monitor.yml'), { cwd: dir });
  const cpu = process.cpuUsage();
  const until = performance.now() + KEEPUP_SECONDS * 1000;
  let cycles = 0;
  const problems: string[] = [];
  let entriesRead = 0;
  let busy = 0;
  let maxLag = 0;
  let finalLag = 0;
  try {
    while (performance.now() < until) {
      const started = performance.now();
      const report = await monitor.run();
      const took = performance.now() - started;
      busy += took / 1000;
      cycles++;
      const log = report.logs[0];
      if (!log) {
        problems.push(...report.problems.map((p) => p.message));
        continue;
      }
      entriesRead += log.entriesRead;
      // Lag: entries the log holds now beyond what the monitor has verified.
      let treeSize = log.checkpointSize;
      try {
        treeSize = (
          (await (await fetch(`${url}/api/v1/log`, { signal: AbortSignal.timeout(30_000) })).json()) as {
            treeSize: number;
          }
        ).treeSize;
      } catch {
        // an overloaded log: the lag is at least what the run saw
      }
      finalLag = treeSize - log.verifiedSize;
      maxLag = Math.max(maxLag, finalLag);
      if (took < 1000) await new Promise((r) => setTimeout(r, 1000 - took));
    }
  } finally {
    monitor.close();
  }
  const used = process.cpuUsage(cpu);
  const result: KeepUp = {
    growthPerSecond: GROWTH,
    seconds: KEEPUP_SECONDS,
    cycles,
    entriesRead,
    busySeconds: busy,
    processedPerBusySecond: Math.round(entriesRead / busy),
    maxLagEntries: maxLag,
    finalLagEntries: finalLag,
    cpuSeconds: (used.user + used.system) / 1e6,
    problems,
  };
  console.log(
    `keep-up with a log growing at ${GROWTH} entries/s for ${KEEPUP_SECONDS} s: ${cycles} runs read ${entriesRead} entries, ` +
      `busy ${busy.toFixed(1)} s (${result.processedPerBusySecond} entries per busy second, monitor CPU ${result.cpuSeconds.toFixed(1)} s); ` +
      `lag after each run at most ${maxLag} entries, at the end ${finalLag}` +
      (problems.length ? `; ${problems.length} run(s) could not read the log (${problems[0]})` : ''),
  );
  return result;
}

/** dsse proposals signed with a bare key (the log verifies them; a monitor reads them as any entry). */
function dsseProposals(count: number): string[] {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = Buffer.from(key.publicKey.export({ format: 'pem', type: 'spki' }).toString()).toString(
    'base64',
  );
  const payloadType = 'application/vnd.in-toto+json';
  return Array.from({ length: count }, (_, i) => {
    const payload = Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [
          {
            name: `pkg:npm/grow@1.0.${i}`,
            digest: { sha512: createHash('sha512').update(`${i}`).digest('hex') },
          },
        ],
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: {},
      }),
    );
    const pae = Buffer.concat([
      Buffer.from(`DSSEv1 ${payloadType.length} ${payloadType} ${payload.length} `),
      payload,
    ]);
    const envelope = JSON.stringify({
      payload: payload.toString('base64'),
      payloadType,
      signatures: [{ sig: sign('sha256', pae, key.privateKey).toString('base64'), keyid: '' }],
    });
    return JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: { proposedContent: { envelope, verifiers: [pem] } },
    });
  });
}

/**
 * Appends through the real HTTP API at up to `perSecond` entries/s with 64 clients (paced: proposal k
 * is not sent before k / perSecond seconds), until stopped; failures are counted, not thrown.
 */
function appendAtRate(
  url: string,
  proposals: string[],
  perSecond: number,
): { stop(): Promise<{ appended: number; failures: number; seconds: number }> } {
  let next = 0;
  let appended = 0;
  let failures = 0;
  let stopped = false;
  const started = performance.now();
  const worker = async () => {
    while (!stopped && next < proposals.length) {
      const k = next++;
      const due = started + (k / perSecond) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (stopped) return;
      try {
        const res = await fetch(`${url}/api/v1/log/entries`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: proposals[k]!,
          signal: AbortSignal.timeout(30_000),
        });
        await res.arrayBuffer();
        if (res.status === 201) appended++;
        else failures++;
      } catch {
        failures++;
      }
    }
  };
  const workers = Array.from({ length: 64 }, worker);
  return {
    async stop() {
      stopped = true;
      await Promise.all(workers);
      return { appended, failures, seconds: (performance.now() - started) / 1000 };
    },
  };
}

await prepare();
const measures: Measure[] = [];

// 1. tollgate-server as it is: one request per entry.
{
  const { child, url } = await startAnnouncing([...serverArgs, '--data', dataDir, '--port', '0'], repoRoot);
  try {
    const sample = Math.min(SINGLE_SAMPLE, ENTRIES);
    const m = await catchUp('tollgate-server, GET per entry (16 in flight)', url, {
      start: ENTRIES - sample,
      batchRead: 'single',
      batchSize: 1,
      concurrency: 16,
    });
    m.extrapolatedSecondsFor1M = Math.round(1_000_000 / m.entriesPerSecond);
    console.log(`  at that rate 1,000,000 entries take ${m.extrapolatedSecondsFor1M} s`);
    measures.push(m);
  } finally {
    await stop(child);
  }
}

// 2. Rekor v1 batch read, full entries and bodies only.
const keepDir = mkdtempSync(join(tmpdir(), 'tollgate-bench-monitor-keep-'));
const batchLog = join(repoRoot, 'bench/monitor/batch-log.ts');
let keep: KeepUp | undefined;
let keepReal: (KeepUp & { appends?: { appended: number; failures: number; seconds: number } }) | undefined;
try {
  for (const lean of [false, true]) {
    const { child, url } = await startAnnouncing(
      ['--import', 'tsx', batchLog, dataDir, ...(lean ? ['--lean'] : [])],
      repoRoot,
    );
    try {
      measures.push(
        await catchUp(
          `batch read (POST /api/v1/log/entries/retrieve, ${BATCH} per request, 4 in flight), ${lean ? 'bodies only' : 'full Rekor entries'}`,
          url,
          { start: 0, batchRead: 'retrieve', batchSize: BATCH, concurrency: 4 },
        ),
      );
    } finally {
      await stop(child);
    }
  }

  // 3. Keep-up: a log of the same instance (a copy of its keys, an empty tree) that the batch server
  // grows by GROWTH entries/s while the monitor runs once a second. (The cached 1M log stays as it is.)
  const growDir = join(keepDir, 'grow');
  mkdirSync(growDir, { recursive: true, mode: 0o700 });
  cpSync(join(dataDir, 'keys'), join(growDir, 'keys'), { recursive: true });
  const { child, url } = await startAnnouncing(
    [
      '--import',
      'tsx',
      batchLog,
      growDir,
      '--grow',
      String(GROWTH),
      '--templates',
      join(cacheDir, 'templates.json'),
    ],
    repoRoot,
  );
  try {
    const dir = join(keepDir, 'keep-up');
    mkdirSync(dir);
    writeConfig(dir, url, { start: 0, batchRead: 'retrieve', batchSize: BATCH, concurrency: 4 });
    keep = await keepUp(url, dir);
  } finally {
    await stop(child);
  }

  // 4. Keep-up through tollgate-server as it is: real HTTP appends at GROWTH/s (signature-checked,
  // fsync'd) while the monitor reads them one request per entry, once a second.
  const realDir = join(keepDir, 'real');
  mkdirSync(join(realDir, 'data'), { recursive: true, mode: 0o700 });
  const real = await startAnnouncing(
    [...serverArgs, '--data', join(realDir, 'data'), '--port', '0'],
    repoRoot,
  );
  try {
    writeFileSync(
      join(realDir, 'trusted_root.json'),
      await (await fetch(`${real.url}/trusted_root.json`)).text(),
    );
    const proposals = dsseProposals(GROWTH * (KEEPUP_SECONDS + 5));
    const appender = appendAtRate(real.url, proposals, GROWTH);
    writeConfig(
      realDir,
      real.url,
      { start: 0, batchRead: 'single', batchSize: 1, concurrency: 16 },
      join(realDir, 'trusted_root.json'),
    );
    keepReal = await keepUp(real.url, realDir);
    const appends = await appender.stop();
    keepReal.appends = appends;
    console.log(
      `  appends through tollgate-server meanwhile: ${appends.appended} in ${appends.seconds.toFixed(1)} s (${Math.round(appends.appended / appends.seconds)}/s, ${appends.failures} failed)`,
    );
  } finally {
    await stop(real.child);
  }
} finally {
  rmSync(keepDir, { recursive: true, force: true });
}

const path = writeResults('monitor', machine, startedAt, {
  entries: ENTRIES,
  measures,
  keepUp: keep,
  keepUpTollgateServer: keepReal,
});
console.log(`results: ${path}`);
