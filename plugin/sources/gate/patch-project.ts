import { type InstallOptions, Project } from '@yarnpkg/core';
import { runInstallGate } from './install-gate';

const PATCHED = Symbol.for('tollgate.fetchEverything.patched');

/**
 * Yarn has no hook between fetch and link. Wrapping Project#fetchEverything runs the gate once every
 * package is resolved and in the cache (whatever the cache state) and before persist() writes yarn.lock
 * and linkEverything() runs scripts. The plugin factory runs more than once per command: patch once.
 */
export function installGate(): void {
  const registry = globalThis as unknown as Record<symbol, boolean>;
  if (registry[PATCHED]) return;
  registry[PATCHED] = true;
  const original = Project.prototype.fetchEverything;
  Project.prototype.fetchEverything = async function (this: Project, opts: InstallOptions) {
    await original.call(this, opts);
    await runInstallGate(this, opts);
  };
}
