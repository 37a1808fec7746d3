// What one run observed, and the exit code that sums it up.
import type { SourceProblem } from './errors';
import type { ExpectedEvent, Finding } from './findings';
import { isInconsistency } from './findings';

export const EXIT = {
  /** nothing unexpected */
  OK: 0,
  /** unexpected events */
  UNEXPECTED: 1,
  /** usage or configuration error */
  USAGE: 2,
  /** a log is inconsistent, rolled back or shows a split view */
  INCONSISTENT: 3,
  /** nothing unexpected, but a source could not be checked (nothing is concluded about it) */
  INCOMPLETE: 4,
} as const;

export interface ObservedFinding extends Finding {
  /** first observed in this run (else it was reported, and delivered, by an earlier one) */
  isNew: boolean;
}

export interface LogSummary {
  name: string;
  url: string;
  checkpointSize: number;
  verifiedSize: number;
  entriesRead: number;
  requests: number;
  certificatesParsed: number;
  seconds: number;
  readMode: string;
  halted: boolean;
}

export interface DeliveryResult {
  id: string;
  status: 'delivered' | 'failed';
  attempts: number;
  httpStatus?: number;
  error?: string;
}

export interface RunReport {
  config: string;
  startedAt: string;
  finishedAt: string;
  findings: ObservedFinding[];
  expected: ExpectedEvent[];
  problems: SourceProblem[];
  notes: string[];
  logs: LogSummary[];
  deliveries: DeliveryResult[];
  exitCode: number;
}

/** 3 over 1 over 4 over 0: an inconsistent log is the gravest, an unexpected event the most actionable. */
export function exitCodeOf(report: Pick<RunReport, 'findings' | 'problems'>): number {
  if (report.findings.some(isInconsistency)) return EXIT.INCONSISTENT;
  if (report.findings.some((f) => f.isNew)) return EXIT.UNEXPECTED;
  if (report.problems.length > 0) return EXIT.INCOMPLETE;
  return EXIT.OK;
}
