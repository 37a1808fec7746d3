// `npm run bench verify`: verification of real npm provenance (the registry's publish attestation and
// SLSA provenance per package, bench fixtures in ../shared/fixtures/npm-provenance), one core against
// one core. Raw is @sigstore/verify 3.1.1 as well as it can be used (one Verifier built once, each
// bundle parsed and verified; bench/verify/raw-baseline.ts). Tollgate is the verifier pool with
// `threads: 0`, i.e. verifyPackageEvidence on the calling thread: it does more per package than raw
// (tarball integrity, the tarball's package.json, subject, publish predicate, the log entry's signer,
// identity decoding). Measures are interleaved round by round (raw, Tollgate, the ECDSA replay, ...)
// so that every ratio compares runs taken under the same load; each figure is printed with the load
// average. Then, separately: the worker pool at 1 and 2 threads, and the verification cache.
//
// Two Tollgate sides, because the gate verifies a package in one of two ways. With the tarball (an
// audit of a checkout whose archives are not in Yarn's cache): its sha512 against the integrity, its
// package.json read from the whole archive, then every bundle. As `yarn install` verifies after its
// fetch step: the tarball was hashed while Yarn downloaded it and its package.json is read from the
// archive Yarn built (neither is verification work), so the verifier checks the bundles against the
// bound integrity and compares that package.json with the name and version.
//
// Knobs: BENCH_ROUNDS (interleaved rounds, default 7), BENCH_PASS (package verifications per timed
// pass, default 40). Results: bench/results/verify-<time>.json.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { verifyBundle } from '../policy/evidence/bundle/verify-bundle';
import { verifyPackageEvidenceCached } from '../policy/evidence/cache/cached-verify';
import { openVerificationCache } from '../policy/evidence/cache/verification-cache';
import { parseSha512Integrity } from '../policy/evidence/encoding';
import { readTarballManifest } from '../policy/evidence/npm/manifest';
import { createVerifierPool, type VerifierPool } from '../policy/evidence/pool/verifier-pool';
import { loadTrustRoots } from '../policy/evidence/trust/context';
import { embeddedNpmRegistryKeys, embeddedPublicGoodTrustedRoot } from '../policy/evidence/trust/seeds';
import type { VerifiedEvidence } from '../policy/evidence/types';
import type { PackageEvidenceInput } from '../policy/evidence/verify-package';
import { loadNpmFixture, NPM_PACKAGES, packageInput } from '../test/evidence/fixtures';
import { intFromEnv } from './lib/options';
import { benchRoot, describeMachine, writeResults } from './lib/results';
import { summarize } from './lib/stats';
import { countByCurve, type RecordedVerify, recordVerifies, timeReplay } from './verify/ecdsa-limit';
import { loadRawBaseline } from './verify/raw-baseline';

const ROUNDS = intFromEnv('BENCH_ROUNDS', 7);
const PASS = intFromEnv('BENCH_PASS', 40);
const startedAt = new Date();
const machine = describeMachine();

const load = () => loadavg()[0]!;
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const loads = (values: number[]) => `load ${fmt(Math.min(...values), 2)}–${fmt(Math.max(...values), 2)}`;

interface Sample {
  round: number;
  seconds: number;
  cpuSeconds: number;
  /** bundles per wall-clock second */
  rate: number;
  load: number;
}

/** Times one pass; `bundles` is how many bundles the pass verifies. */
async function timePass(
  round: number,
  bundles: number,
  run: () => Promise<unknown> | unknown,
): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run();
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    round,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    rate: bundles / seconds,
    load: load(),
  };
}

function assertVerified(results: VerifiedEvidence[], inputs: PackageEvidenceInput[]): void {
  results.forEach((evidence, i) => {
    if (evidence.failures.length > 0 || evidence.bundles.length !== inputs[i]!.bundles.length) {
      throw new Error(
        `${inputs[i]!.name}@${inputs[i]!.version} did not verify: ${JSON.stringify(evidence.failures)}`,
      );
    }
  });
}

const raw = loadRawBaseline(embeddedPublicGoodTrustedRoot(), embeddedNpmRegistryKeys());
const ctx = loadTrustRoots([{ name: 'public-good' }]);
const local = await createVerifierPool(ctx, { threads: 0 });
const fixtures = NPM_PACKAGES.map(([file]) => loadNpmFixture(file));

console.log(
  `${machine.cpuModel}, ${machine.cpuCount} cores, Node ${machine.node}, load at start ${loadavg()
    .map((l) => fmt(l, 2))
    .join(' ')}`,
);
console.log(`raw baseline: ${raw.versions.join(', ')} (separate install, bench/.cache/raw-verify)`);
console.log(`${ROUNDS} interleaved rounds; each pass verifies ${PASS} packages\n`);

