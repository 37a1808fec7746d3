// Builds run only for packages the gate allowed in this process and whose build the policy's `scripts`
// section approves. Two mechanisms, because Yarn runs builds two ways:
//   getDependencyMeta  the linkers ask it whether a package's build is disabled before they plan any
//                      build: a withheld package answers `built: false`, so Yarn runs none of its
//                      steps (lifecycle scripts and the implicit node-gyp rebuild, which no script hook
//                      sees) and never records the build as done: it runs once it is approved;
//   wrapScriptExecution defence in depth for lifecycle scripts: one that still reaches Yarn's script
//                      runner fails (non-zero), so that Yarn never marks that build as done either.
// And linkEverything refuses to link a project the gate has not judged in this process.
import type { Writable } from 'node:stream';
import {
  type Ident,
  type Locator,
  type LocatorHash,
  MessageName,
  type Project,
  ReportError,
  structUtils,
} from '@yarnpkg/core';
import { processState } from '../process-state';

type GetDependencyMeta = Project['getDependencyMeta'];

const ORIGINAL_META = Symbol.for('tollgate.project.getDependencyMeta');

/** The gate's answer for a locator of a project it judged in this process; undefined when it did not. */
function mayBuild(project: Project, locatorHash: LocatorHash): boolean | undefined {
  return processState().allowedByProject.get(project)?.has(locatorHash);
}

/** Whether Yarn itself would run the build of a package that has build steps. */
export function yarnWouldBuild(project: Project, locator: Locator): boolean {
  const pkg =
    project.storedPackages.get(locator.locatorHash) ?? project.originalPackages.get(locator.locatorHash);
  if (pkg && pkg.linkType !== 'HARD') return false;
  const holder = globalThis as unknown as Record<symbol, GetDependencyMeta | undefined>;
  const original = holder[ORIGINAL_META] ?? project.getDependencyMeta;
  const meta = original.call(project, locator, pkg?.version ?? null);
  if (meta.built === false) return false;
  return project.configuration.get('enableScripts') || meta.built === true;
}

function isLocator(ident: Ident): ident is Locator {
  return typeof (ident as Partial<Locator>).locatorHash === 'string';
}

export function installBuildGuard(ProjectClass: typeof Project): void {
  const holder = globalThis as unknown as Record<symbol, GetDependencyMeta | undefined>;
  if (holder[ORIGINAL_META]) return;
  const original = ProjectClass.prototype.getDependencyMeta;
  holder[ORIGINAL_META] = original;
  ProjectClass.prototype.getDependencyMeta = function (this: Project, ident: Ident, version: string | null) {
    const meta = original.call(this, ident, version);
    if (!isLocator(ident)) return meta;
    const base = structUtils.isVirtualLocator(ident) ? structUtils.devirtualizeLocator(ident) : ident;
    if (this.tryWorkspaceByLocator(base)) return meta;
    const allowed = mayBuild(this, ident.locatorHash) ?? mayBuild(this, base.locatorHash);
    return allowed === false ? { ...meta, built: false } : meta;
  };

  const link = ProjectClass.prototype.linkEverything;
  ProjectClass.prototype.linkEverything = async function (this: Project, opts) {
    if (!processState().allowedByProject.has(this)) {
      throw new ReportError(
        MessageName.UNNAMED,
        'Tollgate: nothing links before the gate has checked the packages of this install, and it has not',
      );
    }
    return link.call(this, opts);
  };
}

export async function guardScriptExecution(
  executor: () => Promise<number>,
  project: Project,
  locator: Locator,
  scriptName: string,
  extra: { stderr: Writable },
): Promise<() => Promise<number>> {
  if (project.tryWorkspaceByLocator(locator)) return executor;
  if (project.configuration.get('tollgatePolicyPath') === null) return executor;
  if (mayBuild(project, locator.locatorHash)) return executor;
  return async () => {
    extra.stderr.write(
      `Tollgate: the ${scriptName} script of ${locator.name} was blocked: Tollgate did not approve its build in this install\n`,
    );
    return 1;
  };
}
