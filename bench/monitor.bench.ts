// Identity monitor benchmarks (on demand: `npm run bench monitor`). Prints figures; asserts nothing.
//  1. catch-up through tollgate-server by one GET /api/v1/log/entries?logIndex=N per entry (what a
//     plain Rekor v1 log without the batch read gives), on a sample, extrapolated to the whole log;
//  2. catch-up of the whole log (1M entries by default) through tollgate-server's batch read with
//     the monitor's defaults (batchRead: auto, concurrency 8): POST /api/v1/log/entries/retrieve
//     ?view=bodies, the batch growing to the 1,000 indexes the server announces;
//  3. keeping up through tollgate-server while it grows at 1,000 entries/s by real HTTP appends
//     (bench/monitor/append-at-rate.ts, its own process), the monitor running once a second as
//     `--interval 1s` would;
//  4. keeping up with a log growing at exactly 1,000 entries/s without the append path's cost (entries
//     written to the store directly by bench/monitor/batch-log.ts, which serves the reads with
//     tollgate-server's own handlers), for the monitor's side alone.
// Every entry is verified as in production: leaf hashes appended to the compact range, every
// segment proven against the signed checkpoint, each certificate prefiltered and the watched
// identity's parsed and matched (one entry in 100,000 is the watched identity's), its SET fetched.
// The server's CPU time (from /proc) is printed next to the monitor's: where the time goes.
// Knobs: BENCH_MONITOR_ENTRIES (1000000), BENCH_MONITOR_SINGLE_SAMPLE (20000),
// BENCH_MONITOR_KEEPUP_SECONDS (30), BENCH_MONITOR_GROWTH (1000 entries/s),
// BENCH_MONITOR_CONCURRENCY (8, the monitor's default), BENCH_MONITOR_APPEND_CLIENTS (128).
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
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
import { loadavg, tmpdir } from 'node:os';
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
const CONCURRENCY = intFromEnv('BENCH_MONITOR_CONCURRENCY', 8);
const APPEND_CLIENTS = intFromEnv('BENCH_MONITOR_APPEND_CLIENTS', 128);
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

/** Modules of server/log that only read the store: a change to them does not change what it holds. */
const READ_ONLY_MODULES = new Set(['batch-read.ts', 'set-cache.ts', 'transparency-log.ts']);

/** Names the store code a cached log was written with: a cache from other code is rebuilt. */
function storeCodeDigest(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(join(repoRoot, 'server/log')).sort()) {
    if (file.endsWith('.ts') && !READ_ONLY_MODULES.has(file))
      hash.update(file).update(readFileSync(join(repoRoot, 'server/log', file)));
  }
  return hash.digest('hex');
}

/** CPU seconds a child process has used so far (user + system, from /proc; Linux only). */
function cpuSecondsOf(child: ChildProcess): number {
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the stat line (11 and 12 after the command), in ticks.
  return (Number(fields[11]) + Number(fields[12])) / 100;
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
  /** the server process's CPU seconds during the run */
  serverCpuSeconds?: number;
  readMode: string;
}

interface ReadOptions {
  start: number;
  batchRead: string;
  /** unset: the monitor's default (10, growing to what the server announces for bodies) */
  batchSize?: number;
  concurrency: number;
}

function writeConfig(
  dir: string,
  url: string,
  options: ReadOptions,
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
      ...(options.batchSize !== undefined ? [`    batchSize: ${options.batchSize}`] : []),
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
  options: ReadOptions,
  server: ChildProcess,
): Promise<Measure> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-monitor-'));
  try {
    const monitor = openMonitor(writeConfig(dir, url, options), { cwd: dir });
    const cpu = process.cpuUsage();
    const serverCpu = cpuSecondsOf(server);
    const started = performance.now();
    const report = await monitor.run();
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const serverCpuSeconds = cpuSecondsOf(server) - serverCpu;
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
      serverCpuSeconds,
      readMode: log.readMode,
    };
    console.log(
      `${name}: ${measure.entries} entries in ${seconds.toFixed(2)} s = ${measure.entriesPerSecond} entries/s ` +
        `(read mode ${log.readMode}; monitor CPU ${measure.cpuSeconds.toFixed(1)} s, server CPU ${serverCpuSeconds.toFixed(1)} s; ` +
        `${measure.requests} requests, ${measure.certificatesParsed} certificates parsed, ${measure.findings} findings; load ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')})`,
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
  serverCpuSeconds: number;
  readModes: string[];
  loadAverageAtEnd: number[];
}

