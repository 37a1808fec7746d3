// Stage 1: what a package is and what can be decided about it without a single byte of it: where it
// comes from, whether its source may run code when fetched, the registry binding, the names it is
// linked under, and lockfile entries no resolver could have written. The install gate runs this
// stage before Yarn fetches anything (gate/prefetch.ts), so a denied source is never downloaded,
// cloned or run.
import { structUtils } from '@yarnpkg/core';
import type { Decision, PackageFacts } from '../../../../policy/decision';
import { evaluate } from '../../../../policy/evaluate';
import { normalizeRegistryUrl } from '../../../../policy/registry-url';
import type { EngineContext, PolicyView } from '../context';
import type { ClassifiedLocator } from '../locators';
import { registryFor } from '../registries';
import type { PackageCheck } from './types';

export interface Classified {
  check: PackageCheck;
  /** the npm package whose bytes are judged: the package itself, or the base of a patch */
  npm: ClassifiedLocator | null;
  /** the registry the npm package comes from (normalised) */
  registry?: string;
  facts: PackageFacts;
  /** the decision on what needs no bytes; a denial here ends the check */
  prefetch: Decision;
}

/** The npm package a check judges: itself, or the base of a patch. */
export function judgedNpm(classified: ClassifiedLocator): ClassifiedLocator | null {
  return classified.kind === 'npm' ? classified : classified.base?.kind === 'npm' ? classified.base : null;
}

export function registryOf(ctx: Pick<EngineContext, 'configuration'>, npm: ClassifiedLocator): string {
  const raw = registryFor(npm.locator, ctx.configuration);
  const normalized = normalizeRegistryUrl(raw);
  return 'url' in normalized ? normalized.url : raw;
}

/** Where a non-npm source points: the git remote, the archive URL, the exec script. */
function sourceUrlOf(classified: ClassifiedLocator): string | undefined {
  if (classified.kind === 'npm' || classified.kind === 'workspace' || classified.kind === 'patch')
    return undefined;
  return classified.locator.reference.replace(/^exec:/, '');
}

export function factsOf(
  classified: ClassifiedLocator,
  registry: string | undefined,
  extra: Partial<PackageFacts> = {},
): PackageFacts {
  const facts: PackageFacts = {
    name: classified.name,
    version: classified.version ?? '0.0.0',
    source: classified.kind,
    locator: structUtils.stringifyLocator(classified.locator),
  };
  if (registry !== undefined && classified.kind === 'npm') facts.registry = registry;
  const sourceUrl = sourceUrlOf(classified);
  if (sourceUrl !== undefined) facts.sourceUrl = sourceUrl;
  if (classified.kind === 'npm' && classified.archiveUrl) facts.tarballUrl = classified.archiveUrl;
  if (classified.base) facts.base = factsOf(classified.base, registry);
  return { ...facts, ...extra };
}

/**
 * The facts of a locator, with what the project's edges say about it (the names it is linked under,
 * lockfile tampering). Without edges: what the fetch guard knows when Yarn is about to fetch it.
 */
export function packageFacts(
  view: Pick<PolicyView, 'configuration'>,
  classified: ClassifiedLocator,
  edges: { linkNames?: readonly string[]; tampering?: PackageCheck['tampering'] } = {},
): PackageFacts {
  const npm = judgedNpm(classified);
  const extra: Partial<PackageFacts> = {};
  if (edges.linkNames?.some((n) => n !== classified.name)) extra.linkNames = [...edges.linkNames].sort();
  if (edges.tampering?.length) extra.tampering = [...edges.tampering];
  return factsOf(classified, npm ? registryOf(view, npm) : undefined, extra);
}

export function prefetchDecision(view: PolicyView, facts: PackageFacts): Decision {
  return evaluate({
    policy: view.policy,
    package: facts,
    now: view.now,
    modeOverride: view.modeOverride ?? undefined,
    stage: 'prefetch',
  });
}

export function classify(ctx: EngineContext, check: PackageCheck): Classified {
  const { classified } = check;
  const npm = judgedNpm(classified);
  const facts = packageFacts(ctx, classified, check);
  const prefetch = prefetchDecision(ctx, facts);
  const registry = npm ? registryOf(ctx, npm) : undefined;
  return { check, npm, ...(registry !== undefined ? { registry } : {}), facts, prefetch };
}
