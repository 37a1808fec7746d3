// What the plugin costs a Yarn command that is not an install: `npm run bench plugin-load`. Yarn loads
// every plugin on every command, so `yarn run <script>` and `yarn config get` pay for compiling the
// bundle. Plain Yarn against the same project with the plugin imported (and a policy configured),
// interleaved; with BENCH_BASE_BUNDLE=<file> a third side runs another build (e.g. an earlier commit's).
// Knobs: BENCH_RUNS (rounds, default 20); TOLLGATE_PLUGIN_BUNDLE (the build measured).
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pluginBundle } from '../test/harness/paths';
import { createYarnProject, type YarnProject } from '../test/harness/yarn-project';
import { intFromEnv } from './lib/options';

const rounds = intFromEnv('BENCH_RUNS', 20);
// nothing here reaches a registry: `config get` and `run` resolve nothing
const registry = 'http://127.0.0.1:9';
const policy = 'version: 1\nmode: enforce\ndefaults:\n  require: none\n';

async function project(bundle: string | null): Promise<YarnProject> {
  const p = await createYarnProject({
    registry,
    files: { '.tollgate.yml': policy },
  });
  p.write(
    'package.json',
    `${JSON.stringify({ name: 'app', private: true, scripts: { noop: 'node -e 0' } }, null, 2)}\n`,
  );
  if (bundle) {
    const imported = await p.yarn(['plugin', 'import', bundle]);
    if (imported.code !== 0) throw new Error(`yarn plugin import ${bundle} failed:\n${imported.output}`);
    p.mergeYarnrc({ tollgatePolicyPath: '.tollgate.yml' });
  }
  // `yarn run` needs the workspace in yarn.lock (no dependency, so no registry)
  const installed = await p.yarn(['install']);
  if (installed.code !== 0) throw new Error(`yarn install failed:\n${installed.output}`);
  return p;
}

const sides: Array<{ name: string; project: YarnProject }> = [
  { name: 'plain Yarn', project: await project(null) },
  { name: 'Yarn + Tollgate', project: await project(resolve(pluginBundle)) },
];
if (process.env.BENCH_BASE_BUNDLE)
  sides.push({ name: 'Yarn + base build', project: await project(resolve(process.env.BENCH_BASE_BUNDLE)) });

const commands: Array<{ name: string; args: string[] }> = [
  { name: 'yarn config get cacheFolder', args: ['config', 'get', 'cacheFolder'] },
  { name: 'yarn run noop (node -e 0)', args: ['run', 'noop'] },
];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const loads: number[] = [];
console.log(`plugin load: ${rounds} interleaved rounds per command; bundle ${resolve(pluginBundle)}`);
for (const command of commands) {
  const times = sides.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (const [i, side] of sides.entries()) {
      const start = performance.now();
      const result = await side.project.yarn(command.args);
      const ms = performance.now() - start;
      if (result.code !== 0) throw new Error(`${side.name}: ${command.name} failed:\n${result.output}`);
      times[i]!.push(ms);
    }
    loads.push(loadavg()[0]!);
  }
  const plain = times[0]!;
  console.log(`${command.name}:`);
  for (const [i, side] of sides.entries()) {
    const t = times[i]!;
    const added = median(t.map((ms, r) => ms - plain[r]!));
    const ratio = median(t.map((ms, r) => ms / plain[r]!));
    console.log(
      `  ${side.name.padEnd(18)} median ${median(t).toFixed(0).padStart(5)} ms` +
        (i === 0
          ? ''
          : `   added ${added.toFixed(0).padStart(4)} ms per command, ratio ${ratio.toFixed(3)}x`),
    );
  }
}
console.log(`load 1m median ${median(loads).toFixed(2)} (max ${Math.max(...loads).toFixed(2)})`);
