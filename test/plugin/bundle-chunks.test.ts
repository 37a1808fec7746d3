// The plugin bundle's split (scripts/build-plugin.mjs): the code every Yarn command compiles when it
// loads the plugin holds the hooks' entry points, the policy summary and the command declarations,
// and none of the policy compiler (with its schema validators and YAML), the install gate, the
// verifier, the signing flow, the stores or the commands' implementations, which are chunks compiled
// on first use. A static import that drags one of them back shows up here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildPlugin } from '../../scripts/build-plugin.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Metafile {
  outputs: Record<
    string,
    { entryPoint?: string; imports: Array<{ path: string; kind: string }>; inputs: Record<string, unknown> }
  >;
}

/** Every source file compiled when Yarn loads the plugin: the entry chunk and the chunks it imports statically. */
function loadedAtStartup(metafile: Metafile): string[] {
  const [entry] = Object.entries(metafile.outputs).filter(([, o]) =>
    o.entryPoint?.endsWith('plugin/sources/index.ts'),
  );
  assert.ok(entry, 'the bundle has an entry chunk');
  const seen = new Set<string>([entry[0]]);
  const queue = [entry[0]];
  while (queue.length > 0) {
    const output = metafile.outputs[queue.shift()!]!;
    for (const i of output.imports)
      if (i.kind === 'import-statement' && metafile.outputs[i.path] && !seen.has(i.path)) {
        seen.add(i.path);
        queue.push(i.path);
      }
  }
  return [...seen].flatMap((o) => Object.keys(metafile.outputs[o]!.inputs));
}

test('a Yarn command compiles the hooks and the command declarations, not the policy compiler, the gate, the verifier or any command implementation', async () => {
  const { metafile, text, lazyChunks } = await buildPlugin(root, { write: false });
  const startup = loadedAtStartup(metafile as Metafile);
  // what must be there: the hooks and the policy summary
  for (const needed of [
    'plugin/sources/gate/patch-project.ts',
    'plugin/sources/engine/policy-load.ts',
    'plugin/sources/commands/audit.ts',
  ])
    assert.ok(startup.includes(needed), `${needed} is loaded with the plugin`);
  const heavy = [
    /node_modules\/@sigstore\//,
    /node_modules\/tar\//,
    /node_modules\/ajv\/dist\/(core|compile)/,
    /node_modules\/(pacote|tuf-js|jose)\//,
    /^policy\/evidence\//,
    /^policy\/(compile|extends|evaluate|load|lint|pins|diff|source)\.ts$/,
    /^policy\/schema\/generated\//,
    /node_modules\/(yaml|ajv-formats|minimatch)\//,
    /^plugin\/sources\/engine\/(configured-policy|policy-bases|install-verdict|lockfile-checks)\.ts$/,
    /^plugin\/sources\/gate\/(install-gate|network-guard|fetch-refusal|prefetch)\.ts$/,
    /^plugin\/sources\/commands\/run\//,
    /^plugin\/sources\/signing\/signing-flow\.ts$/,
    /^plugin\/sources\/gate\/judge-install\.ts$/,
    /^plugin\/sources\/engine\/(context|check-package|known-bad)\.ts$/,
    /^plugin\/sources\/generated\/verifier-worker\.ts$/,
  ];
  const dragged = startup.filter((input) => heavy.some((h) => h.test(input)));
  assert.deepEqual(dragged, [], 'modules only dynamic imports should reach are loaded with the plugin');
  // and they are in the bundle, as chunks
  assert.ok(lazyChunks.length > 5, `lazy chunks: ${lazyChunks.join(', ')}`);
  for (const chunk of lazyChunks) assert.ok(text.includes(JSON.stringify(chunk)), `${chunk} is embedded`);
});
