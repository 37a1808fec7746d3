import {
  type Configuration,
  type Descriptor,
  type Fetcher,
  type FetchOptions,
  type Locator,
  type Project,
  type Resolver,
  structUtils,
} from '@yarnpkg/core';
import { classifyLocator } from '../engine/locators';
import { processState } from '../process-state';
import { gateIsOff } from './gate-policy';

const PATCHED = Symbol.for('tollgate.makeFetcher.patched');

/**
 * Yarn fetches some packages while it is still resolving: a git dependency is cloned and packed (its
 * prepare/prepack scripts run, and Yarn honours the repository's own .yarnrc.yml) and an exec:
 * generator runs, all before any hook after resolution could object. Every fetcher Yarn makes goes
 * through here, so each fetch is judged on what needs no bytes first and refused before the inner
 * fetcher runs. (Which package a download belongs to is told by the context its cache loader runs in:
 * fetch-context.ts.)
 */
export function installFetchGuard(configurationClass: { prototype: Configuration }): void {
  const registry = globalThis as unknown as Record<symbol, boolean>;
  if (registry[PATCHED]) return;
  registry[PATCHED] = true;
  const makeFetcher = configurationClass.prototype.makeFetcher;
  // Yarn's type says MultiFetcher; every caller only uses the Fetcher interface it implements.
  configurationClass.prototype.makeFetcher = function (this: Configuration) {
    return guardFetcher(makeFetcher.call(this)) as ReturnType<Configuration['makeFetcher']>;
  };
  const makeResolver = configurationClass.prototype.makeResolver;
  configurationClass.prototype.makeResolver = function (this: Configuration) {
    return guardResolver(makeResolver.call(this));
  };
}

/**
 * Resolving a git descriptor already talks to its host (`git ls-remote`); a denied source should not
 * even be asked. Only candidates are intercepted: resolving a locator goes through the fetcher.
 */
function guardResolver<T extends Resolver>(inner: T): T {
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'getCandidates') {
        const getCandidates: Resolver['getCandidates'] = async (descriptor, dependencies, opts) => {
          await refuseDescriptor(descriptor, opts.project);
          return target.getCandidates(descriptor, dependencies, opts);
        };
        return getCandidates;
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

// What decides is fetch-refusal.ts, loaded on the first package these quick answers do not settle
// (and kept: each bundled `import()` copies the module's exports into a new object).
let refusalsModule: Promise<typeof import('./fetch-refusal')> | undefined;
function refusals() {
  refusalsModule ??= import('./fetch-refusal');
  return refusalsModule;
}

async function refuseDescriptor(descriptor: Descriptor, project: Project): Promise<void> {
  if (gateIsOff(project.configuration)) return;
  const real = structUtils.isVirtualDescriptor(descriptor)
    ? structUtils.devirtualizeDescriptor(descriptor)
    : descriptor;
  const classified = classifyLocator(structUtils.makeLocator(real, real.range));
  // Registry names are judged at the network layer (binding) and after the fetch (evidence).
  if (classified.kind === 'npm' || classified.kind === 'patch' || classified.kind === 'workspace') return;
  await (await refusals()).refuseClassified(classified, project);
}

function guardFetcher(inner: Fetcher): Fetcher {
  return {
    supports: (locator, opts) => inner.supports(locator, opts),
    getLocalPath: (locator, opts) => inner.getLocalPath(locator, opts),
    async fetch(locator, opts) {
      await refuseFetch(locator, opts);
      return inner.fetch(locator, opts);
    },
  };
}

async function refuseFetch(locator: Locator, opts: FetchOptions): Promise<void> {
  const project = opts.project;
  const configuration = project.configuration;
  if (gateIsOff(configuration)) return;
  if (project.tryWorkspaceByLocator(locator)) return;
  const base = structUtils.isVirtualLocator(locator) ? structUtils.devirtualizeLocator(locator) : locator;
  if (processState().stageOneAllowed.has(project)) {
    // by name and reference: Yarn's hashes alone do not tell `abc` from `@a/bc` (install-graph.ts)
    const stored = project.storedPackages.get(base.locatorHash);
    if (
      stored &&
      stored.scope === base.scope &&
      stored.name === base.name &&
      stored.reference === base.reference
    )
      return;
  }
  await (await refusals()).refuseLocator(base, project);
}
