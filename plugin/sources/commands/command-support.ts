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
  return { configuration, project, cache: await readOnlyCache(configuration) };
}

/** The project's cache, read-only; a project never installed has none yet, which only means misses. */
async function readOnlyCache(configuration: Configuration): Promise<Cache> {
  try {
    return await Cache.find(configuration, { immutable: true });
  } catch {
    return new Cache(configuration.get('cacheFolder'), { configuration, immutable: true });
  }
}

/**
 * Opens the engine for a command, turning configuration problems into one clean report error and the
 * usage exit code. Returns null when it reported a problem.
 */
export async function openEngine(
  configuration: Configuration,
  report: StreamReport,
  options: Parameters<typeof createEngineContext>[1] = {},
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
