// One profiled Yarn command, shared by bench/profile-install.ts and bench/profile-realworld.ts: runs it
// under `node --cpu-prof` with the harness's environment for the project, then summarizes every
// thread's profile (self time by module and function, busy time under Tollgate's frames) and the CPU
// the local servers spent meanwhile.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { yarnBin } from '../../test/harness/paths';
import { run } from '../../test/harness/process';
import type { YarnProject } from '../../test/harness/yarn-project';
import { cpuSince, descendantCpu } from './child-cpu';
import { formatProfile, profilesIn, summarizeProfile } from './cpu-profile';
import { describeMachine } from './results';
import { seconds } from './table';

export interface ProfiledStep {
  name: string;
  project: YarnProject;
  args: string[];
}

export interface ProfileOptions {
  /** the folder the step's profiles go to is `<outDir>/<step name>` */
  outDir: string;
  markers: Map<string, { line: number; module: string }[]>;
  owned: (url: string) => boolean;
}

/** Runs the step and returns its report lines; an audit that denies (exit 1) is reported with its denials. */
export async function profileStep(step: ProfiledStep, options: ProfileOptions): Promise<string[]> {
  const dir = join(options.outDir, step.name);
  mkdirSync(dir, { recursive: true });
  const serversBefore = descendantCpu();
  const start = performance.now();
  const result = await run(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, yarnBin, ...step.args], {
    cwd: step.project.dir,
    env: {
      PATH: process.env.PATH,
      HOME: join(step.project.globalFolder, 'home'),
      TMPDIR: process.env.TMPDIR,
      CI: 'true',
      FORCE_COLOR: '0',
    },
    timeoutMs: 15 * 60_000,
  });
  const wall = performance.now() - start;
  const servers = cpuSince(serversBefore, descendantCpu());
  const auditDenied = step.args[0] === 'tollgate' && result.code === 1;
  if (result.code !== 0 && !auditDenied) {
    throw new Error(`${step.name}: yarn ${step.args.join(' ')} failed:\n${result.output.slice(-3000)}`);
  }
  const summary =
    result.output.match(/Tollgate(?: audit)?: \d+ (?:allowed|verified)[^\n]*/)?.[0] ?? '(no Tollgate line)';
  return [
    `\n=== ${step.name}: yarn ${step.args.join(' ')}: ${seconds(wall)} wall (profiling on), load ${describeMachine().loadAverageAtStart.join(' ')}; ${summary}`,
    `servers' CPU during the step: ${servers.map((s) => `${s.name}[${s.pid}] ${s.seconds.toFixed(2)} s`).join(', ') || 'none'}`,
    ...(auditDenied
      ? [
          'denials (first 3):',
          ...result.output
            .split('\n')
            .flatMap((text, i, all) => (/ denied by rule /.test(text) ? [text, all[i + 1] ?? ''] : []))
            .slice(0, 6),
        ]
      : []),
    ...profilesIn(dir).map((file) =>
      formatProfile(summarizeProfile(file, options.markers, 25, options.owned)),
    ),
  ];
}
