// What an install verdict is keyed on, per package: the resolved graph as Yarn holds it in memory,
// read straight from Yarn's maps. Every per-package input of a decision is a function of it (the
// locator and version a package is classified by, the descriptors it is linked under and whether
// yarn.lock could have produced them, which archive gets linked, whether it is installed here), so a
// warm install recognises an unchanged graph without classifying a package, reading edges or
// building a check (that work is what a verdict hit saves, before and after Yarn's fetch step).
//
// Lines spell names, ranges and references, never Yarn's hashes: `makeHash` concatenates its parts,
// so `abc` and `@a/bc` share an ident hash (and their descriptors and locators share theirs).
import type { Cache, Descriptor, Locator, Package, Project } from '@yarnpkg/core';
import type { ArchiveDigests } from './archive-digests';
import { linkedArchive, validatedByYarn } from './lockfile-checks';

const spell = (x: Descriptor | Locator, part: string) => [x.scope, x.name, part];

function packageLine(project: Project, pkg: Package, archive: string | null | undefined): string {
  const hash = pkg.locatorHash;
  return JSON.stringify([
    'package',
    ...spell(pkg, pkg.reference),
    pkg.version,
    project.storedChecksums.get(hash) ?? null,
    project.disabledLocators.has(hash),
    project.conditionalLocators.has(hash),
    archive ?? null,
  ]);
}

/**
 * The graph before Yarn's fetch step: what stage 1 (the checks that need no bytes) depends on, plus
 * the checksums yarn.lock pins.
 */
export function graphBeforeFetch(project: Project): string[] {
  const lines: string[] = [];
  for (const pkg of project.storedPackages.values()) lines.push(packageLine(project, pkg, undefined));
  return withResolutions(project, lines);
}

/**
 * The graph after Yarn's fetch step, with the archive linked where Yarn did not validate it against
 * yarn.lock (conditional packages, checksumBehavior ignore or reset): hashed here, once per file.
 */
export async function graphAfterFetch(
  project: Project,
  cache: Cache,
  digests: ArchiveDigests,
): Promise<string[]> {
  const lines: string[] = [];
  for (const pkg of project.storedPackages.values()) {
    const archive =
      validatedByYarn(project, pkg) || project.tryWorkspaceByLocator(pkg)
        ? undefined
        : (await linkedArchive(project, cache, pkg, digests)).checksum;
    lines.push(packageLine(project, pkg, archive));
  }
  return withResolutions(project, lines);
}

interface Spelled {
  maps: [unknown, unknown, unknown];
  sizes: string;
  lines: string[];
}

const spelled = new WeakMap<Project, Spelled>();

/**
 * The resolution lines, spelled once per graph: Yarn's fetch step writes checksums only, so the
 * reading before it holds after it while Yarn keeps the same maps (resolving again replaces them)
 * of the same sizes.
 */
function resolutionLines(project: Project): string[] {
  const maps: Spelled['maps'] = [
    project.storedResolutions,
    project.storedDescriptors,
    project.storedPackages,
  ];
  const sizes = `${project.storedResolutions.size} ${project.storedDescriptors.size} ${project.storedPackages.size}`;
  const earlier = spelled.get(project);
  if (earlier && earlier.sizes === sizes && earlier.maps.every((m, i) => m === maps[i])) return earlier.lines;
  const lines: string[] = [];
  for (const [descriptorHash, locatorHash] of project.storedResolutions) {
    const descriptor = project.storedDescriptors.get(descriptorHash);
    const pkg = project.storedPackages.get(locatorHash);
    lines.push(
      JSON.stringify([
        'resolution',
        ...(descriptor ? spell(descriptor, descriptor.range) : ['?', descriptorHash]),
        ...(pkg ? spell(pkg, pkg.reference) : ['?', locatorHash]),
      ]),
    );
  }
  spelled.set(project, { maps, sizes, lines });
  return lines;
}

function withResolutions(project: Project, lines: string[]): string[] {
  for (const line of resolutionLines(project)) lines.push(line);
  return lines.sort();
}
