/**
 * Reads a positive integer knob from the environment (`BENCH_RUNS=3 npm run bench install`): benches
 * take no argv because scripts/bench.mjs passes bench names only.
 */
export function intFromEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name}=${JSON.stringify(raw)} is not an integer >= ${min}; unset it or fix the value`);
  }
  return value;
}
