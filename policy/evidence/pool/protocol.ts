// Messages between the verifier pool and its worker threads (structured-cloneable only).
import type { RecordedVerdict } from '../cache/verification-cache';
import type { TrustContext } from '../trust/context';
import type { VerifiedEvidence } from '../types';
import type { PackageEvidenceInput } from '../verify-package';

export interface WorkerInit {
  trust: TrustContext['specs'];
  cacheDir?: string;
  /** the key authenticating the cache, when the caller keeps it elsewhere than the cache folder */
  cacheSecret?: Uint8Array;
}

export interface WorkerRequest {
  id: number;
  input: PackageEvidenceInput;
}

export type WorkerResponse =
  /** `verdicts`: what the worker's cache set for this package, for the pool's cache to pack */
  | { id: number; evidence: VerifiedEvidence; verdicts?: RecordedVerdict[] }
  | { id: number; error: string }
  | { ready: true }
  | { initError: string };
