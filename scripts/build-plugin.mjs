// Builds the Yarn plugin bundle the way `builder build plugin` (@yarnpkg/builder) does: the same
// esbuild options, banner and footer (a `{ name, factory(require) }` module whose factory receives
// Yarn's own require), with Yarn's dynamic libraries left to that require. Two differences, both
// because Yarn loads the whole bundle on every command, a warm `yarn install` included: modules no
// code path of the plugin reaches are left out (`omitted`), and the factory is parenthesised.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);

/**
 * iconv-lite (a sixth of the bundle) is minipass-fetch's optional dependency, loaded in a try/catch
 * and used only by `Body#textConverted()`, which nothing in the plugin calls.
 */
const omitted = ['iconv-lite'];

// Splits a require request into its package and path, or fails to match a file path (the builder's).
const pathRegExp = /^(?![a-zA-Z]:[\\/]|\\\\|\.{0,2}(?:\/|$))((?:@[^/]+\/)?[^/]+)\/*(.*|)$/;

export async function buildPlugin(root, { minify = true, metafile = false } = {}) {
  const basedir = join(root, 'plugin');
  const { getDynamicLibs } = require('@yarnpkg/cli');
  // the builder's isDynamicLib (not exported): what Yarn hands its plugins at run time
  const isDynamicLib = (request) => getDynamicLibs().has(request) || /^@yarnpkg\/plugin-/.test(request);
  const builderPackage = require('@yarnpkg/builder/package.json');
  const { default: semver } = await import('semver');
  const name = '@yarnpkg/plugin-tollgate';
  const outfile = join(basedir, `bundles/${name}.js`);
  const result = await build({
    banner: {
      js: [
        '/* eslint-disable */',
        '//prettier-ignore',
        'module.exports = {',
        `name: ${JSON.stringify(name)},`,
        // Parenthesised, unlike the builder's: V8 then compiles the factory when Yarn requires the
        // file, instead of pre-parsing its 2 MB there and parsing them again when Yarn calls it
        // (~25 ms of every Yarn command).
        'factory: (function (require) {',
      ].join('\n'),
    },
    globalName: 'plugin',
    footer: { js: ['return plugin;', '})', '};'].join('\n') },
    entryPoints: [join(basedir, 'sources/index.ts')],
    bundle: true,
    outfile,
    metafile,
    resolveExtensions: ['.tsx', '.ts', '.jsx', '.mjs', '.js', '.css', '.json'],
    logLevel: 'warning',
    format: 'iife',
    platform: 'node',
    plugins: [
      {
        name: 'dynamic-lib-resolver',
        setup(b) {
          b.onResolve({ filter: /()/ }, (args) => {
            const match = args.path.match(pathRegExp);
            if (match === null || match[1] === name || !isDynamicLib(args.path)) return undefined;
            return { path: args.path, external: true };
          });
        },
      },
      {
        name: 'omitted',
        setup(b) {
          const filter = new RegExp(`^(?:${omitted.join('|')})(?:/|$)`);
          b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'omitted' }));
          b.onLoad({ filter: /.*/, namespace: 'omitted' }, (args) => ({
            contents: `throw new Error(${JSON.stringify(`${args.path} is left out of the Tollgate plugin bundle`)});`,
            loader: 'js',
          }));
        },
      },
    ],
    minify,
    target: `node${semver.minVersion(builderPackage.engines.node).version}`,
    supported: {
      // as the builder: Yarn's plugin runtime did not support "node:"-prefixed builtins
      'node-colon-prefix-import': false,
      'node-colon-prefix-require': false,
    },
  });
  return { outfile, metafile: result.metafile };
}
