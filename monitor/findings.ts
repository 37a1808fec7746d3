// What a run reports. A finding is something unexpected a publisher must look at; its id is stable
// (derived from what was observed, never from when), so a restart that observes the same thing
// again recognises it and neither reports nor delivers it twice.

export type FindingKind =
  /** a watched identity signed something no expected release accounts for */
  | 'unexpected-signing'
  /** a new version of a watched package carries no verified signature the policy accepts */
  | 'version-unsigned'
  /** a new version is signed by an identity the package's policy rule does not list */
  | 'version-other-identity'
  /** a new version is signed by the right repository, from another workflow, ref, trigger or runner */
  | 'version-unexpected-build'
  /** a new version's evidence does not verify, or violates the policy otherwise */
  | 'version-policy-violation'
  /** the log's new tree does not extend the verified one (bad consistency proof, same size with another root, entries that do not hash to the signed root) */
  | 'log-inconsistent'
  /** the log serves a smaller tree than one it signed before */
  | 'log-rollback'
  /** another observer holds a checkpoint of this log that is inconsistent with this monitor's */
  | 'split-view';

export const INCONSISTENCY_KINDS: ReadonlySet<FindingKind> = new Set([
  'log-inconsistent',
  'log-rollback',
  'split-view',
]);

export interface CheckpointSummary {
  origin: string;
  size: number;
  /** hex */
  rootHash: string;
  /** the signed note, as served */
  note: string;
  /** where it came from: this monitor's state, the log's answer, a witness */
  observedFrom: string;
}

export interface IdentitySummary {
  issuer: string;
  subject: string;
  /** CI claims present in the certificate */
  claims: Record<string, string>;
}

export interface SubjectSummary {
  /** pkg:npm/<name>@<version>, or a digest when only that is known */
  name: string;
  digest: Record<string, string>;
  /** how the subject was learnt (the log records only hashes of a DSSE payload) */
  from: string;
}

export interface Finding {
  id: string;
  kind: FindingKind;
  /** one line, for people */
  summary: string;
  /** further lines: why, expected against actual, what to do */
  details: string[];
  log?: { name: string; url: string; logId: string };
  entry?: { logIndex: number; uuid: string; integratedTime: string; timeVerified: boolean; kind: string };
  identity?: IdentitySummary & { watched: string[] };
  subjects?: SubjectSummary[];
  package?: { name: string; version: string; registry: string };
  checkpoints?: CheckpointSummary[];
  /** violation codes of the policy decision, for version findings */
  violations?: string[];
}

/** An event that was checked and found expected: reported as information, never notified. */
export interface ExpectedEvent {
  summary: string;
  log: string;
  logIndex: number;
}

export function isInconsistency(finding: Pick<Finding, 'kind'>): boolean {
  return INCONSISTENCY_KINDS.has(finding.kind);
}
