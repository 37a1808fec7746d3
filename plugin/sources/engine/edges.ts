// Stage 1 of a package check, part one: the descriptor → locator edges of the project. Yarn links a
// package under the name of every descriptor that resolves to it, so the names code imports come from
// these edges, not from the package. They also show a yarn.lock whose entries were edited: Yarn trusts
// the lockfile's `resolution:` for a descriptor without asking whether that descriptor could ever
// resolve to it (`yarn install --check-resolutions` would, and is off by default).
import {
  type Descriptor,
  type Locator,
  type LocatorHash,
  type Package,
  type Project,
  structUtils,
} from '@yarnpkg/core';
import semver from 'semver';
import type { TamperingFinding } from '../../../policy';

export interface EdgeFacts {
  /** every name each package is linked under (its own included when a descriptor of that name resolves to it) */
  linkNames: Map<LocatorHash, Set<string>>;
  /** the descriptors that resolve to each package, as yarn.lock spells them (recorded in the evidence file) */
  descriptors: Map<LocatorHash, string[]>;
  /** edges no resolver could have produced: a hand-edited yarn.lock */
  tampering: Map<LocatorHash, TamperingFinding[]>;
}

const real = (locator: Locator): Locator =>
  structUtils.isVirtualLocator(locator) ? structUtils.devirtualizeLocator(locator) : locator;

interface Read {
  resolutions: Project['storedResolutions'];
  descriptors: Project['storedDescriptors'];
  sizes: string;
  facts: EdgeFacts;
}

const read = new WeakMap<Map<LocatorHash, Package>, Read>();

/**
 * Reads every resolution the project holds. `packages` is the map the locators live in: the resolved
 * packages during an install, yarn.lock's entries for commands. An install reads them before and after
 * Yarn's fetch step, which writes only checksums: the second reading is the first, as long as Yarn
 * holds the same maps (resolving again replaces them) of the same sizes.
 */
export function projectEdges(project: Project, packages: Map<LocatorHash, Package>): EdgeFacts {
  const sizes = `${packages.size} ${project.storedResolutions.size} ${project.storedDescriptors.size}`;
  const earlier = read.get(packages);
  if (
    earlier &&
    earlier.resolutions === project.storedResolutions &&
    earlier.descriptors === project.storedDescriptors &&
    earlier.sizes === sizes
  )
    return earlier.facts;
  const facts = readEdges(project, packages);
  read.set(packages, {
    resolutions: project.storedResolutions,
    descriptors: project.storedDescriptors,
    sizes,
    facts,
  });
  return facts;
}

function readEdges(project: Project, packages: Map<LocatorHash, Package>): EdgeFacts {
  const facts = {
    linkNames: new Map<LocatorHash, Set<string>>(),
    descriptors: new Map<LocatorHash, Set<string>>(),
    tampering: new Map<LocatorHash, TamperingFinding[]>(),
  };
  for (const [descriptorHash, locatorHash] of project.storedResolutions) {
    const stored = project.storedDescriptors.get(descriptorHash);
    const pkg = packages.get(locatorHash);
    if (!stored || !pkg) continue;
    const descriptor = structUtils.isVirtualDescriptor(stored)
      ? structUtils.devirtualizeDescriptor(stored)
      : stored;
    const locator = real(pkg);
    if (project.tryWorkspaceByLocator(locator)) continue;
    const hash = locator.locatorHash;
    setIn(facts.linkNames, hash).add(structUtils.stringifyIdent(descriptor));
    setIn(facts.descriptors, hash).add(structUtils.stringifyDescriptor(descriptor));
    const problem = impossibleResolution(descriptor, locator);
    if (problem) {
      const findings = facts.tampering.get(hash) ?? [];
      facts.tampering.set(hash, findings);
      findings.push({
        code: 'tampered-lockfile',
        message: `yarn.lock resolves ${structUtils.stringifyDescriptor(descriptor)} to ${structUtils.stringifyLocator(locator)}, which that descriptor cannot resolve to (${problem}): the lockfile was edited`,
        source: 'yarn.lock',
        expected: expectedFor(descriptor),
        actual: structUtils.stringifyLocator(locator),
      });
    }
  }
  for (const finding of hashTwins(project, packages)) {
    const findings = facts.tampering.get(finding.hash) ?? [];
    facts.tampering.set(finding.hash, findings);
    findings.push(finding.tampering);
  }
  return {
    linkNames: facts.linkNames,
    descriptors: new Map([...facts.descriptors].map(([hash, set]) => [hash, [...set].sort()])),
    tampering: facts.tampering,
  };
}

