// Where the time of a Tollgate install goes: `node --import tsx bench/profile-install.ts` publishes the
// fixture as `npm run bench install` does, then runs each measured operation once in a Tollgate
// project under `node --cpu-prof` (the Yarn process only, with the harness's environment), and prints
// self time by module and by function for every thread (main and verifier workers), plus the CPU the
// local registry and tollgate-server spent serving it. Not a *.bench.ts: `npm run bench` skips it.
//
// Knobs: BENCH_PACKAGES (fixture selection, default all); BENCH_PLUGIN, a plugin bundle to import
// instead of the built one (build an unminified bundle for readable names: `node
// ../node_modules/@yarnpkg/builder/lib/cli.js build plugin --no-minify` in plugin/, copy it elsewhere,
// then `npm run build` again); BENCH_PROFILE_DIR (default bench/results/profile-<timestamp>);
// BENCH_PROFILE_STEPS=tollgate-checkout,audit,... (a subset, by name prefix; the first cold install of
// each side always runs, profiled or not, since every later step starts from it).
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pluginBundle } from '../test/harness/paths';
import { startRegistry } from '../test/harness/registry';
import { Scope } from '../test/harness/scope';
import { startSigstoreServer } from '../test/harness/sigstore';
import type { YarnProject } from '../test/harness/yarn-project';
import { generateFixture, selectFixture } from './fixture/fixture';
import { createFixtureProject, publishFixture } from './fixture/publish';
import {
  installVerdictFolder,
  signWithTollgateServer,
  tollgateCacheFolder,
  tollgateEnforceProject,
} from './fixture/tollgate';
import { bundleModules, formatProfile, profilesIn, summarizeProfile } from './lib/cpu-profile';
import { copyCommittedFiles } from './lib/install-phases';
import { intFromEnv } from './lib/options';
import { profileStep } from './lib/profile-step';
import { benchRoot, describeMachine } from './lib/results';
import { discard } from './lib/yarn-runs';

interface Step {
  name: string;
  project: YarnProject | (() => Promise<YarnProject>);
  args: string[];
  before?: () => void;
}

/** BENCH_PROFILE_SUMMARIZE=<dir of step folders>: summarize profiles taken earlier, run nothing. */
function summarizeOnly(dir: string, markers: Map<string, { line: number; module: string }[]>): void {
  const owned = (url: string) => url.includes('plugin-tollgate') || url.includes('verifier-worker-');
  for (const step of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    console.log(`\n=== ${step.name}`);
    for (const file of profilesIn(join(dir, step.name))) {
      console.log(formatProfile(summarizeProfile(file, markers, 25, owned)));
    }
  }
}

