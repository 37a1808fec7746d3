// What can go wrong while refreshing a trust root over TUF, as typed errors with stable codes. Every
// message names the repository (and the file or role when known) and what to do about it. The
// security failures (expired, rollback, bad signature, mismatching target) are never retried with a
// weaker copy: they fail closed. Only TUF_UNREACHABLE lets a caller fall back to the last verified copy.
import {
  BadVersionError,
  DownloadHTTPError,
  DownloadLengthMismatchError,
  ExpiredMetadataError,
} from 'tuf-js/dist/error';

export type TufErrorCode =
  /** a role's metadata has expired: a freeze attack, or a repository nobody re-signs */
  | 'TUF_EXPIRED'
  /** a version older than one already trusted: a rollback attack */
  | 'TUF_ROLLBACK'
  /** metadata not signed by the keys the trusted root names */
  | 'TUF_SIGNATURE'
  /** a downloaded file is not what the signed metadata says (length or hash) */
  | 'TUF_TARGET_MISMATCH'
  /** the repository does not list (or serve) what is needed */
  | 'TUF_NOT_FOUND'
  /** not parseable TUF metadata */
  | 'TUF_MALFORMED'
  /** the committed or embedded root.json the chain starts from cannot be used */
  | 'TUF_ROOT_INVALID'
  /** the repository could not be reached (offline, refused, timed out, 5xx) */
  | 'TUF_UNREACHABLE'
  /** offline, and no copy of the target was ever verified on this machine */
  | 'TUF_NO_VERIFIED_COPY'
  /** the cache folder cannot be written */
  | 'TUF_CACHE_UNWRITABLE';

export class TufError extends Error {
  readonly code: TufErrorCode;
  override readonly cause?: unknown;

  constructor(code: TufErrorCode, message: string, cause?: unknown) {
    super(message);
    this.name = 'TufError';
    this.code = code;
    this.cause = cause;
  }

  /** Whether a caller may use the last verified copy instead: only when the repository was not reached. */
  get fallbackAllowed(): boolean {
    return this.code === 'TUF_UNREACHABLE';
  }
}

/** Thrown by Tollgate's fetchers when a request did not get an answer at all. */
export class TufNetworkError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`${url}: ${reason}`);
    this.name = 'TufNetworkError';
  }
}

const text = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Maps what tuf-js and @tufjs/models throw onto a TufError. tuf-js wraps errors of the targets role in
 * a RuntimeError whose message carries the original, so messages are read too; anything unrecognised
 * is TUF_MALFORMED, a failure (fail closed).
 */
export function classifyTufError(err: unknown, repository: string): TufError {
  if (err instanceof TufError) return err;
  const message = text(err);
  const where = `the TUF repository ${repository}`;
  if (err instanceof TufNetworkError || /TufNetworkError|could not be reached/.test(message)) {
    return new TufError('TUF_UNREACHABLE', `${where} could not be reached (${message})`, err);
  }
  if (err instanceof DownloadHTTPError) {
    if (err.statusCode >= 500 || err.statusCode === 429 || err.statusCode === 408) {
      return new TufError(
        'TUF_UNREACHABLE',
        `${where} answered HTTP ${err.statusCode}; try again later`,
        err,
      );
    }
    return new TufError(
      'TUF_NOT_FOUND',
      `${where} answered HTTP ${err.statusCode} for a file the signed metadata requires; check the URL (it must be the folder holding root.json and timestamp.json)`,
      err,
    );
  }
  if (err instanceof ExpiredMetadataError || /is expired/.test(message)) {
    return new TufError(
      'TUF_EXPIRED',
      `${where} serves expired metadata (${message}): a freeze attack, or a repository whose operator no longer re-signs it. Nothing was updated and the expired copy is not used; have the repository re-signed (tollgate-server re-signs its timestamp on demand) and run \`yarn tollgate trust update\` again`,
      err,
    );
  }
  if (
    err instanceof BadVersionError ||
    /less than current version|does not match snapshot version|Expected version \d+, got/.test(message)
  ) {
    return new TufError(
      'TUF_ROLLBACK',
      `${where} serves metadata older than what this machine already verified (${message}): a rollback attack, or a restored old copy of the repository. Nothing was updated; the repository's operator must publish a newer version`,
      err,
    );
  }
  if (/was signed by \d+\/\d+ keys|signature|Unsigned/i.test(message)) {
    return new TufError(
      'TUF_SIGNATURE',
      `${where} serves metadata not signed by the keys the trusted root names (${message}). Nothing was updated; if the repository rotated its root, its new root.json must be signed by the old root keys too`,
      err,
    );
  }
  if (err instanceof DownloadLengthMismatchError || /length|hash/i.test(message)) {
    return new TufError(
      'TUF_TARGET_MISMATCH',
      `${where} served a file that is not what its signed metadata lists (${message}); it was refused`,
      err,
    );
  }
  return new TufError('TUF_MALFORMED', `${where} served unusable TUF metadata (${message})`, err);
}
