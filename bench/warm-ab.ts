// Warm installs side by side: `node --import tsx bench/warm-ab.ts`. Plain Yarn and one project per
// plugin build, each installed once (untimed) and twice more to settle its caches, then one `yarn
// install` of each per round, interleaved; medians of the times and of the per-round ratios to plain
// Yarn. Three pairs (`npm run bench install`) cannot resolve a margin of a few percent on a shared
// 2-core box; ten or more interleaved rounds can. Not a *.bench.ts: `npm run bench` skips it.
//
// Knobs: BENCH_PROJECT=realworld (the recorded mirror, default) or fixture (the signed fixture,
// published to a local registry and signed by tollgate-server first, ~2 minutes); BENCH_BUNDLES, a
// comma list of plugin bundles (default: the built one), e.g. an earlier commit's next to this one;
// BENCH_ROUNDS (default 10); BENCH_NO_VERDICT=1 removes the install verdict before each Tollgate run;
// BENCH_CHECKOUT=1 times CI checkouts instead: each round a new project per side with the files its first
// install committed (yarn.lock, Tollgate's evidence), every cache empty, as `bench install` does.
// Each install's CPU is printed with its time: the Yarn process's (threads included) and the local
// servers' — on a box whose wall times drift by tens of percent between rounds, CPU is the steadier
// measure of what a build adds.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pluginBundle } from '../test/harness/paths';
import { startRegistry } from '../test/harness/registry';
import { Scope } from '../test/harness/scope';
import { startSigstoreServer } from '../test/harness/sigstore';
import { createYarnProject, type YarnProject } from '../test/harness/yarn-project';
import { generateFixture, selectFixture } from './fixture/fixture';
import { createFixtureProject, publishFixture } from './fixture/publish';
import { installVerdictFolder, signWithTollgateServer, tollgateEnforceProject } from './fixture/tollgate';
import { cpuSince, descendantCpu, exitedChildrenCpu } from './lib/child-cpu';
import { copyCommittedFiles } from './lib/install-phases';
import { intFromEnv } from './lib/options';
import { discard } from './lib/yarn-runs';
import { aliasedPackages, lockfileEntries } from './realworld/lockfile';
import { startMirror } from './realworld/mirror';
import { tollgateRealworldProject } from './realworld/policy';
import { defaultRealworldDir } from './realworld/recording';

type MakeProject = (plugin?: string) => Promise<YarnProject>;
/** CPU seconds of one install: the Yarn process's, user and system, and the local servers' */
interface Cpu {
  user: number;
  system: number;
  servers: number;
}

async function realworldProjects(scope: Scope): Promise<MakeProject> {
  const dir = defaultRealworldDir;
  const manifest = readFileSync(join(dir, 'project/package.json'), 'utf8');
  const lockfile = readFileSync(join(dir, 'project/yarn.lock'), 'utf8');
  const aliases = aliasedPackages(lockfileEntries(lockfile));
  const mirror = await startMirror(scope, dir);
  const options = tollgateRealworldProject(`${mirror.url}/`, aliases);
  return async (plugin) => {
    const project = await createYarnProject({
      registry: mirror.url,
      ...(plugin ? { files: options.files } : {}),
    });
    project.write('package.json', manifest);
    project.write('yarn.lock', lockfile);
    if (plugin) await importPlugin(project, plugin, options.yarnrc!);
    return project;
  };
}

async function fixtureProjects(scope: Scope): Promise<MakeProject> {
  const fixture = await generateFixture({ log: () => {} });
  const selection = selectFixture(fixture, Number.MAX_SAFE_INTEGER);
  const [registry, server] = await Promise.all([
    startRegistry(scope, 'bench-warm-ab'),
    startSigstoreServer(scope, 'bench-warm-ab'),
  ]);
  console.log(`warm-ab: publishing ${selection.packages.length} fixture packages`);
  await publishFixture(registry, fixture, selection, {
    signTarball: signWithTollgateServer(server, registry.url),
    log: () => {},
  });
  const options = tollgateEnforceProject(server);
  return async (plugin) => {
    const project = await createFixtureProject(registry, selection, plugin ? { files: options.files } : {});
    if (plugin) await importPlugin(project, plugin, options.yarnrc!);
    return project;
  };
}

