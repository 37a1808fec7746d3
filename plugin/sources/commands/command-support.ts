import type { CommandContext } from '@yarnpkg/core';
import { Cache, Configuration, Project, StreamReport } from '@yarnpkg/core';
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
  let project: Project;
  try {
    ({ project } = await Project.find(configuration, startingCwd));
  } catch (err) {
    throw new ProjectProblem(describeProjectError(err));
  }
  return { configuration, project, cache: await readOnlyCache(configuration) };
}

/**
 * One line for a project Yarn cannot read. A yarn.lock syntax error becomes `yarn.lock:<line>:<column>:
 * <what>`, as editors and CI annotations expect.
 */
export function describeProjectError(err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
  const at = /^(.*?)\s*\((\d+):(\d+)\)\s*$/.exec(message);
  if (at) {
    return `yarn.lock:${at[2]}:${at[3]}: ${at[1]}; fix the entry or restore yarn.lock from version control`;
  }
  return `the project cannot be read (${message}); if yarn.lock is damaged, restore it from version control`;
}

/** A project that cannot be opened (a malformed yarn.lock, no project here): reported, never thrown. */
export class ProjectProblem extends Error {}

/** The project's cache, read-only; a project never installed has none yet, which only means misses. */
async function readOnlyCache(configuration: Configuration): Promise<Cache> {
  try {
    return await Cache.find(configuration, { immutable: true });
  } catch {
    return new Cache(configuration.get('cacheFolder'), { configuration, immutable: true });
  }
}

/** Runs a command body; a project that cannot be opened becomes one clean error and the usage exit code. */
export async function withProject(
  context: CommandContext,
  cwd: string | undefined,
  body: (opened: CommandProject) => Promise<number>,
): Promise<number> {
  let opened: CommandProject;
  try {
    opened = await openProject(context, cwd);
  } catch (err) {
    if (!(err instanceof ProjectProblem)) throw err;
    const problem = err;
    const configuration = await Configuration.find(context.cwd, context.plugins);
    await StreamReport.start(
      { configuration, stdout: context.stdout, includeFooter: false },
      async (report) => {
        report.reportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${problem.message}`);
      },
    );
    return EXIT.USAGE;
  }
  return body(opened);
}

/**
 * Opens the engine for a command, turning configuration problems into one clean report error and the
 * usage exit code. Returns null when it reported a problem.
 */
export async function openEngine(
  configuration: Configuration,
  report: StreamReport,
  options: Parameters<typeof createEngineContext>[1] & { onProblem?: (message: string) => void } = {},
): Promise<EngineContext | null> {
  try {
    return await createEngineContext(configuration, options);
  } catch (err) {
    if (!(err instanceof ConfigurationProblem)) throw err;
    options.onProblem?.([err.message, ...err.details].join('\n'));
    report.reportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${err.message}`);
    for (const line of err.details) report.reportError(messageName(TollgateMessage.POLICY_ERROR), line);
    return null;
  }
}
