// Every refusal the server makes is a ServerError: an HTTP status, a stable machine-readable reason
// and a message that names the offending field and what to do about it. The HTTP layer turns it
// into the Fulcio/Rekor error shape `{code, message}` (plus `reason`); anything else is a bug.
export type ErrorReason =
  | 'BAD_REQUEST'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'INVALID_TOKEN'
  | 'UNTRUSTED_ISSUER'
  | 'INVALID_PUBLIC_KEY'
  | 'INVALID_PROOF_OF_POSSESSION'
  | 'INVALID_ENTRY'
  | 'INVALID_SIGNATURE'
  | 'ENTRY_EXISTS'
  | 'INVALID_BUNDLE'
  | 'SUBJECT_MISMATCH'
  | 'CONFLICT'
  | 'FORBIDDEN'
  | 'UNAVAILABLE';

export class ServerError extends Error {
  readonly status: number;
  readonly reason: ErrorReason;
  readonly headers: Record<string, string>;

  constructor(status: number, reason: ErrorReason, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ServerError';
    this.status = status;
    this.reason = reason;
    this.headers = headers;
  }
}

export const badRequest = (message: string, reason: ErrorReason = 'BAD_REQUEST') =>
  new ServerError(400, reason, message);

export const notFound = (message: string) => new ServerError(404, 'NOT_FOUND', message);

// Errors raised while loading the data folder or configuration: the CLI prints these as one
// line and exits non-zero instead of a stack trace.
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
