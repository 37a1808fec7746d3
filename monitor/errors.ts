// Typed errors with stable codes. Two families: what the person running the monitor must fix (a
// usage or configuration problem: exit 2, one clean message, never a stack trace), and what a source
// answered that could not be verified or read (a problem of that run: reported, never believed).

export type UsageErrorCode =
  | 'USAGE'
  | 'CONFIG_UNREADABLE'
  | 'CONFIG_INVALID'
  | 'STATE_INVALID'
  | 'STATE_UNWRITABLE'
  | 'TRUST_ROOT_INVALID'
  | 'POLICY_INVALID'
  | 'RELEASES_FILE_INVALID';

/** A problem the user must fix before the monitor can run (exit code 2). */
export class MonitorUsageError extends Error {
  constructor(
    readonly code: UsageErrorCode,
    message: string,
    /** located diagnostics or further lines, already formatted */
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'MonitorUsageError';
  }
}

export type SourceProblemCode =
  | 'LOG_UNREACHABLE'
  | 'LOG_RESPONSE_INVALID'
  | 'CHECKPOINT_INVALID'
  | 'LOG_KEY_CHANGED'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_RESPONSE_INVALID'
  | 'ATTESTATIONS_UNAVAILABLE'
  | 'TARBALL_UNAVAILABLE'
  | 'RELEASES_UNAVAILABLE'
  | 'WITNESS_UNAVAILABLE'
  | 'WEBHOOK_FAILED';

/** A source that could not be checked in this run; nothing is concluded from it. */
export interface SourceProblem {
  code: SourceProblemCode;
  /** the log, registry, witness or webhook, by its configured name or URL */
  source: string;
  message: string;
}

export class SourceError extends Error {
  constructor(
    readonly code: SourceProblemCode,
    message: string,
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
