import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FixtureError } from '../../bench/fixture/errors';
import { type Fixture, type FixturePackage, selectFixture } from '../../bench/fixture/fixture';
import { type Packument, type PackumentSource, resolveClosure } from '../../bench/fixture/resolve';
import { yarnImplicitDependencies } from '../../bench/fixture/yarn-implicit';

/** A registry in memory: name -> { version -> dependencies }, `latest` the given tag or the highest. */
function registry(
  packages: Record<
    string,
    Record<string, { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }>
  >,
  latest: Record<string, string> = {},
): { source: PackumentSource; fetched: string[] } {
  const fetched: string[] = [];
  const source: PackumentSource = async (name) => {
    fetched.push(name);
    const versions = packages[name];
    if (!versions) throw new FixtureError('PACKAGE_NOT_FOUND', `${name} is not in the synthetic registry`);
    const packument: Packument = {
      name,
      'dist-tags': { latest: latest[name] ?? Object.keys(versions).at(-1)! },
      versions: Object.fromEntries(
        Object.entries(versions).map(([version, deps]) => [version, { name, version, ...deps }]),
      ),
    };
    return packument;
  };
  return { source, fetched };
}

describe('fixture resolver (synthetic registry, no network)', () => {
  test('picks the highest satisfying version per range, shares equal results and follows optional deps', async () => {
    const { source, fetched } = registry(
      {
        app: {
          '1.0.0': { dependencies: { a: '^1.0.0', b: '~2.1.0' }, optionalDependencies: { native: '*' } },
        },
        a: { '1.0.0': {}, '1.4.2': { dependencies: { b: '^2.0.0' } }, '2.0.0': {}, '1.5.0-beta.1': {} },
        b: { '2.0.0': {}, '2.1.0': {}, '2.1.7': { dependencies: { a: '^1.0.0' } }, '2.3.0': {} },
        native: { '0.1.0': {} },
      },
      { app: '1.0.0' },
    );
    const resolution = await resolveClosure(['app'], source, { concurrency: 2 });
    assert.deepEqual(
      [...resolution.packages.keys()],
      ['a@1.4.2', 'app@1.0.0', 'b@2.1.7', 'b@2.3.0', 'native@0.1.0'],
    );
    assert.deepEqual(resolution.packages.get('app@1.0.0')!.resolvedDependencies, {
      a: 'a@1.4.2',
      b: 'b@2.1.7',
      native: 'native@0.1.0',
    });
    // the a <-> b cycle terminates and each packument is fetched once
    assert.deepEqual(resolution.packages.get('b@2.1.7')!.resolvedDependencies, { a: 'a@1.4.2' });
    assert.deepEqual(fetched.sort(), ['a', 'app', 'b', 'native']);
    assert.deepEqual(resolution.roots, [
      {
        request: 'app',
        name: 'app',
        version: '1.0.0',
        closure: ['a@1.4.2', 'app@1.0.0', 'b@2.1.7', 'b@2.3.0', 'native@0.1.0'],
      },
    ]);
  });

  test('a bare root follows the latest dist-tag, a ranged root its range, and npm: aliases the real package', async () => {
    const { source } = registry(
      {
        tool: { '1.0.0': { dependencies: { 'old-util': 'npm:util@^1' } }, '2.0.0': {} },
        util: { '1.0.0': {}, '1.2.0': {}, '3.0.0': {} },
      },
      { tool: '1.0.0' },
    );
    const resolution = await resolveClosure(['tool', 'util@^3'], source, { concurrency: 4 });
    assert.deepEqual(
      resolution.roots.map((root) => [root.request, root.version, root.closure]),
      [
        ['tool', '1.0.0', ['tool@1.0.0', 'util@1.2.0']],
        ['util@^3', '3.0.0', ['util@3.0.0']],
      ],
    );
    assert.deepEqual(resolution.packages.get('tool@1.0.0')!.resolvedDependencies, {
      'old-util': 'util@1.2.0',
    });
  });

  test('refuses specs a republished fixture cannot serve, naming the dependent', async () => {
    const { source } = registry({
      app: { '1.0.0': { dependencies: { lib: 'next' } } },
      lib: { '1.0.0': {} },
    });
    await assert.rejects(resolveClosure(['app'], source, { concurrency: 1 }), (error: FixtureError) => {
      assert.equal(error.code, 'UNSUPPORTED_SPEC');
      assert.match(error.message, /app@1\.0\.0 depends on lib@"next"/);
      return true;
    });
    const unsatisfiable = registry({
      app: { '1.0.0': { dependencies: { lib: '^9' } } },
      lib: { '1.0.0': {} },
    });
    await assert.rejects(
      resolveClosure(['app'], unsatisfiable.source, { concurrency: 1 }),
      (error: FixtureError) => {
        assert.equal(error.code, 'NO_MATCHING_VERSION');
        assert.match(error.message, /no version of lib satisfies "\^9" \(needed by app@1\.0\.0\)/);
        return true;
      },
    );
  });

  test('a smaller selection keeps whole closures of a prefix of the roots', () => {
    const pkg = (key: string): FixturePackage => {
      const [name, version] = [key.slice(0, key.lastIndexOf('@')), key.slice(key.lastIndexOf('@') + 1)];
      return {
        name: name!,
        version: version!,
        integrity: 'sha512-x',
        shasum: 'x',
        dependencies: {},
        resolvedDependencies: {},
        tarballPath: '',
        manifestPath: '',
        tarballBytes: 0,
      };
    };
    const root = (name: string, closure: string[]) => ({ request: name, name, version: '1.0.0', closure });
    const fixture: Fixture = {
      dir: '/nonexistent',
      index: {
        format: 2,
        generatedAt: '',
        roots: [
          root('big', ['big@1.0.0', 'x@1.0.0', 'y@1.0.0']),
          root('huge', ['huge@1.0.0', 'p@1.0.0', 'q@1.0.0', 'r@1.0.0']),
          root('small', ['small@1.0.0', 'x@1.0.0']),
        ],
        packages: ['big', 'x', 'y', 'huge', 'p', 'q', 'r', 'small'].map((name) => pkg(`${name}@1.0.0`)),
      },
    };
    const selection = selectFixture(fixture, 5);
    assert.deepEqual(
      selection.roots.map((r) => r.name),
      ['big', 'small'],
    );
    assert.deepEqual(
      selection.packages.map((p) => p.name),
      ['big', 'small', 'x', 'y'],
    );
    assert.equal(selectFixture(fixture).packages.length, 8);
    assert.deepEqual(
      selectFixture(fixture, 1).roots.map((r) => r.name),
      ['big'],
    );
  });
});

describe('dependencies Yarn adds on its own', () => {
  test('node-gyp@latest for a script using node-gyp, unless declared; builtin extensions by version range', () => {
    assert.deepEqual(
      yarnImplicitDependencies({ name: 'addon', version: '1.0.0', scripts: { install: 'node-gyp-build' } }),
      { 'node-gyp': 'latest' },
    );
    assert.deepEqual(
      yarnImplicitDependencies({
        name: 'addon',
        version: '1.0.0',
        scripts: { install: 'node-gyp rebuild' },
        dependencies: { 'node-gyp': '^10' },
      }),
      {},
    );
    assert.deepEqual(yarnImplicitDependencies({ name: 'got', version: '10.7.0' }), {
      '@types/responselike': '^1.0.0',
      '@types/keyv': '^3.1.1',
    });
    assert.deepEqual(yarnImplicitDependencies({ name: 'got', version: '11.8.6' }), {});
  });
});
