// Builds the Yarn plugin bundle (with @yarnpkg/builder, as Yarn's own plugins are built) and the
// executables of the package (bundled with esbuild into dist/, so they start without a TS loader).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;

const executables = {
  'tollgate-server': 'server/cli.ts',
  'tollgate-conformance': 'policy/evidence/conformance-cli.ts',
};

mkdirSync(join(root, 'dist'), { recursive: true });
for (const [name, entry] of Object.entries(executables)) {
  if (!existsSync(join(root, entry))) {
    console.log(`build: skipping ${name} (${entry} does not exist yet)`);
    continue;
  }
  await build({
    entryPoints: [join(root, entry)],
    outfile: join(root, 'dist', `${name}.cjs`),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
    sourcemap: 'inline',
  });
  console.log(`build: dist/${name}.cjs`);
}

const builder = join(root, 'node_modules/@yarnpkg/builder/lib/cli.js');
const res = spawnSync(process.execPath, [builder, 'build', 'plugin'], {
  cwd: join(root, 'plugin'),
  stdio: 'inherit',
});
if (res.status !== 0) {
  console.error('build: the Yarn plugin failed to build');
  process.exit(res.status ?? 1);
}
console.log('build: plugin/bundles/@yarnpkg/plugin-tollgate.js');
