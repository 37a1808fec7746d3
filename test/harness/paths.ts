import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const yarnBin = join(repoRoot, 'node_modules/@yarnpkg/cli-dist/bin/yarn.js');
/** The built plugin; TOLLGATE_PLUGIN_BUNDLE runs the suite against another build (e.g. an older release). */
export const pluginBundle =
  process.env.TOLLGATE_PLUGIN_BUNDLE ?? join(repoRoot, 'plugin/bundles/@yarnpkg/plugin-tollgate.js');
export const serverBin = join(repoRoot, 'dist/tollgate-server.cjs');
export const sharedFixtures = join(repoRoot, '../shared/fixtures');

/** A fresh directory outside any package tree (Yarn treats nested package.json folders as one project). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tollgate-${prefix}-`));
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
