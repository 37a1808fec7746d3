// One sentence per violation code, for people reading SARIF results in a code-scanning UI: what the
// code means and the usual fix. The policy reference (`yarn tollgate policy reference`) has the rest.
import type { ViolationCode } from '../../policy';

export const VIOLATION_HELP: Record<ViolationCode, { summary: string; fix: string }> = {
  'source-not-allowed': {
    summary: 'The package comes from a source (git, http, file, exec...) its rule does not list.',
    fix: 'Install it from a registry, or add the source to the rule’s `sources` after reviewing it.',
  },
  'source-scripts-not-allowed': {
    summary:
      'Fetching this git or exec dependency runs its own code, and no `scripts.allow` entry allows it.',
    fix: 'Review the code and add a `scripts.allow` entry (git: with its repository), or depend on a registry release.',
  },
  'registry-not-allowed': {
    summary:
      'A name bound to a registry came from another registry, a non-npm source, or a tarball URL on another origin (dependency confusion).',
    fix: 'Map the name or scope to its registry in .yarnrc.yml, or fix the dependency if the name is not yours.',
  },
  'alias-of-protected-name': {
    summary:
      'A protected name resolves to another package (npm alias, resolutions entry, patch or edited yarn.lock).',
    fix: 'Depend on the protected package itself, or remove the alias.',
  },
  'registry-unknown': {
    summary: 'A bound name whose registry could not be determined.',
    fix: 'Configure the registry of its scope in .yarnrc.yml.',
  },
  'evidence-invalid': {
    summary: 'Evidence was present but did not verify, or is for another package.',
    fix: 'Find out why the bundle or signature fails (`yarn tollgate explain <package>`); never ignore it.',
  },
  'evidence-unavailable': {
    summary:
      'Evidence could not be obtained or tied to the installed bytes (a source did not answer, offline without a record).',
    fix: 'Make the source reachable or fix its URL in .yarnrc.yml; offline, commit the evidence file from an online install.',
  },
  'evidence-missing': {
    summary: 'The rule requires evidence (a signature or provenance) and none verified.',
    fix: 'Ask the publisher to sign or publish with provenance, or lower the requirement for this package with a reason.',
  },
  'evidence-insufficient': {
    summary: 'Some evidence verified, but below the level the rule requires.',
    fix: 'Ask the publisher for the required level, or adjust the rule.',
  },
  'trust-root-not-allowed': {
    summary: 'The only evidence was verified by a Sigstore instance the rule does not trust.',
    fix: 'Add the trust root to the rule’s `trust` if that instance should count.',
  },
  'signer-mismatch': {
    summary: 'Signed by an identity the rule does not list.',
    fix: 'If the new identity is legitimate, add it to the rule’s `signers`; otherwise treat it as a compromise.',
  },
  'provenance-mismatch': {
    summary: 'The provenance contradicts its own signing certificate.',
    fix: 'Treat it as forged provenance; report it to the publisher.',
  },
  'identity-changed': {
    summary: 'The signer identity differs from the one pinned for this package.',
    fix: 'Check the change with the publisher, then `yarn tollgate approve <package>@<version> --reason ...`.',
  },
  'evidence-downgrade': {
    summary: 'The evidence is weaker than what was accepted for this package before.',
    fix: 'Check with the publisher, then `yarn tollgate approve <package>@<version> --reason ...`.',
  },
  'release-too-new': {
    summary: 'The release is younger than the rule’s `minReleaseAge`.',
    fix: 'Wait, or pin the previous version.',
  },
  'release-age-unknown': {
    summary: 'No usable release time (no signed log time, and no registry time allowed or available).',
    fix: 'Check online, or allow the unsigned registry time (`unsignedTimeFallback`).',
  },
  'exception-expired': {
    summary: 'A matching exception has expired.',
    fix: 'Renew it with a new reason and expiry, or fix the package.',
  },
  'known-bad': {
    summary:
      'A known-bad record (OSV/MAL, the project’s .tollgate.known-bad.yml, a signed snapshot or the verdict service) names this release, its tarball, a bundle of it or its signer.',
    fix: 'Remove or replace the release and treat the machine that installed it as compromised; only a digest-specific false positive may be waived (an exception with `integrity`).',
  },
  'known-bad-unchecked': {
    summary:
      'The known-bad database is older than `knownBad.maxAge` (or absent) under `stale: deny`, or the verdict service did not answer.',
    fix: 'Run `yarn tollgate db update`, or make the verdict service reachable; never waivable.',
  },
  'tampered-tarball': {
    summary: 'The tarball is not the one the registry published.',
    fix: 'Treat as an attack: find who replaced it; never waivable.',
  },
  'tampered-archive': {
    summary:
      'The archive Yarn would install is not built from the registry’s tarball (cache, mirror or lockfile checksum altered), or a patched archive is not Yarn’s patch of its base.',
    fix: 'Restore yarn.lock and the cache from a trusted state; never waivable.',
  },
  'tampered-manifest': {
    summary: 'The tarball’s own package.json names another package or version (manifest confusion).',
    fix: 'Treat as an attack or a broken release; never waivable.',
  },
  'tampered-lockfile': {
    summary: 'yarn.lock resolves a descriptor to a package no resolver could.',
    fix: 'Restore yarn.lock from a trusted state and review who edited it; never waivable.',
  },
  'tampered-evidence-file': {
    summary: 'The committed evidence record names another tarball than the one installed.',
    fix: 'Delete the record so an online install derives it again, and review who changed it; never waivable.',
  },
};