async function main(): Promise<void> {
  if (process.env.BENCH_PROFILE_SUMMARIZE) {
    const bundle = resolve(process.env.BENCH_PLUGIN ?? pluginBundle);
    summarizeOnly(
      process.env.BENCH_PROFILE_SUMMARIZE,
      new Map([['plugin-tollgate.cjs', bundleModules(bundle)]]),
    );
    return;
  }
  const maxPackages = intFromEnv('BENCH_PACKAGES', Number.MAX_SAFE_INTEGER);
  const plugin = resolve(process.env.BENCH_PLUGIN ?? pluginBundle);
  if (!existsSync(plugin)) throw new Error(`BENCH_PLUGIN ${plugin} does not exist`);
  const machine = describeMachine();
  const outDir = resolve(
    process.env.BENCH_PROFILE_DIR ??
      join(benchRoot, '.cache', 'profiles', new Date().toISOString().replace(/[:.]/g, '-')),
  );
  const fixture = await generateFixture({ log: console.log });
  const selection = selectFixture(fixture, maxPackages);
  console.log(
    `profile: ${selection.packages.length} packages, plugin ${plugin}, load ${machine.loadAverageAtStart.join(' ')}`,
  );
  // the project runs the imported copy, .yarn/plugins/@yarnpkg/plugin-tollgate.cjs
  const markers = new Map([['plugin-tollgate.cjs', bundleModules(plugin)]]);
  const owned = (url: string) => url.includes('plugin-tollgate') || url.includes('verifier-worker-');
  if (markers.get('plugin-tollgate.cjs')!.length === 0) {
    console.log(
      'profile: the plugin bundle has no module markers (minified?): modules show as the bundle file',
    );
  }

  const scope = new Scope();
  const projects: YarnProject[] = [];
  try {
    const [registry, server] = await Promise.all([
      startRegistry(scope, 'bench-profile'),
      startSigstoreServer(scope, 'bench-profile'),
    ]);
    await publishFixture(registry, fixture, selection, {
      signTarball: signWithTollgateServer(server, registry.url),
      log: console.log,
    });
    const options = tollgateEnforceProject(server);
    const tollgate = await createFixtureProject(registry, selection, { files: options.files });
    projects.push(tollgate);
    const imported = await tollgate.yarn(['plugin', 'import', plugin]);
    if (imported.code !== 0) throw new Error(`yarn plugin import failed:\n${imported.output}`);
    tollgate.mergeYarnrc(options.yarnrc!);
    const plain = await createFixtureProject(registry, selection);
    projects.push(plain);
    // A CI checkout: a new project with what the first install's project commits, every cache empty.
    const checkout = async (from: YarnProject, tollgateSide: boolean) => {
      const project = await createFixtureProject(
        registry,
        selection,
        tollgateSide ? { files: options.files } : {},
      );
      projects.push(project);
      if (tollgateSide) {
        const done = await project.yarn(['plugin', 'import', plugin]);
        if (done.code !== 0) throw new Error(`yarn plugin import failed:\n${done.output}`);
        project.mergeYarnrc(options.yarnrc!);
      }
      copyCommittedFiles(from.dir, project.dir);
      return project;
    };

    const steps: Step[] = [
      { name: 'plain-cold', project: plain, args: ['install'] },
      { name: 'tollgate-cold', project: tollgate, args: ['install'] },
      { name: 'plain-warm', project: plain, args: ['install'] },
      { name: 'tollgate-warm', project: tollgate, args: ['install'] },
      { name: 'plain-checkout', project: () => checkout(plain, false), args: ['install'] },
      { name: 'tollgate-checkout', project: () => checkout(tollgate, true), args: ['install'] },
      {
        name: 'tollgate-warm-no-verdict',
        project: tollgate,
        args: ['install'],
        before: () => rmSync(installVerdictFolder(tollgate), { recursive: true, force: true }),
      },
      {
        name: 'tollgate-warm-no-tollgate-cache',
        project: tollgate,
        args: ['install'],
        before: () => rmSync(tollgateCacheFolder(tollgate), { recursive: true, force: true }),
      },
      { name: 'audit-online', project: tollgate, args: ['tollgate', 'audit'] },
      { name: 'audit-offline', project: tollgate, args: ['tollgate', 'audit', '--offline'] },
    ];
    const report: string[] = [
      `profile of ${selection.packages.length} fixture packages; machine ${JSON.stringify(machine)}`,
    ];
    const wanted = process.env.BENCH_PROFILE_STEPS?.split(',');
    for (const step of steps) {
      const profiled = !wanted || wanted.some((w) => step.name.startsWith(w));
      // the cold installs run either way: every later step starts from them
      if (!profiled && !step.name.endsWith('-cold')) continue;
      step.before?.();
      const project = typeof step.project === 'function' ? await step.project() : step.project;
      if (!profiled) {
        const done = await project.yarn(step.args, { timeoutMs: 15 * 60_000 });
        if (done.code !== 0) throw new Error(`${step.name} failed:\n${done.output.slice(-3000)}`);
        continue;
      }
      const lines = await profileStep({ ...step, project }, { outDir, markers, owned });
      console.log(lines.join('\n'));
      report.push(...lines);
    }
    writeFileSync(join(outDir, 'summary.txt'), `${report.join('\n')}\n`);
    console.log(`\nprofiles and summary.txt in ${outDir}`);
  } finally {
    for (const project of projects) discard(project);
    await scope.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
