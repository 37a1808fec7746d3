// Public API of Tollgate's evidence verification (pure: bytes in, verified facts out).
export type { Artifact } from './bundle/artifact';
export { bundleDigestOf } from './bundle/digest';
export { type BundleFacts, type BundleTarget, verifyBundle } from './bundle/verify-bundle';
export { verifyPackageEvidenceCached } from './cache/cached-verify';
export {
  CACHE_FORMAT,
  type CacheStats,
  openVerificationCache,
  type VerificationCache,
} from './cache/verification-cache';
export { EvidenceError, type EvidenceErrorCode, TrustConfigError } from './error';
export { FileInputError, loadBundleFile, loadTrustedRootFile } from './files';
export { signerIdentity } from './identity';
export { readTarballManifest } from './npm/manifest';
export {
  type RegistrySignature,
  registrySignedMessage,
  verifyRegistrySignature,
} from './npm/registry-signatures';
export { createVerifierPool, type VerifierPool, type VerifierPoolOptions } from './pool/verifier-pool';
export { npmPurl } from './statement/purl';
export {
  loadTrustRoots,
  type PreparedTrustRoot,
  PUBLIC_GOOD,
  type Thresholds,
  type TrustContext,
  type TrustedPublicKeySpec,
  type TrustOptions,
  type TrustRootSpec,
} from './trust/context';
export { type NpmKeyUsage, type NpmRegistryKey, parseNpmRegistryKeys } from './trust/npm-keys';
export { embeddedNpmRegistryKeys, embeddedPublicGoodTrustedRoot } from './trust/seeds';
export type * from './types';
export {
  type BundleInput,
  type PackageEvidenceInput,
  verifyPackageEvidence,
} from './verify-package';
