// Typed failures of signing and publishing, with stable codes. Commands turn each into one clean
// Yarn report line (no stack trace); the code says what went wrong, the message says what to do.

export type Environment = Record<string, string | undefined>;

export type SigningErrorCode =
  /** the command line is contradictory or incomplete */
  | 'USAGE'
  /** no OIDC identity token could be obtained from any source */
  | 'NO_IDENTITY_TOKEN'
  /** an identity token source was configured but did not answer with a token */
  | 'IDENTITY_TOKEN_UNAVAILABLE'
  /** the local tarball is missing or is not an npm package tarball */
  | 'TARBALL_UNREADABLE'
  /** a package spec could not be resolved or downloaded */
  | 'PACKAGE_UNAVAILABLE'
  /** provenance was asked for, but the CI claims are missing or contradict the identity token */
  | 'PROVENANCE_UNAVAILABLE'
  /** the certificate authority or the transparency log refused or could not be reached */
  | 'SIGNING_FAILED'
  /** the trusted root file given to check the new bundle could not be read */
  | 'TRUSTED_ROOT_UNAVAILABLE'
  /** the server's trusted root could not be fetched (the server is down or refused) */
  | 'TRUSTED_ROOT_UNREACHABLE'
  /** the bundle just produced does not verify: it is not written, attached or published */
  | 'SELF_VERIFICATION_FAILED'
  /** an attestation store refused the bundle or could not be reached */
  | 'ATTACH_FAILED'
  /** the registry refused the package */
  | 'PUBLISH_FAILED';

export class SigningError extends Error {
  readonly code: SigningErrorCode;
  override readonly cause?: unknown;

  constructor(code: SigningErrorCode, message: string, cause?: unknown) {
    super(message);
    this.name = 'SigningError';
    this.code = code;
    this.cause = cause;
  }
}

export { describeCause, httpStatusOf } from '../http-errors';
