import { performance } from 'node:perf_hooks';

/** Times one async call in milliseconds; setup and checks around it belong outside `fn`. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export interface InterleavedOptions {
  runs: number;
  /** one A run; resolves to the milliseconds it measured (so untimed setup can live inside) */
  a: (run: number) => Promise<number>;
  b: (run: number) => Promise<number>;
  onSample?: (side: 'a' | 'b', run: number, ms: number) => void;
}

export interface InterleavedSeries {
  a: number[];
  b: number[];
}

/**
 * Runs A B A B ...: both sides see the same machine state (other load, thermal, page cache) within a
 * pair, so the per-pair ratio is fair even when the machine drifts over the bench.
 */
export async function runInterleaved(options: InterleavedOptions): Promise<InterleavedSeries> {
  const series: InterleavedSeries = { a: [], b: [] };
  for (let run = 0; run < options.runs; run++) {
    for (const side of ['a', 'b'] as const) {
      const ms = await options[side](run);
      series[side].push(ms);
      options.onSample?.(side, run, ms);
    }
  }
  return series;
}
