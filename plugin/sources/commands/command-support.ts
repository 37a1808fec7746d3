import type { CommandContext } from '@yarnpkg/core';
import { Cache, Configuration, Project, type StreamReport } from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import { ConfigurationProblem, createEngineContext, type EngineContext } from '../engine/context';
import { messageName, TollgateMessage } from '../messages';

/** Documented exit codes of every `yarn tollgate` command. */
export const EXIT = { OK: 0, VIOLATIONS: 1, USAGE: 2 } as const;

export interface CommandProject {
  configuration: Configuration;
  project: Project;
  cache: Cache;
}

export async function openProject(context: CommandContext, cwd?: string): Promise<CommandProject> {
  const startingCwd = cwd
    ? npath.toPortablePath(npath.resolve(npath.fromPortablePath(context.cwd), cwd))
    : context.cwd;
  const configuration = await Configuration.find(startingCwd, context.plugins);
  const { project } = await Project.find(configuration, startingCwd);
  const cache = await Cache.find(configuration, { immutable: true });
  return { configuration, project, cache };
}

/**
 * Opens the engine for a command, turning configuration problems into one clean report error and the
 * usage exit code. Returns null when it reported a problem.
 */
export async function openEngine(
  configuration: Configuration,
  report: StreamReport,
  options: { offline?: boolean } = {},
): Promise<EngineContext | null> {
  try {
    return await createEngineContext(configuration, options);
  } catch (err) {
    if (!(err instanceof ConfigurationProblem)) throw err;
    report.reportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${err.message}`);
    for (const line of err.details) report.reportError(messageName(TollgateMessage.POLICY_ERROR), line);
    return null;
  }
}
