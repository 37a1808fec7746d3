// Types of organisation policies: what a policy extends, what a base permits those extending it to
// relax, and where each part of a merged policy came from.
import type { SourceLocation } from './diagnostics';
import type { Mode, ScriptsDefault, Signer } from './model';
import type { NameSelector } from './package-selector';

/** One entry of `extends`. */
export interface ExtendsReference {
  index: number;
  location: SourceLocation;
  kind: 'path' | 'url';
  /** kind path: relative to the policy that names it */
  path: string;
  /** kind url */
  url: string;
  /** the base's bytes must hash to this (hex) */
  sha256?: string;
  /** the base must carry a Sigstore bundle signed by one of `signers`, verified by one of `trust` */
  signature?: { signers: Signer[]; trust: string[]; bundle?: string };
}

/** What a base lets a policy that extends it relax (everything else may only be tightened). */
export interface Permits {
  location?: SourceLocation;
  /** the lowest mode an extending policy may set */
  mode: Mode;
  exceptions: boolean;
  scriptAllowances: 'none' | 'signed' | 'any';
  /** the loosest scripts.default an extending policy may set */
  scriptsDefault: ScriptsDefault;
  /** names an extending policy may relax freely */
  packages: NameSelector[];
}

/** A file a merged policy is made of, in merge order (bases first, the repository's own file last). */
export interface PolicyLayer {
  /** as shown in decisions: a path relative to the project, or a URL */
  file: string;
  /** how its bytes were checked: a path read from the repository, a sha256 pin, a verified signer */
  origin: string;
  sha256: string;
}
