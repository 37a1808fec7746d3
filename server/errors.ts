// Every refusal the server makes is a ServerError: an HTTP status, a stable machine-readable reason
// and a message that names the offending field and what to do about it. The HTTP layer turns it
// into the Fulcio/Rekor error shape `{code, message}` (plus `reason`); anything else is a bug.
export type ErrorReason =
  | 'BAD_REQUEST'
  | 'BAD_REQUEST_TARGET'
  | 'MISDIRECTED_REQUEST'
  | 'CROSS_ORIGIN_REFUSED'
  | 'BODY_TOO_LARGE'
  | 'JSON_TOO_DEEP'
  | 'JSON_TOO_COMPLEX'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'INVALID_TOKEN'
  | 'UNTRUSTED_ISSUER'
  | 'INVALID_PUBLIC_KEY'
  | 'INVALID_PROOF_OF_POSSESSION'
  | 'IDENTITY_NOT_REPRESENTABLE'
  | 'INVALID_ENTRY'
  | 'INVALID_SIGNATURE'
  | 'ENTRY_EXISTS'
  | 'TOO_MANY_QUERIES'
  | 'INVALID_BUNDLE'
  | 'SUBJECT_MISMATCH'
  | 'CONFLICT'
  | 'TOO_MANY_ATTESTATIONS'
  | 'FORBIDDEN'
  | 'STORAGE_DAMAGED'
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

// The client went away before its request was complete: nothing to answer and nothing wrong with
// the server, so it is logged as one line rather than as an internal error.
export class ClientAbortError extends Error {
  constructor(message = 'the client closed the connection before the request was complete') {
    super(message);
    this.name = 'ClientAbortError';
  }
}

export const badRequest = (message: string, reason: ErrorReason = 'BAD_REQUEST') =>
  new ServerError(400, reason, message);

export const notFound = (message: string) => new ServerError(404, 'NOT_FOUND', message);

// Refusals to start: the CLI prints the message as one line and exits with `exitCode` instead of
// a stack trace. 2: configuration or usage; 3: the data folder's logs fail their integrity checks;
// 4: the data folder is in use by another server.
export class StartupError extends Error {
  constructor(
    readonly code: string,
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ConfigError extends StartupError {
  constructor(message: string) {
    super('CONFIG', 2, message);
  }
}
