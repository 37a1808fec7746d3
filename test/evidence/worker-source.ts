import { join } from 'node:path';
import { buildSync } from 'esbuild';

let source: string | undefined;

/**
 * The verifier pool's worker bundled as the plugin embeds it (scripts/build.mjs) and run the same way,
 * from memory: a worker started from policy/evidence/pool/worker.ts does not load under tsx, and a
 * pool whose workers fail verifies on the calling thread, so a test would pass without any thread.
 */
export function bundledWorkerSource(): string {
  source ??= buildSync({
    entryPoints: [join(import.meta.dirname, '../../policy/evidence/pool/worker.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    logLevel: 'warning',
  }).outputFiles[0]!.text;
  return source;
}
