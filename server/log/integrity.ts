// Refusals to open a log whose entries no longer match what the server has committed to. They
// stop the server (exit code 3) rather than let it sign a second, different history.
import { StartupError } from '../errors';

export type LogIntegrityCode =
  | 'LOG_SHORTER_THAN_CHECKPOINT'
  | 'LOG_INCONSISTENT_WITH_CHECKPOINT'
  | 'CHECKPOINTS_DAMAGED';

export class LogIntegrityError extends StartupError {
  constructor(
    readonly integrity: LogIntegrityCode,
    readonly logDir: string,
    message: string,
  ) {
    super(integrity, 3, message);
  }
}

/** What to do about it, for every integrity message. */
export function repairAdvice(dataDir: string): string {
  return (
    `Refusing to start: continuing would sign other entries at indexes this log has already signed (a fork). ` +
    `Restore the log from a copy of the data folder: stop every server using it, then run ` +
    `\`tollgate-server repair --data ${dataDir} --from <copy of the data folder>\` (see server/README.md, "Repair").`
  );
}