interface OneCoreResult {
  workload: string;
  packagesPerPass: number;
  bundlesPerPass: number;
  ecdsaPerPackage: Record<string, number>;
  rawEcdsaPerPackage: Record<string, number>;
  samples: Record<'raw' | 'tollgate' | 'installPath' | 'bundlesOnly', Sample[]>;
  ecdsa: {
    round: number;
    perCall: Record<string, number>;
    perPackage: number;
    /** CPU seconds of the replay per package (process-wide) */
    cpuPerPackage: number;
    load: number;
  }[];
  ratio: ReturnType<typeof summarize>;
  installPathRatio: ReturnType<typeof summarize>;
  installPathFractionOfLimit: ReturnType<typeof summarize>;
  bundlesOnlyRatio: ReturnType<typeof summarize>;
  fractionOfLimit: ReturnType<typeof summarize>;
  /** the same two figures from CPU time instead of wall time: what preemption by other work does not move */
  cpuRatio: ReturnType<typeof summarize>;
  cpuFractionOfLimit: ReturnType<typeof summarize>;
  bundlesOnlyFractionOfLimit: ReturnType<typeof summarize>;
}

async function oneCore(workload: string, base: PackageEvidenceInput[]): Promise<OneCoreResult> {
  const inputs = Array.from({ length: Math.ceil(PASS / base.length) }, () => base)
    .flat()
    .slice(0, PASS);
  const bundles = inputs.reduce((n, i) => n + i.bundles.length, 0);
  const targets = inputs.map((i) => ({
    package: { name: i.name, version: i.version, sha512: parseSha512Integrity(i.integrity, i.name) },
    artifact: i.tarball ? ({ type: 'bytes', data: i.tarball } as const) : undefined,
  }));
  const runRaw = () => {
    for (const input of inputs) for (const b of input.bundles) raw.verify(b.json as string);
  };
  const runTollgate = async () => assertVerified(await local.verifyAll(inputs), inputs);
  const installInputs = await Promise.all(inputs.map(asInstallVerifiesIt));
  const runInstallPath = async () => assertVerified(await local.verifyAll(installInputs), installInputs);
  const runBundles = () => {
    inputs.forEach((input, i) => {
      for (const b of input.bundles) verifyBundle(ctx, b.json, targets[i]!);
    });
  };

  // The signature verifications one package needs, recorded from each side (untimed).
  const perPackage = (calls: RecordedVerify[]) =>
    Object.fromEntries(Object.entries(countByCurve(calls)).map(([c, n]) => [c, n / base.length]));
  // Recorded after one pass: what the context prepares once (the Fulcio intermediate's signature by
  // the root, the root's own) is not per package.
  await local.verifyAll(base);
  const tollgateCalls = await recordVerifies(() => local.verifyAll(base));
  const rawCalls = await recordVerifies(() => {
    for (const input of base) for (const b of input.bundles) raw.verify(b.json as string);
  });
  const ecdsaPerPackage = perPackage(tollgateCalls);
  const rawEcdsaPerPackage = perPackage(rawCalls);
  const describeCounts = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([curve, n]) => `${fmt(n, Number.isInteger(n) ? 0 : 1)} ${curve}`)
      .join(' + ');
  console.log(`== ${workload}: ${inputs.length} packages, ${bundles} bundles per pass`);
  console.log(
    `   signature verifications per package (recorded): Tollgate ${describeCounts(ecdsaPerPackage)}; raw ${describeCounts(rawEcdsaPerPackage)}`,
  );

  // warm-up: JIT, lazily prepared state
  runRaw();
  await runTollgate();
  await runInstallPath();
  runBundles();
  timeReplay(tollgateCalls, 3);

  const samples: OneCoreResult['samples'] = { raw: [], tollgate: [], installPath: [], bundlesOnly: [] };
  const ecdsa: OneCoreResult['ecdsa'] = [];
  const replayRepeat = Math.max(5, Math.round(PASS / base.length));
  for (let round = 0; round < ROUNDS; round++) {
    samples.raw.push(await timePass(round, bundles, runRaw));
    samples.tollgate.push(await timePass(round, bundles, runTollgate));
    samples.installPath.push(await timePass(round, bundles, runInstallPath));
    samples.bundlesOnly.push(await timePass(round, bundles, runBundles));
    const replayCpu = process.cpuUsage();
    const timing = timeReplay(tollgateCalls, replayRepeat);
    const replayUsed = process.cpuUsage(replayCpu);
    // the replay covers `base` once per repeat: per package
    ecdsa.push({
      round,
      perCall: timing.perCall,
      perPackage: timing.perPackage / base.length,
      cpuPerPackage: (replayUsed.user + replayUsed.system) / 1e6 / replayRepeat / base.length,
      load: load(),
    });
    const limit = bundles / inputs.length / ecdsa[round]!.perPackage; // bundles/s
    console.log(
      `   round ${round + 1}: raw ${fmt(samples.raw[round]!.rate)}  Tollgate ${fmt(samples.tollgate[round]!.rate)}  as install ${fmt(samples.installPath[round]!.rate)}  bundles only ${fmt(samples.bundlesOnly[round]!.rate)}  ECDSA limit ${fmt(limit)} bundles/s  (load ${fmt(load(), 2)})`,
    );
  }
  const bundlesPerPackage = bundles / inputs.length;
  const limitOf = (round: number) => bundlesPerPackage / ecdsa[round]!.perPackage;
  const result: OneCoreResult = {
    workload,
    packagesPerPass: inputs.length,
    bundlesPerPass: bundles,
    ecdsaPerPackage,
    rawEcdsaPerPackage,
    samples,
    ecdsa,
    ratio: summarize(samples.tollgate.map((s, i) => s.rate / samples.raw[i]!.rate)),
    installPathRatio: summarize(samples.installPath.map((s, i) => s.rate / samples.raw[i]!.rate)),
    installPathFractionOfLimit: summarize(samples.installPath.map((s, i) => s.rate / limitOf(i))),
    bundlesOnlyRatio: summarize(samples.bundlesOnly.map((s, i) => s.rate / samples.raw[i]!.rate)),
    fractionOfLimit: summarize(samples.tollgate.map((s, i) => s.rate / limitOf(i))),
    cpuRatio: summarize(samples.tollgate.map((s, i) => samples.raw[i]!.cpuSeconds / s.cpuSeconds)),
    cpuFractionOfLimit: summarize(
      samples.tollgate.map((s, i) => (ecdsa[i]!.cpuPerPackage * inputs.length) / s.cpuSeconds),
    ),
    bundlesOnlyFractionOfLimit: summarize(samples.bundlesOnly.map((s, i) => s.rate / limitOf(i))),
  };
  const med = (s: Sample[]) => summarize(s.map((x) => x.rate));
  const perCpu = (s: Sample[]) => summarize(s.map((x) => bundles / x.cpuSeconds)).median;
  const line = (label: string, s: Sample[], extra: string) => {
    const m = med(s);
    console.log(
      `   ${label.padEnd(40)} ${fmt(m.median).padStart(6)} bundles/s (${fmt(m.min)}–${fmt(m.max)}; ${fmt(perCpu(s))} per CPU-second)  ${extra}  ${loads(s.map((x) => x.load))}`,
    );
  };
  line('raw @sigstore/verify 3.1.1, one core', samples.raw, '');
  line('Tollgate cold, threads: 0 (one core)', samples.tollgate, `${fmt(result.ratio.median, 2)}x raw`);
  line(
    '  as `yarn install` verifies (no tarball)',
    samples.installPath,
    `${fmt(result.installPathRatio.median, 2)}x raw`,
  );
  line(
    '  its bundle checks alone (verifyBundle)',
    samples.bundlesOnly,
    `${fmt(result.bundlesOnlyRatio.median, 2)}x raw`,
  );
  const t = (curve: string) => summarize(ecdsa.map((e) => e.perCall[curve] ?? Number.NaN)).median;
  const limit = summarize(ecdsa.map((_, i) => limitOf(i)));
  const terms = Object.entries(ecdsaPerPackage)
    .map(([curve, n]) => `${fmt(n, Number.isInteger(n) ? 0 : 1)}·${fmt(t(curve) * 1e6)} µs (${curve})`)
    .join(' + ');
  console.log(
    `   ECDSA limit: 1 / (${terms}) = ${fmt(limit.median / bundlesPerPackage)} packages/s = ${fmt(limit.median)} bundles/s  ${loads(ecdsa.map((e) => e.load))}`,
  );
  console.log(
    `   Tollgate at ${fmt(100 * result.fractionOfLimit.median)}% of the ECDSA limit (as the install verifies: ${fmt(100 * result.installPathFractionOfLimit.median)}%; bundle checks alone: ${fmt(100 * result.bundlesOnlyFractionOfLimit.median)}%); ratios are medians of the per-round ratios (min ${fmt(result.ratio.min, 2)}x, max ${fmt(result.ratio.max, 2)}x)`,
  );
  console.log(
    `   by CPU time instead of wall time: ${fmt(result.cpuRatio.median, 2)}x raw (${fmt(result.cpuRatio.min, 2)}–${fmt(result.cpuRatio.max, 2)}), ${fmt(100 * result.cpuFractionOfLimit.median)}% of the ECDSA limit\n`,
  );
  return result;
}

