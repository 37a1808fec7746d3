// The install verdict's key (engine/install-verdict.ts) over the graph as Yarn holds it
// (engine/install-graph.ts): every per-package input of a decision changes it, names are spelled
// rather than taken from Yarn's hashes, and the two stages never stand in for each other.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type Descriptor, type Locator, type Package, type Project, structUtils } from '@yarnpkg/core';
import { graphBeforeFetch } from '../../plugin/sources/engine/install-graph';
import {
  installVerdictKey,
  readEveryDecision,
  readInstallVerdict,
  type VerdictInputs,
  writeInstallVerdict,
} from '../../plugin/sources/engine/install-verdict';
import type { TollgateSettings } from '../../plugin/sources/settings';
import type { Decision } from '../../policy';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-install-verdict-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, '.tollgate.yml'), 'version: 1\nmode: enforce\n');

const inputs: VerdictInputs = {
  settings: {
    policyPath: join(dir, '.tollgate.yml'),
    evidenceFile: join(dir, '.tollgate.evidence.json'),
    modeOverride: null,
    attestationStores: [],
    offline: false,
  } as unknown as TollgateSettings,
  pinsPath: join(dir, '.tollgate.pins.json'),
  registries: { '': 'https://registry.example/' },
  yarnSettings: { checksumBehavior: 'throw' },
  inputs: {},
  trustRootFiles: [],
};

function pkg(scope: string | null, name: string, reference: string, version = '1.0.0'): Package {
  const locator = structUtils.makeLocator(structUtils.makeIdent(scope, name), reference);
  return { ...locator, version } as unknown as Package;
}

interface Graph {
  packages: Package[];
  resolutions: [Descriptor, Locator][];
  checksums?: Record<string, string>;
  disabled?: Locator[];
}

function project({ packages, resolutions, checksums = {}, disabled = [] }: Graph): Project {
  return {
    storedPackages: new Map(packages.map((p) => [p.locatorHash, p])),
    storedDescriptors: new Map(resolutions.map(([d]) => [d.descriptorHash, d])),
    storedResolutions: new Map(resolutions.map(([d, l]) => [d.descriptorHash, l.locatorHash])),
    storedChecksums: new Map(
      packages.flatMap((p) => {
        const sum = checksums[structUtils.stringifyLocator(p)];
        return sum ? [[p.locatorHash, sum]] : [];
      }),
    ),
    disabledLocators: new Set(disabled.map((l) => l.locatorHash)),
    conditionalLocators: new Set(),
  } as unknown as Project;
}

const range = (scope: string | null, name: string, r: string) =>
  structUtils.makeDescriptor(structUtils.makeIdent(scope, name), r);

const acme = pkg(null, 'acme', 'npm:1.0.0');
const base: Graph = {
  packages: [acme],
  resolutions: [[range(null, 'acme', 'npm:^1.0.0'), acme]],
  checksums: { 'acme@npm:1.0.0': '10c0/aaaa' },
};
const keyOf = (graph: Graph, stage: 'before-fetch' | 'after-fetch' = 'before-fetch') =>
  installVerdictKey(stage, inputs, graphBeforeFetch(project(graph)));