async function keepUp(url: string, dir: string, server: ChildProcess): Promise<KeepUp> {
  const monitor = openMonitor(join(dir, 'monitor.yml'), { cwd: dir });
  const cpu = process.cpuUsage();
  const serverCpu = cpuSecondsOf(server);
  const modes = new Set<string>();
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
      if (log.entriesRead > 0) modes.add(log.readMode);
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
    serverCpuSeconds: cpuSecondsOf(server) - serverCpu,
    readModes: [...modes],
    loadAverageAtEnd: loadavg(),
  };
  console.log(
    `keep-up with a log growing at ${GROWTH} entries/s for ${KEEPUP_SECONDS} s: ${cycles} runs read ${entriesRead} entries (${result.readModes.join(', ')}), ` +
      `busy ${busy.toFixed(1)} s (${result.processedPerBusySecond} entries per busy second, monitor CPU ${result.cpuSeconds.toFixed(1)} s, server CPU ${result.serverCpuSeconds.toFixed(1)} s); ` +
      `lag after each run at most ${maxLag} entries, at the end ${finalLag}` +
      (problems.length ? `; ${problems.length} run(s) could not read the log (${problems[0]})` : '') +
      `; load ${result.loadAverageAtEnd.map((l) => l.toFixed(2)).join(' ')}`,
  );
  return result;
}

await prepare();
const measures: Measure[] = [];
const batchLog = join(repoRoot, 'bench/monitor/batch-log.ts');
const appender = join(repoRoot, 'bench/monitor/append-at-rate.ts');
console.log(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

// 1 and 2: catch-up through tollgate-server, entry by entry (a sample) and by its batch read (all).
{
  const { child, url } = await startAnnouncing([...serverArgs, '--data', dataDir, '--port', '0'], repoRoot);
  try {
    const sample = Math.min(SINGLE_SAMPLE, ENTRIES);
    const m = await catchUp(
      'tollgate-server, GET per entry (16 in flight)',
      url,
      { start: ENTRIES - sample, batchRead: 'single', concurrency: 16 },
      child,
    );
    m.extrapolatedSecondsFor1M = Math.round(1_000_000 / m.entriesPerSecond);
    console.log(`  at that rate 1,000,000 entries take ${m.extrapolatedSecondsFor1M} s`);
    measures.push(m);
    measures.push(
      await catchUp(
        `tollgate-server, batch read with the monitor's defaults (batchRead auto, ${CONCURRENCY} in flight)`,
        url,
        { start: 0, batchRead: 'auto', concurrency: CONCURRENCY },
        child,
      ),
    );
  } finally {
    await stop(child);
  }
}

const keepDir = mkdtempSync(join(tmpdir(), 'tollgate-bench-monitor-keep-'));
let keepReal: (KeepUp & { appends?: { appended: number; failures: number; seconds: number } }) | undefined;
let keep: KeepUp | undefined;
try {
  // 3. Keep-up through tollgate-server: real HTTP appends at GROWTH/s (signature-checked, fsync'd,
  // from another process) while the monitor reads with its defaults once a second.
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
    writeConfig(
      realDir,
      real.url,
      { start: 0, batchRead: 'auto', concurrency: CONCURRENCY },
      join(realDir, 'trusted_root.json'),
    );
    const appending = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        appender,
        real.url,
        String(GROWTH),
        String(GROWTH * (KEEPUP_SECONDS + 10)),
        String(APPEND_CLIENTS),
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: appending.stdout! })[Symbol.asyncIterator]();
    await lines.next(); // ready: its proposals are signed
    try {
      keepReal = await keepUp(real.url, realDir, real.child);
    } finally {
      appending.kill('SIGTERM');
    }
    const appends = JSON.parse(String((await lines.next()).value)) as {
      appended: number;
      failures: number;
      seconds: number;
    };
    keepReal.appends = appends;
    console.log(
      `  appends through tollgate-server meanwhile: ${appends.appended} in ${appends.seconds.toFixed(1)} s (${Math.round(appends.appended / appends.seconds)}/s, ${appends.failures} failed)`,
    );
  } finally {
    await stop(real.child);
  }

  // 4. Keep-up with a log growing at exactly GROWTH/s, written to the store directly (a copy of the
  // instance's keys, an empty tree), read through tollgate-server's own handlers.
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
    writeConfig(dir, url, { start: 0, batchRead: 'auto', concurrency: CONCURRENCY });
    keep = await keepUp(url, dir, child);
  } finally {
    await stop(child);
  }
} finally {
  rmSync(keepDir, { recursive: true, force: true });
}

const path = writeResults('monitor', machine, startedAt, {
  entries: ENTRIES,
  measures,
  keepUpTollgateServer: keepReal,
  keepUpDirectGrowth: keep,
  loadAverageAtEnd: loadavg(),
});
console.log(`results: ${path}`);
