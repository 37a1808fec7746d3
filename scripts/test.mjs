// Runs every test/**/*.test.ts with node's built-in runner (TypeScript through tsx).
// `node scripts/test.mjs [area ...]` limits the run to test/<area>/ (a folder or one file).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testRoot = join(root, 'test');
const areas = process.argv.slice(2);

function collect(dir) {
  if (!statSync(dir).isDirectory()) return [dir];
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (entry.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const roots = areas.length ? areas.map((a) => join(testRoot, a)) : [testRoot];
const files = roots.flatMap(collect).sort();
if (files.length === 0) {
  console.error(`no test files under ${roots.map((r) => relative(root, r)).join(', ')}`);
  process.exit(1);
}

// The web tests drive Debian's chromium: install it first when it is missing (scripts/setup-browser.sh).
if (files.some((f) => relative(testRoot, f).startsWith('web/'))) {
  const setup = spawnSync('bash', [join(root, 'scripts/setup-browser.sh')], { cwd: root, stdio: 'inherit' });
  if (setup.status !== 0) {
    console.error('test: the browser for test/web/ could not be installed (see above)');
    process.exit(1);
  }
}

const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    `--test-timeout=${process.env.TEST_TIMEOUT_MS ?? 600000}`,
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