const headline = await oneCore('sigstore@2.3.1 (publish attestation + SLSA v1 provenance)', [
  packageInput(fixtures.find((f) => f.file === 'sigstore-2.3.1')!),
]);
const allFive = await oneCore(
  `all ${fixtures.length} npm provenance fixtures`,
  fixtures.map((f) => packageInput(f)),
);

// ---- the worker pool, reported separately: its scaling with threads on this machine ----

// Workers run the bundled worker, as inside the Yarn plugin: under tsx every worker would route module
// loading through one shared loader thread and never run in parallel.
const workerFile = join(benchRoot, '.cache', 'evidence-worker.mjs');
mkdirSync(join(benchRoot, '.cache'), { recursive: true });
await build({
  entryPoints: [join(benchRoot, '..', 'policy/evidence/pool/worker.ts')],
  outfile: workerFile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
});
const poolInputs = Array.from({ length: Math.ceil((2 * PASS) / fixtures.length) }, () =>
  fixtures.map((f) => packageInput(f)),
).flat();
const poolBundles = poolInputs.reduce((n, i) => n + i.bundles.length, 0);
const pools: { threads: number; pool: VerifierPool; startupMs: number }[] = [];
for (const threads of [1, 2]) {
  const start = performance.now();
  const pool = await createVerifierPool(ctx, { threads, workerUrl: new URL(`file://${workerFile}`) });
  pools.push({ threads, pool, startupMs: performance.now() - start });
}
const poolSides = [{ threads: 0, pool: local, startupMs: 0 }, ...pools];
for (const side of poolSides) assertVerified(await side.pool.verifyAll(poolInputs), poolInputs); // warm-up
const poolSamples: Record<number, Sample[]> = { 0: [], 1: [], 2: [] };
console.log(
  `== worker pool: ${poolInputs.length} packages (${poolBundles} bundles) of all ${fixtures.length} fixtures per pass, ${availableParallelism()} cores`,
);
for (let round = 0; round < ROUNDS; round++) {
  for (const side of poolSides) {
    poolSamples[side.threads]!.push(
      await timePass(round, poolBundles, async () =>
        assertVerified(await side.pool.verifyAll(poolInputs), poolInputs),
      ),
    );
  }
  console.log(
    `   round ${round + 1}: threads 0 ${fmt(poolSamples[0]![round]!.rate)}  1 thread ${fmt(poolSamples[1]![round]!.rate)}  2 threads ${fmt(poolSamples[2]![round]!.rate)} bundles/s  (load ${fmt(load(), 2)})`,
  );
}
for (const { pool } of pools) await pool.close();
const scaling = summarize(poolSamples[2]!.map((s, i) => s.rate / poolSamples[1]![i]!.rate));
const oneThreadVsLocal = summarize(poolSamples[1]!.map((s, i) => s.rate / poolSamples[0]![i]!.rate));
for (const side of poolSides) {
  const s = poolSamples[side.threads]!;
  const m = summarize(s.map((x) => x.rate));
  const cpu = summarize(s.map((x) => poolBundles / x.cpuSeconds)).median;
  const label =
    side.threads === 0
      ? 'calling thread (threads: 0)'
      : `${side.threads} worker thread${side.threads > 1 ? 's' : ''}`;
  console.log(
    `   ${label.padEnd(30)} ${fmt(m.median).padStart(6)} bundles/s (${fmt(m.min)}–${fmt(m.max)}; ${fmt(cpu)} per CPU-second, all threads)${side.startupMs ? `  start-up ${fmt(side.startupMs)} ms` : ''}  ${loads(s.map((x) => x.load))}`,
  );
}
console.log(
  `   scaling: 2 threads / 1 thread = ${fmt(scaling.median, 2)}x (${fmt(scaling.min, 2)}–${fmt(scaling.max, 2)}); 1 worker thread / calling thread = ${fmt(oneThreadVsLocal.median, 2)}x (messaging)\n`,
);

