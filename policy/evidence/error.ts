// Typed errors with stable codes. Verification never lets a raw exception escape for bad evidence:
// everything that goes wrong with a bundle, a key or a tarball becomes an EvidenceError, and from
// there an EvidenceFailure that a policy can explain.
import type { EvidenceFailure } from './types';

export type EvidenceErrorCode =
  // input shape
  | 'BUNDLE_MALFORMED'
  | 'BUNDLE_UNSUPPORTED'
  | 'INTEGRITY_MALFORMED'
  | 'TARBALL_INTEGRITY_MISMATCH'
  | 'TARBALL_REQUIRED'
  // sigstore-js verification (signature, chain, tlog, timestamps), by cause
  | 'SIGNATURE_INVALID'
  | 'CERTIFICATE_INVALID'
  | 'TLOG_INVALID'
  | 'TIMESTAMP_INVALID'
  | 'PUBLIC_KEY_UNKNOWN'
  | 'UNTRUSTED_ROOT'
  // checks sigstore-js leaves to callers
  | 'BUNDLE_CHAIN_INCLUDES_ROOT'
  | 'TLOG_BODY_CERTIFICATE_MISMATCH'
  | 'PAYLOAD_TYPE_UNEXPECTED'
  | 'STATEMENT_MALFORMED'
  | 'SUBJECT_MISMATCH'
  | 'ARTIFACT_DIGEST_MISMATCH'
  | 'PUBLISH_ATTESTATION_MISMATCH'
  | 'PUBLISH_ATTESTATION_NOT_KEY_SIGNED'
  | 'PROVENANCE_MALFORMED'
  | 'MANIFEST_MISMATCH'
  | 'MANIFEST_UNREADABLE'
  // npm registry signatures
  | 'REGISTRY_SIGNATURE_INVALID'
  | 'REGISTRY_KEY_UNKNOWN'
  | 'REGISTRY_KEY_EXPIRED'
  // trust configuration
  | 'TRUST_ROOT_INVALID'
  | 'TRUST_KEY_INVALID';

export class EvidenceError extends Error {
  readonly code: EvidenceErrorCode;
  override readonly cause?: unknown;

  constructor(code: EvidenceErrorCode, message: string, cause?: unknown) {
    super(message);
    this.name = 'EvidenceError';
    this.code = code;
    this.cause = cause;
  }
}

/** Trust configuration that cannot be used. Thrown at load time, never during verification. */
export class TrustConfigError extends EvidenceError {
  constructor(code: 'TRUST_ROOT_INVALID' | 'TRUST_KEY_INVALID', message: string, cause?: unknown) {
    super(code, message, cause);
    this.name = 'TrustConfigError';
  }
}

// sigstore-js error codes mapped onto Tollgate's. Unknown codes stay failures (fail closed).
const SIGSTORE_CODES: Record<string, EvidenceErrorCode> = {
  SIGNATURE_ERROR: 'SIGNATURE_INVALID',
  CERTIFICATE_ERROR: 'CERTIFICATE_INVALID',
  TLOG_ERROR: 'TLOG_INVALID',
  TLOG_BODY_ERROR: 'TLOG_INVALID',
  TLOG_INCLUSION_PROOF_ERROR: 'TLOG_INVALID',
  TLOG_INCLUSION_PROMISE_ERROR: 'TLOG_INVALID',
  TLOG_MISSING_INCLUSION_ERROR: 'TLOG_INVALID',
  TIMESTAMP_ERROR: 'TIMESTAMP_INVALID',
  PUBLIC_KEY_ERROR: 'PUBLIC_KEY_UNKNOWN',
};

/** Turns anything thrown while verifying into an EvidenceError; never rethrows. */
export function toEvidenceError(err: unknown, context: string): EvidenceError {
  if (err instanceof EvidenceError) return err;
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  const mapped = typeof code === 'string' ? SIGSTORE_CODES[code] : undefined;
  if (mapped) return new EvidenceError(mapped, `${context}: ${describeSigstoreError(err)}`, err);
  return new EvidenceError('BUNDLE_MALFORMED', `${context}: ${message}`, err);
}

// sigstore-js wraps the interesting reason in `cause` (e.g. "Failed to verify certificate chain").
function describeSigstoreError(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur && depth < 4; depth++) {
    if (cur instanceof Error && !parts.includes(cur.message)) parts.push(cur.message);
    cur = (cur as { cause?: unknown }).cause;
  }
  return parts.join(': ') || String(err);
}

export function toFailure(err: EvidenceError, source: string): EvidenceFailure {
  return { code: err.code, message: err.message, source };
}
