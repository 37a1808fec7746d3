import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const yarnBin = join(repoRoot, 'node_modules/@yarnpkg/cli-dist/bin/yarn.js');
/** The built plugin; TOLLGATE_PLUGIN_BUNDLE runs the suite against another build (e.g. an older release). */
export const pluginBundle =
  process.env.TOLLGATE_PLUGIN_BUNDLE ?? join(repoRoot, 'plugin/bundles/@yarnpkg/plugin-tollgate.js');
export const serverBin = join(repoRoot, 'dist/tollgate-server.cjs');
export const sharedFixtures = join(repoRoot, '../shared/fixtures');

const created: string[] = [];

/**
 * Removes, when the process exits, what this process created under the temp folder (a folder's
 * leftovers from a crash stay; TOLLGATE_KEEP_TEMP=1 keeps everything for a post-mortem). Only folders
 * directly inside the temp folder and named tollgate-* are ever removed.
 */
export function removeAtExit(path: string): void {
  const resolved = resolve(path);
  if (dirname(resolved) !== resolve(tmpdir()) || !basename(resolved).startsWith('tollgate-')) {
    throw new Error(`refusing to schedule ${resolved} for removal: not a tollgate-* folder in ${tmpdir()}`);
  }
  if (created.length === 0 && !process.env.TOLLGATE_KEEP_TEMP) {
    process.on('exit', () => {
      for (const dir of created.splice(0).reverse())
        rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    });
  }
  created.push(resolved);
}

/** A fresh directory outside any package tree (Yarn treats nested package.json folders as one project). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tollgate-${prefix}-`));
  removeAtExit(dir);
  return dir;
}

/** Fails with a clear message when a build product a test needs is missing. */
export function requireBuilt(path: string): string {
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`npm run build\` before the end-to-end tests`);
  }
  return path;
}

export function requireSharedFixtures(): string {
  if (!existsSync(sharedFixtures)) {
    throw new Error(`shared fixtures not found at ${sharedFixtures}: clone the project next to shared/`);
  }
  return sharedFixtures;
}