// ---- the verification cache: warm hits on one core, against raw on one core ----

const cacheDir = mkdtempSync(join(benchRoot, '.cache', 'verify-cache-'));
const cached: { samples: Sample[]; raw: Sample[]; ratio?: ReturnType<typeof summarize> } = {
  samples: [],
  raw: [],
};
try {
  // What a later run does: open the cache (read and authenticate its pack), then look every package up.
  const inputs = allFiveInputs();
  const bundles = inputs.reduce((n, i) => n + i.bundles.length, 0);
  const writer = openVerificationCache(cacheDir);
  for (const input of inputs) await verifyPackageEvidenceCached(ctx, writer, input);
  writer.flush();
  let hits = 0;
  let rejected = 0;
  const runCached = async () => {
    const cache = openVerificationCache(cacheDir);
    const results: VerifiedEvidence[] = [];
    for (const input of inputs) results.push(await verifyPackageEvidenceCached(ctx, cache, input));
    assertVerified(results, inputs);
    hits += cache.stats.hits;
    rejected += cache.stats.rejected;
  };
  const runRaw = () => {
    for (const input of inputs) for (const b of input.bundles) raw.verify(b.json as string);
  };
  await runCached();
  const hitsBefore = hits;
  for (let round = 0; round < ROUNDS; round++) {
    cached.raw.push(await timePass(round, bundles, runRaw));
    // cache hits are ~200x faster than raw: repeat the pass to time something measurable
    const repeat = 20;
    const s = await timePass(round, bundles * repeat, async () => {
      for (let k = 0; k < repeat; k++) await runCached();
    });
    cached.samples.push(s);
  }
  if (rejected > 0 || hits - hitsBefore < ROUNDS * 20 * inputs.length) {
    throw new Error(`the cache did not hit as expected: ${hits - hitsBefore} hits, ${rejected} rejected`);
  }
  const ratio = summarize(cached.samples.map((s, i) => s.rate / cached.raw[i]!.rate));
  cached.ratio = ratio;
  const m = summarize(cached.samples.map((s) => s.rate));
  console.log(
    `== verification cache, warm, one core (${inputs.length} packages of all five fixtures; each pass opens the cache and reads its pack)`,
  );
  console.log(
    `   Tollgate cached ${fmt(m.median)} bundles/s (${fmt(m.min)}–${fmt(m.max)}) = ${fmt(ratio.median)}x raw (${fmt(ratio.min)}–${fmt(ratio.max)})  ${loads(cached.samples.map((x) => x.load))}\n`,
  );
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}
await local.close();

