// The contract between evidence verification (policy/evidence) and policy evaluation (policy/).
// Verification turns bytes into these facts; evaluation only ever sees verified facts and failures,
// never raw bundles. Extend with new optional fields; do not change the meaning of existing ones.

/** Fulcio certificate extension claims (OID 1.3.6.1.4.1.57264.1.*), decoded. */
export interface FulcioClaims {
  /** .1.8 (DER UTF8String), else the legacy raw .1.1 */
  issuer?: string;
  /** .1.9 */
  buildSignerUri?: string;
  /** .1.10 */
  buildSignerDigest?: string;
  /** .1.11: "github-hosted" | "self-hosted" */
  runnerEnvironment?: string;
  /** .1.12 */
  sourceRepositoryUri?: string;
  /** .1.13 */
  sourceRepositoryDigest?: string;
  /** .1.14, e.g. "refs/heads/main" or "refs/tags/v1.2.3" */
  sourceRepositoryRef?: string;
  /** .1.15: numeric repository id (survives renames and transfers) */
  sourceRepositoryIdentifier?: string;
  /** .1.16 */
  sourceRepositoryOwnerUri?: string;
  /** .1.17: numeric owner id */
  sourceRepositoryOwnerIdentifier?: string;
  /** .1.18 */
  buildConfigUri?: string;
  /** .1.19 */
  buildConfigDigest?: string;
  /** .1.20, e.g. "push", "pull_request_target" */
  buildTrigger?: string;
  /** .1.21 */
  runInvocationUri?: string;
  /** .1.22: "public" | "private" */
  sourceRepositoryVisibilityAtSigning?: string;
  /** legacy .1.2 – .1.6 (raw strings) */
  githubWorkflowTrigger?: string;
  githubWorkflowSha?: string;
  githubWorkflowName?: string;
  githubWorkflowRepository?: string;
  githubWorkflowRef?: string;
}

/** Who signed: from a verified Fulcio certificate. */
export interface SignerIdentity {
  /** OIDC issuer URL (.1.8, else .1.1). */
  issuer: string;
  /** The certificate SAN: a URI (CI workflows) or an email address (people). */
  subject: string;
  subjectKind: 'uri' | 'email' | 'other';
  claims: FulcioClaims;
}

/** Build facts a policy can pin, from a verified SLSA provenance statement (v1 or v0.2). */
export interface ProvenanceClaims {
  predicateType: string;
  slsaVersion: '1' | '0.2';
  /** e.g. "https://github.com/sigstore/sigstore-js" */
  repository?: string;
  /** e.g. ".github/workflows/release.yml" */
  workflowPath?: string;
  /** e.g. "refs/heads/main" */
  ref?: string;
  /** trigger, e.g. "push", "release", "pull_request_target" */
  event?: string;
  builderId?: string;
  /** "github-hosted" | "self-hosted" where the builder says so */
  runner?: string;
  repositoryId?: string;
  repositoryOwnerId?: string;
}

export type BundleKind =
  /** a Sigstore bundle over the exact tarball (message signature or in-toto statement naming it) */
  | 'signature'
  /** SLSA provenance naming the exact tarball */
  | 'provenance'
  /** npm's publish attestation, signed by a registry key */
  | 'publish-attestation';

export interface VerifiedBundle {
  kind: BundleKind;
  /** Where it came from: an attestations URL, a file path, a store name. */
  source: string;
  /** sha256 hex of the bundle JSON as received. */
  bundleDigest: string;
  predicateType?: string;
  /** Present for keyless (certificate) signatures. */
  signer?: SignerIdentity;
  /** Present for key-signed bundles (e.g. npm registry key id). */
  keyId?: string;
  provenance?: ProvenanceClaims;
  /** Name of the trust root that verified it, e.g. "public-good" or a policy-given name. */
  trustRoot: string;
  /** Transparency-log integrated time, seconds since the epoch, when the log signed it (a SET). */
  integratedTime?: number;
  /** The earliest RFC 3161 timestamp's genTime, seconds since the epoch (signed by a trusted TSA). */
  timestampTime?: number;
  /** hex log id of the transparency log that included it */
  logId?: string;
  logIndex?: number;
}

export interface RegistrySignatureResult {
  keyId: string;
  /** true only when the signature verified with an unexpired key */
  verified: boolean;
}

/** A piece of evidence that was present but did not verify. Codes are stable. */
export interface EvidenceFailure {
  code: string;
  message: string;
  source: string;
}

export interface PackageIdentity {
  name: string;
  version: string;
  /** sha512 SRI of the .tgz, "sha512-<base64>" */
  integrity: string;
}

/** Everything known, after verification, about the evidence for one package version. */
export interface VerifiedEvidence {
  package: PackageIdentity;
  registrySignatures: RegistrySignatureResult[];
  bundles: VerifiedBundle[];
  failures: EvidenceFailure[];
}
