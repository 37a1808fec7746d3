// The validated, compiled policy. Every element keeps its source location so that decisions and
// diagnostics can cite file:line:column.
import type { SourceLocation } from './diagnostics';
import type { ExtendsReference, Permits, PolicyLayer } from './layers';
import type { NameSelector } from './package-selector';
import type { StringPattern } from './patterns';

export type Mode = 'enforce' | 'warn' | 'off';
export type EvidenceLevel = 'none' | 'registry-signature' | 'signature' | 'provenance';
export type SourceKind = 'npm' | 'git' | 'http' | 'file' | 'link' | 'patch' | 'portal' | 'workspace' | 'exec';
/** Source kinds a policy may allow; workspace is always allowed and patch is judged by its base. */
export type AllowableSource = Exclude<SourceKind, 'workspace' | 'patch'>;

export const EVIDENCE_LEVELS: readonly EvidenceLevel[] = [
  'none',
  'registry-signature',
  'signature',
  'provenance',
];

export function evidenceRank(level: EvidenceLevel): number {
  return EVIDENCE_LEVELS.indexOf(level);
}

export const PUBLIC_GOOD_TRUST_ROOT = 'public-good';
export const DEFAULT_POLICY_FILE = '.tollgate.yml';

export interface TrustRootDeclaration {
  name: string;
  /** A trusted_root.json relative to the policy; absent for the built-in public-good root and TUF roots. */
  file?: string;
  /** The TUF repository the trusted root is refreshed from (with `root`). */
  tuf?: string;
  /** The repository's root.json, committed, relative to the policy: where the TUF chain starts. */
  root?: string;
  builtin: boolean;
  location?: SourceLocation;
}

export interface Signer {
  /** signers[index] within its rule or defaults */
  index: number;
  location: SourceLocation;
  issuer: string;
  subject?: StringPattern;
  /** normalised, e.g. github.com/owner/repo */
  repository?: string;
  repositoryId?: string;
  ownerId?: string;
  workflow?: StringPattern;
  ref?: StringPattern;
  /** template such as v${version}; the ref must be refs/tags/<expanded> */
  tag?: string;
  events?: { allow?: string[]; deny?: string[] };
  runner?: string;
  builder?: StringPattern;
}

/** What a rule (or the defaults) requires; a rule's unset fields fall back to the defaults. */
export interface Requirements {
  require: EvidenceLevel;
  trust: string[];
  sources: AllowableSource[];
  /** 'any': every verified signer counts (and is pinned on first use when continuity is on). */
  signers: 'any' | Signer[];
  minReleaseAge?: { text: string; ms: number };
  unsignedTimeFallback: boolean;
  continuity: boolean;
  /**
   * What an identity or evidence level pinned for one version protects: every release line of the
   * package (the default), or only the line it was pinned in (plus newer lines against the newest).
   */
  continuityScope: ContinuityScope;
}

export type ContinuityScope = 'package' | 'release-line';

/** Sources that run code of their own when Yarn fetches them (git: packed with its own scripts; exec: a script). */
export type FetchScriptSource = 'git' | 'exec';

/** Sources an allowance can name for the scripts of a package that carries no signature (besides git and exec). */
export type ScriptSource = FetchScriptSource | 'file' | 'http';

/**
 * What runs the build of a package no allowance names: nothing (`deny`), the build of a package the
 * gate allowed on a verified signature or provenance (`allow-verified`), or the build of every package
 * the gate allowed (`allow`, Yarn's own behaviour).
 */
export type ScriptsDefault = 'deny' | 'allow-verified' | 'allow';

/**
 * An entry of `scripts.allow`: which dependency may run code of its own (lifecycle scripts, the
 * implicit node-gyp build, and for git and exec sources the code Yarn runs to fetch them), bound to
 * exactly one of: the verified identity that signs it (`signers`), its tarball's digest (`integrity`),
 * or, for sources that carry no signature, the source itself (`source`).
 */
