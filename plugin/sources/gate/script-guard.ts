import type { Writable } from 'node:stream';
import type { Locator, Project } from '@yarnpkg/core';
import { isAllowedToRunScripts } from './install-gate';

/**
 * Defence in depth: a dependency's lifecycle script runs only if the gate allowed that package in this
 * process. The blocked script reports failure (non-zero) so that Yarn never marks the build as done.
 */
export async function guardScriptExecution(
  executor: () => Promise<number>,
  project: Project,
  locator: Locator,
  scriptName: string,
  extra: { stderr: Writable },
): Promise<() => Promise<number>> {
  if (project.tryWorkspaceByLocator(locator)) return executor;
  if (project.configuration.get('tollgatePolicyPath') === null) return executor;
  if (isAllowedToRunScripts(project, locator.locatorHash)) return executor;
  return async () => {
    extra.stderr.write(
      `Tollgate: the ${scriptName} script of ${locator.name} was blocked: the package was not verified by Tollgate in this install\n`,
    );
    return 1;
  };
}
