// Bundles per second for raw @sigstore/verify against Tollgate's pipeline, cold and cached, on the
// real npm provenance fixtures (a publish attestation and SLSA provenance per package), in one run.
// Raw is the library used as well as it can be: one Verifier built once, each bundle parsed and
// verified. Tollgate does more per bundle (tarball integrity, manifest, subject, publish predicate,
// tlog-body signer, identity decoding), so the ratios understate the per-check speed-up.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { build } from 'esbuild';
import { verifyPackageEvidenceCached } from '../policy/evidence/cache/cached-verify';
import { openVerificationCache } from '../policy/evidence/cache/verification-cache';
import { createVerifierPool } from '../policy/evidence/pool/verifier-pool';
import { loadTrustRoots } from '../policy/evidence/trust/context';
import { embeddedNpmRegistryKeys, embeddedPublicGoodTrustedRoot } from '../policy/evidence/trust/seeds';
import { verifyPackageEvidence } from '../policy/evidence/verify-package';
import { loadNpmFixture, NPM_PACKAGES, packageInput } from '../test/evidence/fixtures';

const ROUNDS = Number(process.env.ROUNDS ?? 40);
const fixtures = NPM_PACKAGES.map(([file]) => loadNpmFixture(file));
const inputs = Array.from({ length: ROUNDS }, () => fixtures.map((f) => packageInput(f))).flat();
const bundleCount = inputs.reduce((n, i) => n + i.bundles.length, 0);

async function measure(label: string, run: () => Promise<void> | void): Promise<number> {
  await run(); // warm-up: JIT, lazily prepared state
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  await run();
  const seconds = (performance.now() - start) / 1000;
  // process.cpuUsage covers every thread: a wall-clock rate well below (CPU rate x threads) means other
  // work on the machine held the cores during the run.
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rate = bundleCount / seconds;
  console.log(
    `${label.padEnd(40)} ${rate.toFixed(0).padStart(6)} bundles/s  (${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU, ${(bundleCount / cpuSeconds).toFixed(0)} bundles per CPU-second)`,
  );
  return rate;
}

function rawVerifier(): (json: string) => void {
  const keys = JSON.parse(embeddedNpmRegistryKeys()).keys as {
    keyId: string;
    keyUsage: string;
    publicKey: { rawBytes: string; validFor: { start: string; end?: string } };
  }[];
  const byHint = Object.fromEntries(
    keys
      .filter((k) => k.keyUsage === 'npm:attestations')
      .map((k) => [
        k.keyId,
        {
          rawBytes: Buffer.from(k.publicKey.rawBytes, 'base64'),
          keyDetails: 5,
          validFor: {
            start: new Date(k.publicKey.validFor.start),
            end: k.publicKey.validFor.end ? new Date(k.publicKey.validFor.end) : undefined,
          },
        },
      ]),
  );
  const material = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(embeddedPublicGoodTrustedRoot())), byHint);
  const verifier = new Verifier(material);
  return (json) => {
    verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(json))));
  };
}

console.log(
  `cores: ${availableParallelism()}; ${inputs.length} packages, ${bundleCount} bundles per measured pass`,
);

// Raw first, before Tollgate installs its DER encoder into @sigstore/core.
const raw = rawVerifier();
const rawRate = await measure('raw @sigstore/verify (1 thread)', () => {
  for (const input of inputs) for (const b of input.bundles) raw(b.json as string);
});

// For comparison with the figure in the issue (raw on SLSA provenance bundles alone, the costliest kind).
const provenanceOnly = inputs.flatMap((i) =>
  i.bundles.filter(
    (b) =>
      (b.json as string).includes('x509CertificateChain') || (b.json as string).includes('"certificate"'),
  ),
);
{
  raw(provenanceOnly[0]!.json as string);
  const start = performance.now();
  for (const b of provenanceOnly) raw(b.json as string);
  const rate = provenanceOnly.length / ((performance.now() - start) / 1000);
  console.log(`${'  (raw, provenance bundles only)'.padEnd(40)} ${rate.toFixed(0).padStart(7)} bundles/s`);
}

const ctx = loadTrustRoots([{ name: 'public-good' }]);
const singleRate = await measure('tollgate cold, 1 thread', async () => {
  for (const input of inputs) await verifyPackageEvidence(ctx, input);
});

// Workers run the bundled worker, as they do inside the bundled Yarn plugin: under tsx every worker
// would route module loading through one shared loader thread and never run in parallel.
const repoRoot = new URL('..', import.meta.url).pathname;
const workerFile = join(repoRoot, 'bench', '.cache', 'evidence-worker.mjs');
mkdirSync(join(repoRoot, 'bench', '.cache'), { recursive: true });
await build({
  entryPoints: [join(repoRoot, 'policy/evidence/pool/worker.ts')],
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
const poolStart = performance.now();
const pool = await createVerifierPool(ctx, {
  threads: availableParallelism(),
  workerUrl: new URL(`file://${workerFile}`),
});
const poolStartup = performance.now() - poolStart;
const coldRate = await measure(`tollgate cold, ${availableParallelism()} worker threads`, async () => {
  await pool.verifyAll(inputs);
});
await pool.close();
console.log(`  (pool start-up, once per install: ${poolStartup.toFixed(0)} ms)`);

const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-cache-'));
try {
  const cache = openVerificationCache(dir);
  for (const f of fixtures) await verifyPackageEvidenceCached(ctx, cache, packageInput(f));
  const cachedRate = await measure('tollgate cached, 1 thread', async () => {
    for (const input of inputs) await verifyPackageEvidenceCached(ctx, cache, input);
  });
  if (cache.stats.rejected > 0 || cache.stats.hits < inputs.length)
    throw new Error('cache did not hit as expected');
  console.log('\nratios against raw @sigstore/verify:');
  console.log(`  tollgate cold, 1 thread:        ${(singleRate / rawRate).toFixed(1)}x`);
  console.log(`  tollgate cold, worker threads:  ${(coldRate / rawRate).toFixed(1)}x   (goal >= 5x)`);
  console.log(`  tollgate cached:                ${(cachedRate / rawRate).toFixed(1)}x   (goal >= 50x)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