async function importPlugin(project: YarnProject, plugin: string, yarnrc: Record<string, unknown>) {
  const imported = await project.yarn(['plugin', 'import', plugin]);
  if (imported.code !== 0) throw new Error(`yarn plugin import ${plugin} failed:\n${imported.output}`);
  project.mergeYarnrc(yarnrc);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const kind = process.env.BENCH_PROJECT ?? 'realworld';
  if (kind !== 'realworld' && kind !== 'fixture') throw new Error('BENCH_PROJECT is realworld or fixture');
  const bundles = (process.env.BENCH_BUNDLES ?? pluginBundle)
    .split(',')
    .filter(Boolean)
    .map((b) => resolve(b));
  const rounds = intFromEnv('BENCH_ROUNDS', 10);
  const noVerdict = process.env.BENCH_NO_VERDICT === '1';
  const checkout = process.env.BENCH_CHECKOUT === '1';
  const scope = new Scope();
  const projects: YarnProject[] = [];
  try {
    const make = kind === 'fixture' ? await fixtureProjects(scope) : await realworldProjects(scope);
    const sides: Array<{ name: string; project: YarnProject; tollgate: boolean; plugin?: string }> = [];
    for (const plugin of [undefined, ...bundles]) {
      const project = await make(plugin);
      projects.push(project);
      const first = await project.yarn(['install'], { timeoutMs: 900_000 });
      if (first.code !== 0) throw new Error(first.output.slice(-2000));
      sides.push({
        name: plugin ? basename(plugin) : 'plain Yarn',
        project,
        tollgate: plugin !== undefined,
        ...(plugin ? { plugin } : {}),
      });
    }
    const cpuOf = new Map<(typeof sides)[number], Cpu>();
    const install = async (side: (typeof sides)[number]) => {
      let project = side.project;
      if (checkout) {
        project = await make(side.plugin);
        copyCommittedFiles(side.project.dir, project.dir);
        mkdirSync(join(project.dir, '.yarn'), { recursive: true });
      } else if (side.tollgate && noVerdict) {
        rmSync(installVerdictFolder(project), { recursive: true, force: true });
      }
      try {
        const servers = descendantCpu();
        const cpu = exitedChildrenCpu();
        const started = performance.now();
        const done = await project.yarn(['install'], { timeoutMs: 900_000 });
        const ms = performance.now() - started;
        if (done.code !== 0) throw new Error(`${side.name}: ${done.output.slice(-2000)}`);
        const after = exitedChildrenCpu();
        cpuOf.set(side, {
          user: after.user - cpu.user,
          system: after.system - cpu.system,
          servers: cpuSince(servers, descendantCpu()).reduce((sum, c) => sum + c.seconds, 0),
        });
        return ms;
      } finally {
        if (checkout) discard(project);
      }
    };
    // the first warm installs remember what the cold one could not (archives younger than 2 s)
    if (!checkout) for (const side of sides) for (let i = 0; i < 2; i++) await install(side);
    const times = sides.map(() => [] as number[]);
    const cpus = sides.map(() => [] as Cpu[]);
    const loads: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const line: string[] = [];
      for (const [i, side] of sides.entries()) {
        const ms = await install(side);
        times[i]!.push(ms);
        const cpu = cpuOf.get(side)!;
        cpus[i]!.push(cpu);
        line.push(
          `${side.name} ${ms.toFixed(0)} (cpu ${cpu.user.toFixed(1)} user ${cpu.system.toFixed(1)} sys ${cpu.servers.toFixed(1)} servers)`,
        );
      }
      loads.push(loadavg()[0]!);
      console.log(`round ${round}: ${line.join('  ')}  load ${loads.at(-1)!.toFixed(2)}`);
    }
    const plain = times[0]!;
    console.log(
      `\n${kind}, ${checkout ? 'CI checkout' : `warm ${noVerdict ? 'without the install verdict' : 'with the install verdict'}`}, ${rounds} rounds, load ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}:`,
    );
    for (const [i, side] of sides.entries()) {
      const xs = times[i]!;
      const ratio = median(xs.map((x, r) => x / plain[r]!));
      const cpuMedian = (key: keyof Cpu) => median(cpus[i]!.map((c) => c[key])).toFixed(2);
      console.log(
        `  ${side.name.padEnd(28)} median ${median(xs).toFixed(0)} ms  ratio ${ratio.toFixed(3)}x  (+${(median(xs) - median(plain)).toFixed(0)} ms); CPU: Yarn ${cpuMedian('user')} s user, ${cpuMedian('system')} s system; local servers ${cpuMedian('servers')} s`,
      );
    }
  } finally {
    for (const project of projects) discard(project);
    await scope.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
