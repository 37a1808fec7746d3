import type { LocatorHash, Project } from '@yarnpkg/core';
import { TarballCaptures } from './engine/captures';

/**
 * State shared by the gate and the hooks. Yarn evaluates the plugin factory more than once per command,
 * and the fetchEverything patch comes from the first evaluation while the hooks come from the last: any
 * module-level state would be split between copies, so it lives on globalThis under one symbol.
 */
interface ProcessState {
  captures: TarballCaptures;
  /** locators the gate allowed in this process: only their lifecycle scripts may run */
  allowedByProject: WeakMap<Project, Set<LocatorHash>>;
}

const KEY = Symbol.for('tollgate.process-state');

export function processState(): ProcessState {
  const holder = globalThis as unknown as Record<symbol, ProcessState | undefined>;
  holder[KEY] ??= { captures: new TarballCaptures(), allowedByProject: new WeakMap() };
  return holder[KEY];
}