/** The input the gate gives the verifier during `yarn install`: the package.json of Yarn's archive, no tarball. */
async function asInstallVerifiesIt(input: PackageEvidenceInput): Promise<PackageEvidenceInput> {
  const { tarball, ...rest } = input;
  return { ...rest, unpackedManifest: await readTarballManifest(tarball!) };
}

function allFiveInputs(): PackageEvidenceInput[] {
  return Array.from({ length: Math.ceil(PASS / fixtures.length) }, () => fixtures.map((f) => packageInput(f)))
    .flat()
    .slice(0, PASS);
}

console.log('summary (one core against one core; medians of per-round ratios):');
for (const r of [headline, allFive]) {
  console.log(
    `   ${r.workload}: Tollgate ${fmt(r.ratio.median, 2)}x raw 3.1.1 (goal >= 5x), ${fmt(100 * r.fractionOfLimit.median)}% of the ECDSA limit (goal >= 50%); by CPU time ${fmt(r.cpuRatio.median, 2)}x, ${fmt(100 * r.cpuFractionOfLimit.median)}%; as \`yarn install\` verifies ${fmt(r.installPathRatio.median, 2)}x, ${fmt(100 * r.installPathFractionOfLimit.median)}%`,
  );
}
console.log(
  `   cached: ${fmt(cached.ratio?.median ?? Number.NaN)}x raw (goal >= 50x); pool: 2 threads ${fmt(scaling.median, 2)}x 1 thread on ${availableParallelism()} cores`,
);
console.log(
  `   load at end ${loadavg()
    .map((l) => fmt(l, 2))
    .join(' ')}`,
);

const path = writeResults('verify', machine, startedAt, {
  rounds: ROUNDS,
  packagesPerPass: PASS,
  rawBaseline: raw.versions,
  oneCore: [headline, allFive],
  pool: {
    packagesPerPass: poolInputs.length,
    bundlesPerPass: poolBundles,
    startupMs: Object.fromEntries(pools.map((p) => [p.threads, p.startupMs])),
    samples: poolSamples,
    scaling,
    oneThreadVsLocal,
  },
  cached,
  loadAverageAtEnd: loadavg(),
});
console.log(`results: ${path}`);
