import { pairDifferences, pairRatios, type Summary, summarize } from './stats';
import { formatTable, seconds, times } from './table';

/** One measured operation, A against B, with the raw samples kept for the JSON results. */
export interface Comparison {
  measure: string;
  a: Summary & { samplesMs: number[] };
  b: Summary & { samplesMs: number[] };
  /** per-pair B/A */
  ratio: Summary & { samples: number[] };
  /** per-pair B - A in milliseconds: what B adds, the figure a goal in seconds is judged on */
  addedMs: Summary & { samples: number[] };
  /** the 1-minute load average at the end of each sample (A and B), when the bench recorded it */
  load?: Summary & { samples: number[] };
}

/** One measured operation without a counterpart (a Tollgate command plain Yarn does not have). */
export interface Series {
  measure: string;
  samplesMs: number[];
  summary: Summary;
  load?: Summary & { samples: number[] };
}

export function compare(
  measure: string,
  aMs: readonly number[],
  bMs: readonly number[],
  loads?: readonly number[],
): Comparison {
  const ratios = pairRatios(aMs, bMs);
  const added = pairDifferences(aMs, bMs);
  return {
    measure,
    a: { ...summarize(aMs), samplesMs: [...aMs] },
    b: { ...summarize(bMs), samplesMs: [...bMs] },
    ratio: { ...summarize(ratios), samples: ratios },
    addedMs: { ...summarize(added), samples: added },
    ...(loads?.length ? { load: { ...summarize(loads), samples: [...loads] } } : {}),
  };
}

export function series(measure: string, samplesMs: readonly number[], loads?: readonly number[]): Series {
  return {
    measure,
    samplesMs: [...samplesMs],
    summary: summarize(samplesMs),
    ...(loads?.length ? { load: { ...summarize(loads), samples: [...loads] } } : {}),
  };
}

/** `2.31 (max 3.90)`: the load average beside a figure, median and worst over its samples. */
export function formatLoad(load: Summary | undefined): string {
  return load ? `${load.median.toFixed(2)} (max ${load.max.toFixed(2)})` : '';
}

/** The terminal table for operations measured on one side only: min/median/max. */
export function formatSeries(list: readonly Series[]): string {
  const withLoad = list.some((s) => s.load);
  const header = ['measure', 'runs', 'min', 'median', 'max', ...(withLoad ? ['load 1m'] : [])];
  const rows = list.map((s) => [
    s.measure,
    String(s.summary.runs),
    seconds(s.summary.min),
    seconds(s.summary.median),
    seconds(s.summary.max),
    ...(withLoad ? [formatLoad(s.load)] : []),
  ]);
  return formatTable([header, ...rows]);
}

/** The terminal table: min/median/max of each side and of the per-pair ratio B/A. */
export function formatComparisons(
  comparisons: readonly Comparison[],
  labels: { a: string; b: string },
): string {
  const withLoad = comparisons.some((c) => c.load);
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
    `${labels.b}-${labels.a} median`,
    ...(withLoad ? ['load 1m'] : []),
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
    seconds(c.addedMs.median),
    ...(withLoad ? [formatLoad(c.load)] : []),
  ]);
  return formatTable([header, ...rows]);
}
