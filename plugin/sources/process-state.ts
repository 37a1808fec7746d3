import type { Configuration, LocatorHash, Project } from '@yarnpkg/core';
import type { Decision } from '../../policy';
import { TarballCaptures } from './engine/captures';
import type { ConfigurationProblem, LoadedPolicy, PolicySummary } from './engine/policy-load';

/**
 * State shared by the gate and the hooks. Yarn evaluates the plugin factory more than once per command,
 * and the fetchEverything patch comes from the first evaluation while the hooks come from the last: any
 * module-level state would be split between copies, so it lives on globalThis under one symbol.
 */
interface ProcessState {
  captures: TarballCaptures;
  /** locators the gate allowed in this process: only their lifecycle scripts may run */
  allowedByProject: WeakMap<Project, Set<LocatorHash>>;
  /** the policy each configuration was checked against (or why it cannot be) */
  policies: WeakMap<Configuration, { loaded: LoadedPolicy } | { problem: ConfigurationProblem }>;
  /** what install verdicts need of each configuration's policy, valid (policy-load.ts) */
  policySummaries: WeakMap<Configuration, PolicySummary>;
  /** decisions made before fetching, per locator, so the fetch guard never decides twice */
  prefetched: WeakMap<Project, Map<LocatorHash, Decision>>;
  /** projects whose stage 1 an earlier passing install of the same graph vouches for (install-verdict.ts) */
  stageOneAllowed: WeakSet<Project>;
}

const KEY = Symbol.for('tollgate.process-state');

export function processState(): ProcessState {
  const holder = globalThis as unknown as Record<symbol, ProcessState | undefined>;
  holder[KEY] ??= {
    captures: new TarballCaptures(),
    allowedByProject: new WeakMap(),
    policies: new WeakMap(),
    policySummaries: new WeakMap(),
    prefetched: new WeakMap(),
    stageOneAllowed: new WeakSet(),
  };
  return holder[KEY];
}
