import { pairRatios, type Summary, summarize } from './stats';
import { formatTable, seconds, times } from './table';

/** One measured operation, A against B, with the raw samples kept for the JSON results. */
export interface Comparison {
  measure: string;
  a: Summary & { samplesMs: number[] };
  b: Summary & { samplesMs: number[] };
  /** per-pair B/A */
  ratio: Summary & { samples: number[] };
}

export function compare(measure: string, aMs: readonly number[], bMs: readonly number[]): Comparison {
  const ratios = pairRatios(aMs, bMs);
  return {
    measure,
    a: { ...summarize(aMs), samplesMs: [...aMs] },
    b: { ...summarize(bMs), samplesMs: [...bMs] },
    ratio: { ...summarize(ratios), samples: ratios },
  };
}

/** The terminal table: min/median/max of each side and of the per-pair ratio B/A. */
export function formatComparisons(
  comparisons: readonly Comparison[],
  labels: { a: string; b: string },
): string {
  const header = [
    'measure',
    'runs',
    `${labels.a} min`,
    'median',
    'max',
    `${labels.b} min`,
    'median',
    'max',
    `${labels.b}/${labels.a} min`,
    'median',
    'max',
  ];
  const rows = comparisons.map((c) => [
    c.measure,
    String(c.a.runs),
    seconds(c.a.min),
    seconds(c.a.median),
    seconds(c.a.max),
    seconds(c.b.min),
    seconds(c.b.median),
    seconds(c.b.max),
    times(c.ratio.min),
    times(c.ratio.median),
    times(c.ratio.max),
  ]);
  return formatTable([header, ...rows]);
}