const sameSpelling = (a: Descriptor, b: Descriptor) =>
  a.scope === b.scope && a.name === b.name && a.range === b.range;

/**
 * Dependencies that Yarn looks up under the hash of another descriptor. Yarn's hashes concatenate
 * their parts (`makeHash(scope, name)`), so `abc` and `@a/bc` hash alike, and a yarn.lock entry for
 * `@a/bc@npm:^1.0.0` answers a dependency on `abc@npm:^1.0.0`: Yarn links `@a/bc`'s package as `abc`,
 * while the entry itself reads as a consistent `@a/bc` edge. No resolver writes such an entry.
 */
function* hashTwins(
  project: Project,
  packages: Map<LocatorHash, Package>,
): Generator<{ hash: LocatorHash; tampering: TamperingFinding }> {
  for (const dependent of packages.values()) {
    for (const dependency of dependent.dependencies.values()) {
      const stored = project.storedDescriptors.get(dependency.descriptorHash);
      if (!stored || sameSpelling(stored, dependency)) continue;
      const locatorHash = project.storedResolutions.get(dependency.descriptorHash);
      const pkg = locatorHash ? packages.get(locatorHash) : undefined;
      if (!pkg) continue;
      const locator = real(pkg);
      yield {
        hash: locator.locatorHash,
        tampering: {
          code: 'tampered-lockfile',
          message: `${structUtils.stringifyLocator(dependent)} depends on ${structUtils.stringifyDescriptor(dependency)}, and yarn.lock answers it with its entry for ${structUtils.stringifyDescriptor(stored)} (Yarn's hashes do not tell the two names apart), so ${structUtils.stringifyLocator(locator)} would be linked as ${structUtils.stringifyIdent(dependency)}: the lockfile was edited`,
          source: 'yarn.lock',
          expected: expectedFor(dependency),
          actual: structUtils.stringifyLocator(locator),
        },
      };
    }
  }
}

function setIn<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

/** What an npm descriptor names: its own ident and range, or the aliased package's (`npm:other@range`). */
function npmTarget(descriptor: Descriptor): { ident: string; range: string } | null {
  const range = structUtils.tryParseRange(descriptor.range);
  if (range?.protocol !== 'npm:' || range.source !== null) return null;
  const selector = range.selector;
  const at = selector.lastIndexOf('@');
  if (at > 0) {
    const ident = structUtils.tryParseIdent(selector.slice(0, at));
    if (ident) return { ident: structUtils.stringifyIdent(ident), range: selector.slice(at + 1) };
  }
  return { ident: structUtils.stringifyIdent(descriptor), range: selector };
}

function expectedFor(descriptor: Descriptor): string {
  const target = npmTarget(descriptor);
  if (target) return `${target.ident}@npm:<a version satisfying ${target.range}>`;
  return `a locator of ${structUtils.stringifyIdent(descriptor)}`;
}

// Ranges repeat across a lockfile's edges; parsing each once is most of what checking them costs.
const ranges = new Map<string, semver.Range | null>();

/** The range as semver.satisfies reads it (prereleases included); null for what is not a range. */
function rangeOf(text: string): semver.Range | null {
  let range = ranges.get(text);
  if (range === undefined) {
    try {
      range = new semver.Range(text, { includePrerelease: true });
    } catch {
      range = null;
    }
    ranges.set(text, range);
  }
  return range;
}

/** Why no resolver could turn `descriptor` into `locator`; null when it could. */
export function impossibleResolution(descriptor: Descriptor, locator: Locator): string | null {
  const locatorIdent = structUtils.stringifyIdent(locator);
  const target = npmTarget(descriptor);
  if (target) {
    const reference = structUtils.tryParseRange(locator.reference);
    if (target.ident !== locatorIdent) return `it names ${target.ident}`;
    if (reference?.protocol !== 'npm:') return `an npm: descriptor resolves to an npm: package`;
    const version = reference.selector;
    // Yarn's npm resolvers lock exact versions only (a dist-tag or a range is resolved first)
    if (!semver.valid(version)) return `${version} is not a version: yarn.lock records exact versions`;
    const range = rangeOf(target.range);
    if (range && !range.test(version)) return `${version} does not satisfy ${target.range}`;
    return null;
  }
  // Every other resolver keeps the descriptor's name; only an npm alias may change it.
  if (structUtils.stringifyIdent(descriptor) !== locatorIdent)
    return `only an npm: alias may resolve to another name`;
  return null;
}
