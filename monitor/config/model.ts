// The validated monitor configuration. Every element keeps its source location, so that findings
// and later errors can cite the line that asked for them.
import type { SourceLocation } from '../../policy/diagnostics';
import type { StringPattern } from '../../policy/patterns';

export const DEFAULT_CONFIG_FILE = '.tollgate-monitor.yml';
export const DEFAULT_STATE_FILE = '.tollgate-monitor.state.json';

export type BatchRead = 'auto' | 'retrieve' | 'single';

export interface LogConfig {
  name: string;
  /** without a trailing slash */
  url: string;
  /** "public-good" or an absolute path */
  trustedRoot: string;
  /** the trusted root as written in the file (for messages) */
  trustedRootDisplay: string;
  start: 'latest' | number;
  batchRead: BatchRead;
  /**
   * Indexes per batch read, when configured. Otherwise 10 (Rekor v1's limit), or the limit a
   * tollgate-server announces for its bodies-only batch read (monitor/log/rekor-client.ts).
   */
  batchSize?: number;
  concurrency: number;
  location: SourceLocation;
}

export interface WatchedIdentity {
  name: string;
  issuer?: string;
  subject?: StringPattern;
  /** normalised host/owner/name */
  repository?: string;
  repositoryId?: string;
  ownerId?: string;
  workflow?: StringPattern;
  ref?: StringPattern;
  /**
   * A literal that the certificate's DER must contain for this identity to match (the longest
   * literal run of the subject pattern), so that most entries are ruled out without parsing their
   * certificate; undefined when the subject has no literal part (every certificate is parsed).
   */
  needle?: Buffer;
  location: SourceLocation;
}

export type ReleaseSource =
  | { kind: 'git-tags'; repository: string; tag: string; location: SourceLocation }
  | { kind: 'file'; path: string; display: string; location: SourceLocation }
  | { kind: 'policy'; location: SourceLocation };

export interface PackageConfig {
  name: string;
  /** normalised, with a trailing slash */
  registry: string;
  attestationStores: string[];
  judge: boolean;
  releases: ReleaseSource[];
  location: SourceLocation;
}

export type WitnessConfig =
  | { name: string; kind: 'file'; path: string; display: string; location: SourceLocation }
  | { name: string; kind: 'url'; url: string; location: SourceLocation };

export interface WebhookConfig {
  url: string;
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
  tokenEnv?: string;
  location: SourceLocation;
}

export interface MonitorConfig {
  /** the configuration file as shown to people */
  file: string;
  /** absolute directory paths are resolved against */
  dir: string;
  statePath: string;
  policyPath?: string;
  policyDisplay?: string;
  logs: LogConfig[];
  identities: WatchedIdentity[];
  packages: PackageConfig[];
  witnesses: WitnessConfig[];
  webhook?: WebhookConfig;
}
