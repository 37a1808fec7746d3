/** The three figures every bench reports for a series of timings: robust to one slow outlier. */
export interface Summary {
  runs: number;
  min: number;
  median: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summarize: no samples (did every run fail?)');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { runs: sorted.length, min: sorted[0]!, median, max: sorted[sorted.length - 1]! };
}

/** Differences B - A of runs taken side by side (pair i is the i-th A and the i-th B run). */
export function pairDifferences(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) {
    throw new Error(
      `pairDifferences: ${a.length} A runs but ${b.length} B runs; interleaved runs come in pairs`,
    );
  }
  return a.map((value, i) => b[i]! - value);
}

/**
 * Ratios B/A of runs taken side by side (pair i is the i-th A and the i-th B run): pairing cancels
 * drift of a shared machine between the start and the end of a long bench.
 */
export function pairRatios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) {
    throw new Error(`pairRatios: ${a.length} A runs but ${b.length} B runs; interleaved runs come in pairs`);
  }
  return a.map((value, i) => b[i]! / value);
}
