// Debian's chromium, headless, driven through playwright-core (which downloads no browser). The
// browser is installed by scripts/setup-browser.sh (run by scripts/test.mjs before test/web/);
// a missing one is a failure that says so, never a skipped test.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { repoRoot } from './paths';
import type { Scope } from './scope';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

export async function launchChromium(scope: Scope): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the web tests need Debian's chromium; run \`bash scripts/setup-browser.sh\` (node scripts/test.mjs does before test/web/)`,
    );
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
  scope.defer(() => browser.close());
  return browser;
}

/** Where a test's screenshots go: test/output/<name>/ (ignored by git). */
export function outputFolder(name: string): string {
  const dir = join(repoRoot, 'test/output', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
