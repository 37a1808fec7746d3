// The shapes of the known-bad database: what an index holds per package, and the list entries
// (bundles, compromised signers) that are not about one package name.

/** The registry key of records about the public registry (OSV records say nothing else by default). */
export const PUBLIC_REGISTRY = 'public';

/** One OSV range, as evaluated (SEMVER and ECOSYSTEM; GIT ranges say nothing about npm versions). */
export interface IndexRange {
  type: 'SEMVER' | 'ECOSYSTEM';
  /** [kind, version] in the record's order: kind i = introduced, f = fixed, l = last_affected */
  events: Array<['i' | 'f' | 'l', string]>;
}

/** One known-bad record about one package (an OSV `affected[]` entry, or a list's release entry). */
export interface IndexEntry {
  /** record id */
  id: string;
  summary?: string;
  link?: string;
  aliases?: string[];
  /** OSV `modified` */
  modified?: string;
  /** OSV `withdrawn`: the record stops counting from then on */
  withdrawn?: string;
  /** exact versions */
  versions?: string[];
  ranges?: IndexRange[];
  /** tarball sha512 SRIs */
  integrity?: string[];
  /** where it comes from (a file in the source, or a list file with its location) */
  origin: string;
}

/** A bundle named by digest. */
export interface BundleEntry {
  id: string;
  /** sha256 hex of the bundle JSON */
  digest: string;
  summary?: string;
  link?: string;
  origin: string;
}

/** A compromised signer identity and the window (transparency-log time) its signatures are bad in. */
export interface SignerEntry {
  id: string;
  issuer: string;
  subject?: PatternSource;
  repository?: string;
  workflow?: PatternSource;
  ref?: PatternSource;
  /** ISO times; `until` absent = still compromised */
  from: string;
  until?: string;
  summary?: string;
  link?: string;
  origin: string;
}

/** A policy pattern as written (exact string, or { glob } / { regex }), compiled on load. */
export type PatternSource = string | { exact?: string; glob?: string; regex?: string };

export interface IndexCounts {
  /** records read (valid, npm or not) */
  records: number;
  /** package entries indexed */
  entries: number;
  /** records withdrawn (kept, never matched once withdrawn) */
  withdrawn: number;
  /** records without an npm package */
  otherEcosystems: number;
  /** files that are not valid OSV records (or list files), skipped */
  invalid: number;
  bundles: number;
  signers: number;
}

/** What an index says about itself. */
export interface IndexHeader {
  format: typeof INDEX_FORMAT;
  /** where it was imported from, as the user named it */
  source: string;
  /** when `db update` built it */
  importedAt: string;
  /**
   * How fresh the data is: the transparency-log time of a signed snapshot's signature, else the import
   * time. The database's age is measured from it.
   */
  asOf: string;
  signed?: { by: string; issuer: string; integratedTime?: string; bundleDigest: string; source: string };
  counts: IndexCounts;
  /** the newest OSV `modified` time among the records */
  newestModified?: string;
  bundles: BundleEntry[];
  signers: SignerEntry[];
  /** the first problems met, for `db status` and `db update` (file: what) */
  problems: string[];
}

export const INDEX_FORMAT = 'tollgate-known-bad-index-v1';
