import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { pluginBundle, removeAtExit, requireBuilt, tempDir, yarnBin } from './paths';
import { type RunResult, run } from './process';

export interface YarnProjectOptions {
  /** npmRegistryServer: where unscoped (and unlisted scoped) packages come from */
  registry: string;
  /** npmScopes: scope (without @) -> registry URL */
  scopes?: Record<string, string>;
  dependencies?: Record<string, string>;
  /** import the built Tollgate plugin with `yarn plugin import` */
  withPlugin?: boolean;
  nodeLinker?: 'node-modules' | 'pnp';
  /** extra .yarnrc.yml settings, merged over the defaults */
  yarnrc?: Record<string, unknown>;
  /** extra files to write into the project (path -> content) */
  files?: Record<string, string>;
}

export interface YarnProject {
  dir: string;
  /** where the Yarn global folder (global cache, metadata) lives: isolated per project */
  globalFolder: string;
  yarn(args: string[], options?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult>;
  read(path: string): string;
  exists(path: string): boolean;
  write(path: string, content: string): void;
  readYarnrc(): string;
  /** sets (or, with undefined, removes) top-level .yarnrc.yml settings */
  mergeYarnrc(settings: Record<string, unknown>): void;
}

/**
 * A throwaway Yarn 4 project (Yarn from @yarnpkg/cli-dist) with its own yarn.lock, isolated global
 * folder and project cache, pointed at local registries. Settings that recent Yarn defaults would
 * otherwise make tests meaningless (scripts disabled, age gate, immutable installs under CI) are
 * set explicitly.
 */
export async function createYarnProject(options: YarnProjectOptions): Promise<YarnProject> {
  const dir = tempDir('project');
  const globalFolder = join(dir, '..', `${dir.split('/').pop()}-yarn-global`);
  mkdirSync(globalFolder, { recursive: true });
  removeAtExit(globalFolder);
  const home = join(globalFolder, 'home');
  mkdirSync(home, { recursive: true });

  const yarnrc: Record<string, unknown> = {
    nodeLinker: options.nodeLinker ?? 'node-modules',
    npmRegistryServer: options.registry.replace(/\/$/, ''),
    unsafeHttpWhitelist: ['127.0.0.1'],
    enableScripts: true,
    npmMinimalAgeGate: 0,
    enableImmutableInstalls: false,
    enableGlobalCache: false,
    globalFolder,
    enableTelemetry: false,
    enableProgressBars: false,
    enableColors: false,
    enableHyperlinks: false,
    enableInlineBuilds: true,
  };
  if (options.scopes) {
    yarnrc.npmScopes = Object.fromEntries(
      Object.entries(options.scopes).map(([scope, url]) => [
        scope,
        { npmRegistryServer: url.replace(/\/$/, ''), npmMinimalAgeGate: 0 },
      ]),
    );
  }
  writeFileSync(join(dir, '.yarnrc.yml'), toYaml(yarnrc));
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'app', private: true, dependencies: options.dependencies ?? {} }, null, 2)}\n`,
  );
  writeFileSync(join(dir, 'yarn.lock'), '');
  for (const [path, content] of Object.entries(options.files ?? {})) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    TMPDIR: process.env.TMPDIR,
    // Yarn reads CI to pick defaults; keep behaviour identical on laptops and in CI.
    CI: 'true',
    FORCE_COLOR: '0',
  };

  const project: YarnProject = {
    dir,
    globalFolder,
    yarn: (args, opts) =>
      run(process.execPath, [yarnBin, ...args], {
        cwd: dir,
        env: { ...env, ...opts?.env },
        timeoutMs: opts?.timeoutMs ?? 180_000,
      }),
    read: (path) => readFileSync(join(dir, path), 'utf8'),
    exists: (path) => existsSync(join(dir, path)),
    write: (path, content) => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    },
    readYarnrc: () => readFileSync(join(dir, '.yarnrc.yml'), 'utf8'),
    mergeYarnrc: (settings) => {
      const current = (parseYaml(readFileSync(join(dir, '.yarnrc.yml'), 'utf8')) ?? {}) as Record<
        string,
        unknown
      >;
      writeFileSync(join(dir, '.yarnrc.yml'), toYaml({ ...current, ...settings }));
    },
  };

  if (options.withPlugin) {
    const res = await project.yarn(['plugin', 'import', requireBuilt(pluginBundle)]);
    if (res.code !== 0) throw new Error(`yarn plugin import failed:\n${res.output}`);
  }
  // Plugin settings go in after the import: Yarn refuses to run with settings no loaded plugin declares.
  if (options.yarnrc) project.mergeYarnrc(options.yarnrc);
  return project;
}
