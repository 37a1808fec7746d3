// Server benchmarks (on demand: `npm run bench server`). Prints figures; asserts nothing.
//  1. durable appends/s through HTTP with concurrent clients against the built executable
//     (signature verified, entries and tree head fdatasync'd before the 201)
//  2. inclusion-proof latency (median, p99) at 100k and 1M entries
//  3. restart (log store reopen: entries.log read and rehashed, derived files reconciled) at those sizes
// The load average is printed before and after: the machine may be shared.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { inclusionProof } from '../server/log/merkle';
import { LogStore } from '../server/log/store';
import { dsseProposal, hashedrekordProposal, proposalKey } from '../test/harness/log-proposals';
import { requireBuilt, serverBin } from '../test/harness/paths';

const APPENDS = Number(process.env.BENCH_APPENDS ?? 6000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 64);
const SIZES = (process.env.BENCH_SIZES ?? '100000,1000000').split(',').map(Number);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function startChild(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []),
      // BENCH_SERVER: another build of the executable, to compare two versions on the same load.
      process.env.BENCH_SERVER ?? requireBuilt(serverBin),
      '--data',
      dataDir,
      ...(process.env.BENCH_VERIFY_THREADS ? ['--verify-threads', process.env.BENCH_VERIFY_THREADS] : []),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout! }).once('line', resolve),
  );
  return { child, url: JSON.parse(line).url };
}

const key = proposalKey();

// dsse: the server verifies the envelope signature with Node's native ECDSA.
function dsseProposals(): string[] {
  return Array.from({ length: APPENDS }, (_, i) => dsseProposal(`pkg:npm/bench@1.0.${i}`, `${i}`, key));
}

// hashedrekord: the signature is over a digest, which Node's crypto.verify cannot take; the server
// evaluates the ECDSA equation with native scalar multiplications (server/log/prehashed-ecdsa.ts).
function hashedrekordProposals(): string[] {
  return Array.from({ length: APPENDS }, (_, i) =>
    JSON.stringify(hashedrekordProposal(Buffer.from(`bench ${i} ${Date.now()}`), key)),
  );
}

async function appendThroughput(kind: string, bodies: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  const { child, url } = await startChild(dir);
  try {
    let next = 0;
    let failures = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++]!;
          const res = await fetch(`${url}/api/v1/log/entries`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body,
          });
          await res.arrayBuffer();
          if (res.status !== 201) failures++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `durable appends over HTTP (${kind}, signature verified, entries and head fdatasync'd before 201, ${CLIENTS} clients): ` +
        `${(APPENDS / seconds).toFixed(0)} entries/s (${APPENDS} in ${seconds.toFixed(2)} s, ${failures} failures)`,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function proofsAndRestart(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-log-'));
  try {
    let store = await LogStore.open(dir);
    let filled = 0;
    for (const size of SIZES) {
      const fillStart = performance.now();
      const BATCH = 20000;
      while (filled < size) {
        const n = Math.min(BATCH, size - filled);
        await Promise.all(
          Array.from({ length: n }, (_, i) =>
            store.append({
              body: Buffer.from(`{"entry":${filled + i},"pad":"${'x'.repeat(200)}"}`),
              searchKeys: [`sha256:${filled + i}`],
            }),
          ),
        );
        filled += n;
      }
      console.log(`\nfilled to ${size} entries in ${((performance.now() - fillStart) / 1000).toFixed(1)} s`);
      const samples: number[] = [];
      for (let i = 0; i < 20000; i++) {
        const index = Math.floor(Math.random() * size);
        const t0 = performance.now();
        inclusionProof(store.merkle, index, size);
        samples.push(performance.now() - t0);
      }
      samples.sort((a, b) => a - b);
      console.log(
        `inclusion proof at ${size}: median ${(percentile(samples, 50) * 1000).toFixed(1)} µs, p99 ${(percentile(samples, 99) * 1000).toFixed(1)} µs`,
      );
      await store.close();
      const t0 = performance.now();
      store = await LogStore.open(dir);
      console.log(
        `restart (reopen log store: read and rehash entries.log, reconcile derived files) at ${store.size}: ${(performance.now() - t0).toFixed(0)} ms`,
      );
    }
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
console.log(`load average (1, 5, 15 min) at start: ${load()}`);
const parts = (process.env.BENCH_PARTS ?? 'dsse,hashedrekord,proofs').split(',');
if (parts.includes('dsse')) await appendThroughput('dsse', dsseProposals());
if (parts.includes('hashedrekord')) await appendThroughput('hashedrekord', hashedrekordProposals());
if (parts.includes('proofs')) await proofsAndRestart();
console.log(`load average (1, 5, 15 min) at end: ${load()}`);
