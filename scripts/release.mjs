// `npm run release`: a release of the Yarn plugin that anyone can rebuild and verify.
//
// The bundle is built from a commit (`git archive`, never the working tree, so uncommitted changes
// cannot slip into a release) in a fresh folder, with the repository's own build script and the
// installed toolchain; the minified bundle carries no timestamps and no paths, so the same commit
// gives the same bytes wherever it is built. Next to it: its sha512 (the checksum `yarn plugin import`
// records in .yarnrc.yml), a release.json, and — unless --no-sign — a Sigstore bundle made with
// `yarn tollgate sign --as plugin-release` by the plugin being released, so users (and
// `yarn tollgate verify-release`) can check who built it.
//
//   node scripts/release.mjs [--out DIR] [--ref REF] [--no-sign] [-- <yarn tollgate sign flags>]
//
// Sign flags go to `yarn tollgate sign` unchanged: none in GitHub Actions (the workflow's OIDC token,
// public Sigstore), `--sigstore-server URL --dev-identity EMAIL` against a local tollgate-server.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const yarnBin = join(root, 'node_modules/@yarnpkg/cli-dist/bin/yarn.js');

function fail(message, code = 2) {
  console.error(`release: ${message}`);
  process.exit(code);
}

function parseArgs(argv) {
  const options = { out: join(root, 'dist/release'), ref: 'HEAD', sign: true, signArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) fail(`${arg} needs a value`);
      return v;
    };
    if (arg === '--') {
      options.signArgs = argv.slice(i + 1);
      break;
    } else if (arg === '--out') options.out = resolve(value());
    else if (arg === '--ref') options.ref = value();
    else if (arg === '--no-sign') options.sign = false;
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: node scripts/release.mjs [--out DIR] [--ref REF] [--no-sign] [-- <sign flags>]');
      process.exit(0);
    } else fail(`unknown option ${arg} (see --help); flags for \`yarn tollgate sign\` go after --`);
  }
  return options;
}

function run(command, args, options) {
  const res = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (res.error) fail(`${command} ${args.join(' ')}: ${res.error.message}`, 1);
  return res;
}

function git(...args) {
  const res = run('git', args, { cwd: root });
  if (res.status !== 0) fail(`git ${args.join(' ')} failed: ${res.stderr.trim()}`);
  return res.stdout.trim();
}

const options = parseArgs(process.argv.slice(2));
const commit = git('rev-parse', '--verify', `${options.ref}^{commit}`);
const dirty = options.ref === 'HEAD' && git('status', '--porcelain', '--untracked-files=no') !== '';

// A fresh tree of exactly that commit, sharing the installed node_modules (the toolchain: esbuild,
// @yarnpkg/builder, the plugin's dependencies, all pinned by package-lock.json).
const work = mkdtempSync(join(tmpdir(), 'tollgate-release-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const src = join(work, 'src');
mkdirSync(src);
const archive = run('git', ['archive', '--format=tar', commit], { cwd: root, encoding: 'buffer' });
if (archive.status !== 0) fail(`git archive ${commit} failed: ${archive.stderr.toString().trim()}`);
const untar = run('tar', ['-x', '-C', src], { input: archive.stdout });
if (untar.status !== 0) fail(`unpacking the archive of ${commit} failed: ${untar.stderr.trim()}`);
symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'), 'dir');

console.log(
  `release: building the plugin from commit ${commit}${dirty ? ' (uncommitted changes are not part of it)' : ''}`,
);
const build = run(process.execPath, ['scripts/build.mjs', '--plugin-only'], { cwd: src });
if (build.status !== 0) fail(`the build failed:\n${build.stdout}${build.stderr}`, 1);

const { version } = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8'));
const bundleName = `plugin-tollgate-${version}.js`;
mkdirSync(options.out, { recursive: true });
const bundlePath = join(options.out, bundleName);
copyFileSync(join(src, 'plugin/bundles/@yarnpkg/plugin-tollgate.js'), bundlePath);
const bytes = readFileSync(bundlePath);
const sha512 = createHash('sha512').update(bytes).digest();
const sha256 = createHash('sha256').update(bytes).digest('hex');

// `sha512sum -c plugin-tollgate-<version>.js.sha512` checks it; the hex is also exactly what
// `yarn plugin import` writes as the plugin's `checksum:` in .yarnrc.yml.
writeFileSync(`${bundlePath}.sha512`, `${sha512.toString('hex')}  ${bundleName}\n`);
const toolchain = Object.fromEntries(
  ['esbuild', '@yarnpkg/builder'].map((name) => [
    name,
    JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version,
  ]),
);
const release = {
  name: '@yarnpkg/plugin-tollgate',
  version,
  commit,
  file: bundleName,
  size: bytes.length,
  sha512: sha512.toString('hex'),
  yarnrcChecksum: sha512.toString('hex'),
  integrity: `sha512-${sha512.toString('base64')}`,
  sha256,
  toolchain,
  signature: options.sign ? `${bundleName}.sigstore.json` : null,
};
writeFileSync(join(options.out, 'release.json'), `${JSON.stringify(release, null, 2)}\n`);
console.log(`release: ${relative(process.cwd(), bundlePath) || bundlePath} (${bytes.length} bytes)`);
console.log(`release: sha512 ${release.sha512}`);

if (options.sign) {
  // Signed by the plugin being released, loaded by real Yarn in a throwaway project.
  const project = join(work, 'signer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), '{ "name": "tollgate-release-signer", "private": true }\n');
  writeFileSync(join(project, 'yarn.lock'), '');
  // Loopback over http is allowed for a local tollgate-server (--sigstore-server http://127.0.0.1:…).
  writeFileSync(
    join(project, '.yarnrc.yml'),
    'enableTelemetry: false\nenableGlobalCache: false\nunsafeHttpWhitelist: ["127.0.0.1", "localhost"]\n',
  );
  const yarn = (args) =>
    run(process.execPath, [yarnBin, ...args], {
      cwd: project,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, YARN_ENABLE_PROGRESS_BARS: 'false' },
    });
  if (yarn(['plugin', 'import', bundlePath]).status !== 0)
    fail('yarn plugin import of the new bundle failed', 1);
  const signed = yarn([
    'tollgate',
    'sign',
    bundlePath,
    '--as',
    'plugin-release',
    '-o',
    `${bundlePath}.sigstore.json`,
    ...options.signArgs,
  ]);
  if (signed.status !== 0)
    fail(`signing failed (yarn tollgate sign exited ${signed.status})`, signed.status ?? 1);
  console.log(`release: signature ${bundlePath}.sigstore.json`);
}