export interface ScriptAllowance {
  index: number;
  location: SourceLocation;
  package: NameSelector;
  /** semver range the allowance applies to (prereleases included); absent = every version */
  versions?: string;
  reason: string;
  /** what a version the allowance names but does not approve means for the install */
  mode?: Mode;
  /** signer-bound: any one of these identities, verified against `trust` (default: the package rule's) */
  signers?: Signer[];
  trust?: string[];
  /** digest-bound: exactly this tarball (sha512 SRI) */
  integrity?: string;
  /** source-bound: a package from this source (git: from `repository`, when given) */
  source?: ScriptSource;
  /** git: the repository whose code may run (host/owner/name or a pattern over the remote URL) */
  repository?: StringPattern;
}

/** The `scripts` section: whose code may run on behalf of dependencies. */
export interface ScriptsPolicy {
  location?: SourceLocation;
  default: ScriptsDefault;
  /** what a withheld build means for the install: enforce fails it, warn reports it (absent: the policy's mode) */
  mode?: Mode;
  allow: ScriptAllowance[];
}

export interface Rule {
  /** Stable name cited in decisions: the rule's `name`, else rules[<index>]. */
  id: string;
  /** Position in `rules`; -1 for the defaults pseudo-rule. */
  index: number;
  location: SourceLocation;
  packages: NameSelector[];
  versions?: string;
  /** Normalised registry URLs; undefined when the rule does not bind a registry. */
  registries?: string[];
  mode?: Mode;
  requirements: Requirements;
  /** Which requirement fields the rule set itself (the rest came from the defaults). */
  explicit: ReadonlyArray<keyof Requirements>;
  description?: string;
}

export interface PolicyException {
  index: number;
  location: SourceLocation;
  package: NameSelector;
  versions: string;
  reason: string;
  /** YYYY-MM-DD: the last day (UTC) the exception applies */
  expires: string;
  /** First instant at which the exception no longer applies. */
  expiresAt: Date;
  ticket?: string;
  /** Violation codes this exception waives; undefined = the default set. */
  waive?: string[];
  /** The exact tarball (sha512 SRI) the exception is about; it matches no other bytes. */
  integrity?: string;
}

/** The `knownBad` section: how old the known-bad database may be, who signs snapshots, a verdict service. */
export interface KnownBadPolicy {
  location: SourceLocation;
  /** older than this, the database is stale */
  maxAge?: { text: string; ms: number };
  /** what a stale (or absent) database means once `maxAge` is set: a warning, or a denial of every package */
  stale: 'warn' | 'deny';
  /** normalised registry URLs that are the public registry (or proxy it) besides the caller's default */
  publicRegistries: string[];
  /** signed snapshots `yarn tollgate db update` accepts, each verified against its trust roots and signers */
  sources: KnownBadSourcePolicy[];
  /** an organisation's verdict service, consulted for every package; its answers are signed */
  verdictService?: { url: string; publicKey: string; location: SourceLocation };
}

export interface KnownBadSourcePolicy {
  name: string;
  location: SourceLocation;
  /** where `db update --from <name>` reads the snapshot; its bundle is at `<url>.sigstore.json` */
  url?: string;
  trust: string[];
  signers: Signer[];
}

export interface Policy {
  file: string;
  version: 1;
  mode: Mode;
  trustRoots: TrustRootDeclaration[];
  /** The defaults, as a pseudo-rule matching every package (index -1, id "defaults"). */
  defaults: Rule;
  rules: Rule[];
  exceptions: PolicyException[];
  /** The `scripts` section: whose code may run on behalf of dependencies. */
  scripts: ScriptsPolicy;
  /** The `knownBad` section; absent when the policy has none. */
  knownBad?: KnownBadPolicy;
  /** The policy's own `extends` entries (its bases are merged in by policy/extends.ts). */
  extends?: ExtendsReference[];
  /** What a policy extending this one may relax (accumulated over every base once merged). */
  permits?: Permits;
  /** The files this policy was merged from, bases first; absent for a single file. */
  layers?: PolicyLayer[];
}
