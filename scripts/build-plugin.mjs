// Builds the Yarn plugin bundle as `builder build plugin` (@yarnpkg/builder) does: the same esbuild
// options, a `{ name, factory(require) }` module whose factory receives Yarn's own require, with
// Yarn's dynamic libraries left to that require. Yarn loads the whole file on every command (a warm
// `yarn install`, `yarn run`), so unlike the builder's:
//   - the code is split (esbuild's code splitting): what only a dynamic import() reaches (the
//     verifier, trust roots, stores, every command's implementation) is its own chunk, embedded as a
//     string and compiled when first imported; the factory's own code is what every command needs;
//   - modules no code path of the plugin reaches are left out (`omitted`);
//   - the factory is parenthesised.

import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { build, transform } from 'esbuild';

const require = createRequire(import.meta.url);

/**
 * iconv-lite (a sixth of the bundle) is minipass-fetch's optional dependency, loaded in a try/catch
 * and used only by `Body#textConverted()`, which nothing in the plugin calls.
 */
const omitted = ['iconv-lite'];

// Splits a require request into its package and path, or fails to match a file path (the builder's).
const pathRegExp = /^(?![a-zA-Z]:[\\/]|\\\\|\.{0,2}(?:\/|$))((?:@[^/]+\/)?[^/]+)\/*(.*|)$/;

export async function buildPlugin(root, { minify = true, write = true } = {}) {
  const basedir = join(root, 'plugin');
  const { getDynamicLibs } = require('@yarnpkg/cli');
  // the builder's isDynamicLib (not exported): what Yarn hands its plugins at run time
  const isDynamicLib = (request) => getDynamicLibs().has(request) || /^@yarnpkg\/plugin-/.test(request);
  const builderPackage = require('@yarnpkg/builder/package.json');
  const { default: semver } = await import('semver');
  const name = '@yarnpkg/plugin-tollgate';
  const outfile = join(basedir, `bundles/${name}.js`);
  const target = `node${semver.minVersion(builderPackage.engines.node).version}`;
  const result = await build({
    entryPoints: { index: join(basedir, 'sources/index.ts') },
    bundle: true,
    // Code splitting: what a dynamic import() reaches is its own chunk, compiled when first imported.
    splitting: true,
    format: 'esm',
    outdir: join(basedir, 'bundles/chunks'),
    chunkNames: '[name]-[hash]',
    write: false,
    metafile: true,
    resolveExtensions: ['.tsx', '.ts', '.jsx', '.mjs', '.js', '.css', '.json'],
    logLevel: 'warning',
    logOverride: { 'empty-import-meta': 'silent' },
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
        // A package loaded with import() is a chunk of its own. In esbuild's ES module output a CommonJS
        // package's chunk exports only `default`, where Node's import() also names its exports (which
        // the code destructures): its chunk names them too, as read from the package at build time.
        name: 'dynamic-commonjs-packages',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => {
            if (
              args.kind !== 'dynamic-import' ||
              isDynamicLib(args.path) ||
              args.namespace === 'dynamic-package'
            )
              return undefined;
            return {
              path: args.path,
              namespace: 'dynamic-package',
              pluginData: { resolveDir: args.resolveDir },
            };
          });
          b.onLoad({ filter: /.*/, namespace: 'dynamic-package' }, (args) => {
            const { resolveDir } = args.pluginData;
            const spec = JSON.stringify(args.path);
            let names;
            try {
              const exported = createRequire(join(resolveDir, 'index.js'))(args.path);
              names = Object.keys(exported).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n));
            } catch {
              // an ES module package: its own exports carry over
              return { contents: `export * from ${spec};`, resolveDir, loader: 'js' };
            }
            const contents = [
              // as Node does: the default export is module.exports, the names its properties
              `const exported = require(${spec});`,
              'export default exported;',
              ...names.map((n) => `export const ${n} = exported.${n};`),
            ].join('\n');
            return { contents, resolveDir, loader: 'js' };
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
    target,
    supported: {
      // as the builder: Yarn's plugin runtime did not support "node:"-prefixed builtins
      'node-colon-prefix-import': false,
      'node-colon-prefix-require': false,
    },
  });
  // Each chunk becomes a CommonJS function body: its imports of other chunks go through `load`.
  const chunks = new Map();
  for (const file of result.outputFiles) {
    const cjs = await transform(file.text, {
      format: 'cjs',
      loader: 'js',
      minify,
      target,
      logLevel: 'warning',
      logOverride: { 'empty-import-meta': 'silent' },
      // import() of a chunk becomes a require of it, which `chunkRequire` answers from this file
      supported: {
        'dynamic-import': false,
        'node-colon-prefix-import': false,
        'node-colon-prefix-require': false,
      },
    });
    chunks.set(basename(file.path), cjs.code);
  }
  const entry = chunks.get('index.js');
  chunks.delete('index.js');
  const lazy = [...chunks].map(([chunk, code]) => `${JSON.stringify(chunk)}: ${JSON.stringify(code)}`);
  const text = [
    '/* eslint-disable */',
    '//prettier-ignore',
    'module.exports = {',
    `name: ${JSON.stringify(name)},`,
    // Parenthesised, unlike the builder's: V8 then compiles the factory when Yarn requires the file,
    // instead of pre-parsing it there and parsing it again when Yarn calls it.
    'factory: (function (require) {',
    // The chunks only dynamic imports reach, as text: V8 scans a string literal far faster than it
    // pre-parses code, and most Yarn commands (a warm install among them) never compile them.
    `var chunks = {${lazy.join(',\n')}};`,
    'var loaded = Object.create(null);',
    'var pluginFilename = typeof __filename === "string" ? __filename : undefined;',
    'var pluginDirname = typeof __dirname === "string" ? __dirname : undefined;',
    'function chunkRequire(request) {',
    '  var chunk = /^\\.\\/([\\w.-]+\\.js)$/.exec(request);',
    '  if (chunk === null || !Object.prototype.hasOwnProperty.call(chunks, chunk[1])) return require(request);',
    '  var id = chunk[1];',
    '  if (loaded[id]) return loaded[id].exports;',
    '  var module = (loaded[id] = { exports: {} });',
    // the plugin file's own __filename and __dirname, as the code had in one piece (some packages read them)
    `  var body = require("vm").runInThisContext("(function (exports, require, module, __filename, __dirname) {" + chunks[id] + "\\n})", { filename: ${JSON.stringify(`${name}/`)} + id });`,
    '  body.call(module.exports, module.exports, chunkRequire, module, pluginFilename, pluginDirname);',
    '  return module.exports;',
    '}',
    'var module = { exports: {} };',
    '(function (exports, require, module) {',
    entry,
    '})(module.exports, chunkRequire, module);',
    'return module.exports;',
    '})',
    '};',
    '',
  ].join('\n');
  if (write) {
    mkdirSync(dirname(outfile), { recursive: true });
    writeFileSync(outfile, text);
  }
  return { outfile, text, metafile: result.metafile, lazyChunks: [...chunks.keys()] };
}
