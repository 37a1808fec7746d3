// Matching a release against the known-bad sources. Names are never confused across registries: a
// record is about one registry's package (the public registry unless it says otherwise), and a name the
// policy binds to another registry is that registry's package, so a public record for `acme-utils`
// never speaks of the company's private `acme-utils`. Within a registry and name, a record matches by
// version (OSV semantics) or by tarball digest; a withdrawn record matches nothing. Bundles match by
// digest, compromised signers by identity and transparency-log time.
import { observeBundle } from '../policy/claims';
import type { KnownBadMatch } from '../policy/decision';
import type { VerifiedBundle } from '../policy/evidence/types';
import type { Policy, Signer } from '../policy/model';
import { compilePattern, isPatternProblem, type StringPattern } from '../policy/patterns';
import { allowedRegistries } from '../policy/registry-binding';
import { matchSigner } from '../policy/signer-match';
import type { OpenIndex } from './index-file';
import type { KnownBadList } from './list-file';
import { type BundleEntry, type IndexEntry, PUBLIC_REGISTRY, type SignerEntry } from './model';
import { osvLink } from './osv';
import { coversVersion } from './versions';

/** The known-bad sources of a run: imported indexes and lists (the project's own file). */
export interface KnownBadSources {
  indexes: Array<{ index: OpenIndex; label: string }>;
  lists: KnownBadList[];
}

export interface Release {
  name: string;
  version: string;
  /** registries whose records speak of this package: the one it came from, and PUBLIC_REGISTRY when public */
  registries: readonly string[];
  /** sha512 SRI of the bound tarball */
  integrity?: string;
  /** bundles verified for it (any trust root: a compromised identity's signature is bad wherever it verified) */
  bundles?: readonly VerifiedBundle[];
}

/**
 * The registry keys a package's records are filed under: the registry it came from (a company's own
 * list names its registry), and the public registry unless the policy binds the name to registries
 * none of which is public. An unbound name is the public package wherever it was fetched from: company
 * registries proxy the public one, and a private name the policy does not bind is exposed to
 * dependency confusion anyway.
 */
export function registriesFor(
  policy: Policy,
  name: string,
  registry: string | undefined,
  defaultPublic: readonly string[],
): string[] {
  const keys = registry ? [registry] : [];
  const publicOnes = new Set([...defaultPublic, ...(policy.knownBad?.publicRegistries ?? [])]);
  const binding = allowedRegistries(policy, name);
  if (!binding || binding.registries.some((r) => publicOnes.has(r))) keys.push(PUBLIC_REGISTRY);
  return keys;
}

const withdrawnAt = (entry: { withdrawn?: string }, now: Date) =>
  entry.withdrawn !== undefined && Date.parse(entry.withdrawn) <= now.getTime();

function matchOf(
  entry: IndexEntry | BundleEntry | SignerEntry,
  by: KnownBadMatch['by'],
  detail: string,
  source: string,
): KnownBadMatch {
  const match: KnownBadMatch = {
    id: entry.id,
    by,
    detail,
    source: entry.origin.startsWith(source) ? entry.origin : `${source}: ${entry.origin}`,
  };
  if (entry.summary) match.summary = entry.summary;
  const link = entry.link ?? osvLink(entry.id);
  if (link) match.link = link;
  if ('aliases' in entry && entry.aliases?.length) match.aliases = entry.aliases;
  return match;
}

function entryMatch(entry: IndexEntry, release: Release, source: string, now: Date): KnownBadMatch | null {
  if (withdrawnAt(entry, now)) return null;
  if (release.integrity && entry.integrity?.includes(release.integrity))
    return matchOf(entry, 'digest', `tarball ${release.integrity.slice(0, 23)}… listed`, source);
  const why = coversVersion(entry, release.version);
  return why ? matchOf(entry, 'version', why, source) : null;
}

const patterns = new Map<string, StringPattern | null>();
function pattern(spec: SignerEntry['subject']): StringPattern | undefined {
  if (spec === undefined) return undefined;
  const key = JSON.stringify(spec);
  if (!patterns.has(key)) {
    const compiled = compilePattern(spec);
    patterns.set(key, isPatternProblem(compiled) ? null : compiled);
  }
  // A pattern that does not compile was refused when the list loaded; never match on one here.
  return patterns.get(key) ?? { kind: 'exact', source: '', test: () => false };
}

function asSigner(entry: SignerEntry): Signer {
  const signer: Signer = {
    index: 0,
    location: { file: entry.origin, line: 1, column: 1 },
    issuer: entry.issuer,
  };
  const subject = pattern(entry.subject);
  if (subject) signer.subject = subject;
  if (entry.repository) signer.repository = entry.repository;
  const workflow = pattern(entry.workflow);
  if (workflow) signer.workflow = workflow;
  const ref = pattern(entry.ref);
  if (ref) signer.ref = ref;
  return signer;
}

function signerMatch(entry: SignerEntry, bundle: VerifiedBundle, release: Release, source: string) {
  if (!bundle.signer) return null;
  const { identity } = observeBundle(bundle);
  if (!matchSigner(asSigner(entry), identity, release).ok) return null;
  const from = Date.parse(entry.from);
  const until = entry.until === undefined ? Number.POSITIVE_INFINITY : Date.parse(entry.until);
  const at = bundle.integratedTime === undefined ? undefined : bundle.integratedTime * 1000;
  // A signature by a compromised identity with no signed time cannot be placed outside the window.
  if (at !== undefined && (at < from || at >= until)) return null;
  const when =
    at === undefined ? 'at an unknown time (no transparency-log time)' : `at ${new Date(at).toISOString()}`;
  return matchOf(
    entry,
    'signer',
    `signed by ${bundle.signer.subject} (${bundle.signer.issuer}) ${when}, inside ${entry.from} – ${entry.until ?? 'now'}`,
    source,
  );
}

/** Every known-bad record that names the release. */
export function matchRelease(sources: KnownBadSources, release: Release, now: Date): KnownBadMatch[] {
  const matches: KnownBadMatch[] = [];
  const bundles = release.bundles ?? [];
  const consider = (
    source: string,
    lookup: (registry: string) => IndexEntry[],
    listBundles: readonly BundleEntry[],
    listSigners: readonly SignerEntry[],
  ) => {
    for (const registry of release.registries) {
      for (const entry of lookup(registry)) {
        const match = entryMatch(entry, release, source, now);
        if (match) matches.push(match);
      }
    }
    for (const entry of listBundles) {
      const bundle = bundles.find((b) => b.bundleDigest === entry.digest);
      if (bundle)
        matches.push(
          matchOf(entry, 'bundle', `bundle ${entry.digest.slice(0, 16)}… from ${bundle.source}`, source),
        );
    }
    for (const entry of listSigners) {
      for (const bundle of bundles) {
        const match = signerMatch(entry, bundle, release, source);
        if (match) {
          matches.push(match);
          break;
        }
      }
    }
  };
  for (const { index, label } of sources.indexes) {
    consider(
      label,
      (registry) => index.lookup(registry, release.name),
      index.header.bundles,
      index.header.signers,
    );
  }
  for (const list of sources.lists) {
    consider(
      list.file,
      (registry) =>
        list.releases.filter((r) => r.registry === registry && r.name === release.name).map((r) => r.entry),
      list.bundles,
      list.signers,
    );
  }
  return matches;
}
