// Where the time of a Tollgate install of the real-world project goes: `node --import tsx
// bench/profile-realworld.ts` serves the recorded mirror (`npm run bench realworld` records it once),
// makes a plain and a Tollgate project from the recorded lockfile with one untimed first install each,
// then profiles the Yarn process (`node --cpu-prof`) of: a CI checkout on each side (the committed
// lockfile and Tollgate's committed files, every cache empty), a warm install, a warm install without
// the install verdict, and the audit online and offline. Prints self time by module and function per
// thread, as profile-install.ts does for the fixture. Not a *.bench.ts: `npm run bench` skips it.
//
// Knobs: BENCH_PLUGIN (a plugin bundle to import instead of the built one; unminified for readable
// names, see profile-install.ts); BENCH_PROFILE_DIR; BENCH_PROFILE_STEPS=checkout,warm,... (a subset).
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pluginBundle, tempDir } from '../test/harness/paths';
import { Scope } from '../test/harness/scope';
import { createYarnProject, type YarnProject } from '../test/harness/yarn-project';
import { installVerdictFolder } from './fixture/tollgate';
import { bundleModules } from './lib/cpu-profile';
import { copyCommittedFiles } from './lib/install-phases';
import { profileStep } from './lib/profile-step';
import { benchRoot, describeMachine } from './lib/results';
import { discard } from './lib/yarn-runs';
import { aliasedPackages, lockfileEntries } from './realworld/lockfile';
import { startMirror } from './realworld/mirror';
import { tollgateRealworldProject } from './realworld/policy';
import { defaultRealworldDir, readRecording } from './realworld/recording';

interface Step {
  name: string;
  project: () => Promise<YarnProject>;
  args: string[];
}

async function main(): Promise<void> {
  const plugin = resolve(process.env.BENCH_PLUGIN ?? pluginBundle);
  if (!existsSync(plugin)) throw new Error(`BENCH_PLUGIN ${plugin} does not exist`);
  const dir = defaultRealworldDir;
  const recording = readRecording(dir);
  if (!recording) throw new Error(`no recording in ${dir}: run \`npm run bench realworld\` once`);
  const wanted = process.env.BENCH_PROFILE_STEPS?.split(',');
  const machine = describeMachine();
  const outDir = resolve(
    process.env.BENCH_PROFILE_DIR ??
      join(benchRoot, '.cache', 'profiles', `realworld-${new Date().toISOString().replace(/[:.]/g, '-')}`),
  );
  const manifest = readFileSync(join(dir, 'project/package.json'), 'utf8');
  const lockfile = readFileSync(join(dir, 'project/yarn.lock'), 'utf8');
  const aliases = aliasedPackages(lockfileEntries(lockfile));
  const markers = new Map([['plugin-tollgate.cjs', bundleModules(plugin)]]);
  const owned = (url: string) => url.includes('plugin-tollgate') || url.includes('verifier-worker-');
  console.log(
    `profile: realworld ${recording.packages} packages, plugin ${plugin}, load ${machine.loadAverageAtStart.join(' ')}`,
  );

  const scope = new Scope();
  const projects: YarnProject[] = [];
  try {
    const mirror = await startMirror(scope, dir);
    const newProject = async (tollgate: boolean) => {
      const options = tollgateRealworldProject(`${mirror.url}/`, aliases);
      // the plugin is imported from BENCH_PLUGIN, then its settings go in
      const project = await createYarnProject({
        registry: mirror.url,
        ...(tollgate ? { files: options.files } : {}),
      });
      projects.push(project);
      project.write('package.json', manifest);
      project.write('yarn.lock', lockfile);
      if (tollgate) {
        const imported = await project.yarn(['plugin', 'import', plugin]);
        if (imported.code !== 0) throw new Error(`yarn plugin import failed:\n${imported.output}`);
        project.mergeYarnrc(options.yarnrc!);
      }
      return project;
    };
    // what the repository commits, from one untimed first install per side
    const committed = {
      plain: tempDir('profile-committed-plain'),
      tollgate: tempDir('profile-committed-tollgate'),
    };
    for (const side of ['plain', 'tollgate'] as const) {
      const source = await newProject(side === 'tollgate');
      const first = await source.yarn(['install'], { timeoutMs: 15 * 60_000 });
      if (first.code !== 0) throw new Error(`first install (${side}) failed:\n${first.output.slice(-3000)}`);
      copyCommittedFiles(source.dir, committed[side]);
    }
    const checkout = async (side: 'plain' | 'tollgate') => {
      const project = await newProject(side === 'tollgate');
      cpSync(committed[side], project.dir, { recursive: true });
      return project;
    };
    let tollgateCheckout: YarnProject | undefined;
    const freshCheckout = async () => {
      tollgateCheckout = await checkout('tollgate');
      return tollgateCheckout;
    };
    const last = async () => tollgateCheckout ?? freshCheckout();
    const steps: Step[] = [
      { name: 'checkout-plain', project: () => checkout('plain'), args: ['install'] },
      {
        name: 'checkout-tollgate',
        project: freshCheckout,
        args: ['install'],
      },
      { name: 'warm-tollgate', project: last, args: ['install'] },
      {
        name: 'warm-no-verdict-tollgate',
        project: async () => {
          const project = await last();
          rmSync(installVerdictFolder(project), { recursive: true, force: true });
          return project;
        },
        args: ['install'],
      },
      { name: 'audit-online', project: last, args: ['tollgate', 'audit'] },
      { name: 'audit-offline', project: last, args: ['tollgate', 'audit', '--offline'] },
    ];
    const report: string[] = [`profile of the realworld project; machine ${JSON.stringify(machine)}`];
    for (const step of steps) {
      if (wanted && !wanted.some((w) => step.name.startsWith(w))) continue;
      const project = await step.project();
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
