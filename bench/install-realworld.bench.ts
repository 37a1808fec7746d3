// `npm run bench install-realworld`: plain Yarn (A) against Yarn with Tollgate (B) on a real ~750-package
// project (bench/realworld/project.ts) installed with its lockfile from the recorded mirror
// (bench/realworld/: the real packuments and tarballs, served byte for byte from 127.0.0.1, tarball URLs
// pointing at the mirror). Records the mirror first when there is none (`npm run bench realworld`,
// needs the registry once). Phases (bench/lib/install-phases.ts): CI checkout, warm, warm without the
// install verdict, warm with Tollgate's cache emptied, audit online and offline; `BENCH_PHASES` picks
// (add `cold` for installs without the lockfile), `BENCH_RUNS` sets the pairs (default 5).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scope } from '../test/harness/scope';
import { createYarnProject, type YarnProject } from '../test/harness/yarn-project';
import {
  type BenchSide,
  formatMeasureSet,
  perThousand,
  phasesFromEnv,
  runMeasureSet,
} from './lib/install-phases';
import { intFromEnv } from './lib/options';
import { describeMachine, writeResults } from './lib/results';
import { load, pluginDigest, yarnVersion } from './lib/yarn-runs';
import { aliasedPackages, lockfileEntries } from './realworld/lockfile';
import { startMirror } from './realworld/mirror';
import { realworldPolicyDescription, tollgateRealworldProject } from './realworld/policy';
import { recordRealworld } from './realworld/record';
import { defaultRealworldDir } from './realworld/recording';

/** The version the recorded lockfile gives each direct dependency. */
function lockedVersions(dir: string): Map<string, string> {
  const manifest = JSON.parse(readFileSync(join(dir, 'project/package.json'), 'utf8'));
  const entries = lockfileEntries(readFileSync(join(dir, 'project/yarn.lock'), 'utf8'));
  const versions = new Map<string, string>();
  for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
    const descriptor = `${name}@npm:${range}`;
    const entry = entries.find(
      (e) => e.descriptors.split(', ').includes(descriptor) && e.reference.startsWith('npm:'),
    );
    if (!entry) throw new Error(`the recorded yarn.lock has no entry for ${descriptor}`);
    versions.set(name, entry.reference.slice('npm:'.length));
  }
  return versions;
}

async function main(): Promise<void> {
  const runs = intFromEnv('BENCH_RUNS', 5);
  const phases = phasesFromEnv(['checkout', 'warm', 'warm-no-verdict', 'warm-no-cache', 'audit']);
  const startedAt = new Date();
  const machine = describeMachine();
  const pluginAtStart = pluginDigest();
  console.log(`install-realworld: load average at start ${load()}`);
  const dir = defaultRealworldDir;
  const recording = await recordRealworld({ dir, log: console.log });
  const locked = lockedVersions(dir);
  const manifest = readFileSync(join(dir, 'project/package.json'), 'utf8');
  const lockfile = readFileSync(join(dir, 'project/yarn.lock'), 'utf8');
  const aliases = aliasedPackages(lockfileEntries(lockfile));

  const scope = new Scope();
  try {
    const mirror = await startMirror(scope, dir);
    const withManifest = async (project: Promise<YarnProject>) => {
      const p = await project;
      p.write('package.json', manifest);
      return p;
    };
    const a: BenchSide = {
      label: 'plain',
      description: 'Yarn from @yarnpkg/cli-dist, node-modules linker, no plugins',
      newProject: () => withManifest(createYarnProject({ registry: mirror.url })),
    };
    const b: BenchSide = {
      label: 'tollgate',
      description: `Yarn from @yarnpkg/cli-dist with ${realworldPolicyDescription}`,
      newProject: () =>
        withManifest(
          createYarnProject({ registry: mirror.url, ...tollgateRealworldProject(`${mirror.url}/`, aliases) }),
        ),
    };
    console.log(
      `install-realworld: ${recording.packages} packages (${recording.lockfileEntries} lockfile entries), ` +
        `recorded ${recording.recordedAt}; mirror on ${mirror.url}; ${runs} interleaved pairs; phases ${phases.join(', ')}`,
    );
    console.log(`  A = ${a.label}: ${a.description}`);
    console.log(`  B = ${b.label}: ${b.description}`);
    console.log(
      `  npm aliases excepted from alias-of-protected-name: ${aliases.map((x) => `${x.aliases.join('/')} -> ${x.name}@${x.version}`).join(', ')}`,
    );

    const result = await runMeasureSet({
      name: `realworld (${recording.packages} packages)`,
      runs,
      phases,
      a,
      b,
      packages: recording.packages,
      seedLockfile: (project) => project.write('yarn.lock', lockfile),
      checkInstalled: (project) => {
        for (const [name, version] of locked) {
          const path = join('node_modules', name, 'package.json');
          const found = project.exists(path) ? JSON.parse(project.read(path)).version : undefined;
          if (found !== version) {
            throw new Error(
              `${project.dir}: ${name} is ${found ?? 'missing'} after install, expected ${version}`,
            );
          }
        }
        return (project.read('yarn.lock').match(/^ {2}resolution: /gm) ?? []).length;
      },
      registryStats: () => mirror.stats(),
    });

    console.log(`\nyarn ${yarnVersion()}, ${recording.packages} packages from the recorded mirror\n`);
    console.log(formatMeasureSet(result, { a: a.label, b: b.label }));
    const pluginAtEnd = pluginDigest();
    const path = writeResults('install-realworld', machine, startedAt, {
      set: 'realworld',
      yarn: yarnVersion(),
      pluginBundle: { sha256AtStart: pluginAtStart, sha256AtEnd: pluginAtEnd },
      sides: {
        a: { label: a.label, description: a.description },
        b: { label: b.label, description: b.description },
      },
      recording: {
        recordedAt: recording.recordedAt,
        packages: recording.packages,
        lockfileEntries: recording.lockfileEntries,
        project: recording.project,
      },
      perThousand: perThousand(result),
      result,
    });
    console.log(`\nresults: ${path}`);
    if (pluginAtEnd !== pluginAtStart) {
      console.log('THE PLUGIN BUNDLE WAS REBUILT DURING THE RUN: the B series mix two plugins; run again');
      process.exitCode = 1;
    }
    if (result.audit?.denials.length) process.exitCode = 1;
  } finally {
    await scope.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
