// `npm run bench fixture`: builds (or tops up) the cached ~1,000-package fixture the other benches
// republish into a local Verdaccio. Needs the npm registry once; later runs reuse bench/.cache/fixture.
// `BENCH_FIXTURE=large` builds the ~5,000-package root set instead (same tarball cache).
import { FixtureError } from './fixture/errors';
import { fixtureRootSets, fixtureSetFromEnv, generateFixture, selectFixture } from './fixture/fixture';
import { formatTable } from './lib/table';

try {
  const set = fixtureSetFromEnv();
  const fixture = await generateFixture({
    ...fixtureRootSets[set],
    refresh: process.env.BENCH_FIXTURE_REFRESH === '1',
    needFreeBytes: set === 'large' ? 6 * 2 ** 30 : 2 * 2 ** 30,
    log: console.log,
  });
  const selection = selectFixture(fixture);
  const bytes = fixture.index.packages.reduce((sum, pkg) => sum + pkg.tarballBytes, 0);
  console.log(
    formatTable([
      ['root', 'version', 'closure'],
      ...fixture.index.roots.map((root) => [root.request, root.version, String(root.closure.length)]),
    ]),
  );
  console.log(
    `\n${selection.packages.length} distinct name@version from ${new Set(selection.packages.map((p) => p.name)).size} names, ` +
      `${(bytes / 1e6).toFixed(1)} MB of tarballs in ${fixture.dir}`,
  );
} catch (error) {
  if (error instanceof FixtureError) {
    console.error(`fixture: ${error.code}: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