describe('install verdict key', () => {
  test('the same graph and inputs give the same key', () => {
    assert.equal(keyOf(base), keyOf({ ...base, packages: [pkg(null, 'acme', 'npm:1.0.0')] }));
  });

  test('every per-package input changes it: checksum, version, reference, edge, installed here', () => {
    const key = keyOf(base);
    assert.notEqual(keyOf({ ...base, checksums: { 'acme@npm:1.0.0': '10c0/bbbb' } }), key);
    assert.notEqual(keyOf({ ...base, packages: [pkg(null, 'acme', 'npm:1.0.0', '1.0.1')] }), key);
    const other = pkg(null, 'acme', 'npm:1.0.2');
    assert.notEqual(
      keyOf({ ...base, packages: [other], resolutions: [[range(null, 'acme', 'npm:^1.0.0'), other]] }),
      key,
    );
    assert.notEqual(
      keyOf({ ...base, resolutions: [[range(null, 'acme', 'npm:1.0.0'), acme]] }),
      key,
      'a descriptor of another range resolving to it',
    );
    assert.notEqual(keyOf({ ...base, disabled: [acme] }), key);
  });

  test('names are spelled: `abc` and `@a/bc`, whose Yarn hashes are equal, give different keys', () => {
    const plain = pkg(null, 'abc', 'npm:1.0.0');
    const scoped = pkg('a', 'bc', 'npm:1.0.0');
    assert.equal(plain.locatorHash, scoped.locatorHash, 'Yarn hashes the two alike');
    const graph = (p: Package, d: Descriptor): Graph => ({ packages: [p], resolutions: [[d, p]] });
    assert.notEqual(
      keyOf(graph(plain, range(null, 'abc', 'npm:^1.0.0'))),
      keyOf(graph(scoped, range(null, 'abc', 'npm:^1.0.0'))),
    );
  });

  test('the stages are keyed apart, and a record of one is never read as the other', () => {
    assert.notEqual(keyOf(base, 'before-fetch'), keyOf(base, 'after-fetch'));
    const secret = Buffer.alloc(32, 7);
    const now = new Date();
    const key = keyOf(base)!;
    writeInstallVerdict(dir, secret, 'before-fetch', key, null, [], now);
    assert.notEqual(readInstallVerdict(dir, secret, 'before-fetch', key, now), null);
    assert.equal(readInstallVerdict(dir, secret, 'after-fetch', key, now), null);
    assert.equal(readInstallVerdict(dir, Buffer.alloc(32, 8), 'before-fetch', key, now), null, 'another key');
    const later = new Date(now.getTime() + 13 * 3600_000);
    assert.equal(readInstallVerdict(dir, secret, 'before-fetch', key, later), null, 'expired');
  });

  test('the full list of decisions is read only with the verdict it was written with', () => {
    const secret = Buffer.alloc(32, 7);
    const key = keyOf(base, 'after-fetch')!;
    const decision = { package: { name: 'a', version: '1.0.0', locator: 'a@npm:1.0.0' } } as Decision;
    const remembered = {
      tally: { allowed: 1, warned: 0, denied: 0, verified: 1 },
      said: [],
      buildable: ['a@npm:1.0.0'],
    };
    const first = new Date();
    writeInstallVerdict(dir, secret, 'after-fetch', key, remembered, [], first);
    const without = readInstallVerdict(dir, secret, 'after-fetch', key, first)!;
    assert.deepEqual(without.buildable, ['a@npm:1.0.0']);
    assert.equal(readEveryDecision(dir, secret, without), null, 'not written without `every`');

    writeInstallVerdict(dir, secret, 'after-fetch', key, remembered, [], first, [decision]);
    const withList = readInstallVerdict(dir, secret, 'after-fetch', key, first)!;
    assert.deepEqual(readEveryDecision(dir, secret, withList), [decision]);
    assert.equal(readEveryDecision(dir, Buffer.alloc(32, 8), withList), null, 'another key');

    // a later install that wrote no list: the earlier list does not stand in for its decisions
    const second = new Date(first.getTime() + 1000);
    writeInstallVerdict(dir, secret, 'after-fetch', key, remembered, [], second);
    const later = readInstallVerdict(dir, secret, 'after-fetch', key, second)!;
    assert.equal(readEveryDecision(dir, secret, later), null);
  });

  test('entries older than any verdict can be valid are deleted when a verdict is written; nothing else is', () => {
    const secret = Buffer.alloc(32, 7);
    const folder = join(dir, 'install-verdicts');
    const now = new Date();
    const stale = new Date(now.getTime() - 13 * 3600_000);
    const old = ['a'.repeat(64), `${'a'.repeat(64)}.decisions`].map((n) => join(folder, `${n}.json`));
    const recent = join(folder, `${'b'.repeat(64)}.json`);
    const leftover = join(folder, `${'c'.repeat(64)}.123.k2j4.tmp`);
    const foreign = join(folder, 'notes.json');
    writeInstallVerdict(dir, secret, 'before-fetch', 'd'.repeat(64), null, [], now);
    for (const file of [...old, recent, leftover, foreign]) writeFileSync(file, '{}');
    for (const file of [...old, leftover, foreign]) utimesSync(file, stale, stale);

    writeInstallVerdict(dir, secret, 'before-fetch', 'e'.repeat(64), null, [], now);
    assert.ok(
      old.every((f) => existsSync(f)),
      'a before-fetch write deletes nothing',
    );
    writeInstallVerdict(dir, secret, 'after-fetch', 'f'.repeat(64), null, [], now);
    assert.deepEqual(
      [...old, leftover].filter((f) => existsSync(f)),
      [],
      'expired entries and leftover temporary files are gone',
    );
    assert.ok(existsSync(recent) && existsSync(foreign), 'a recent entry and a file not ours stay');
    assert.notEqual(readInstallVerdict(dir, secret, 'after-fetch', 'f'.repeat(64), now), null);
  });

  test('a policy edit changes it', () => {
    const key = keyOf(base);
    writeFileSync(join(dir, '.tollgate.yml'), 'version: 1\nmode: warn\n');
    assert.notEqual(keyOf(base), key);
  });
});
