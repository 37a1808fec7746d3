// OSV records: the real OpenSSF MAL records (../shared/fixtures/osv/malicious-npm) are read as OSV's own
// schema reads them, and Tollgate's evaluation follows OSV's rules (ranges, versions, prereleases).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { coversVersion, type IndexEntry, parseOsvRecord } from '../../knownbad';
import { malicious, malRecord, realOsvSchema, recordText } from './records';

const entryOf = (text: string, origin = 'test') => {
  const parsed = parseOsvRecord(text, origin);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.problem);
  return parsed;
};

describe('OSV records', () => {
  it('accepts exactly the real records the OSV schema accepts', () => {
    const validate = realOsvSchema();
    const files = readdirSync(malicious()).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 20, 'the shared MAL fixtures are there');
    for (const file of files) {
      const text = readFileSync(join(malicious(), file), 'utf8');
      const real = validate(JSON.parse(text));
      const ours = parseOsvRecord(text, file);
      assert.equal(
        ours.ok,
        real,
        `${file}: OSV schema says ${real}, Tollgate ${ours.ok ? 'accepts' : ours.problem}`,
      );
    }
  });

  it('refuses what the OSV schema refuses, naming the field', () => {
    const good = malRecord({ id: 'MAL-2026-1', name: 'left-padd', ranges: [[{ introduced: '0' }]] });
    const validate = realOsvSchema();
    // biome-ignore lint/suspicious/noExplicitAny: records are JSON documents the cases edit field by field
    const broken: Array<[string, (r: any) => void, RegExp]> = [
      ['no id', (r) => delete r.id, /"id" is required/],
      ['an empty id', (r) => (r.id = ''), /id: expected an id/],
      [
        'a local time',
        (r) => (r.modified = '2026-03-02T10:11:12+01:00'),
        /modified: expected an RFC 3339 UTC/,
      ],
      [
        'a range without introduced',
        (r) => (r.affected[0].ranges[0].events = [{ fixed: '1.0.0' }]),
        /events/,
      ],
      [
        'an event with two keys',
        (r) => (r.affected[0].ranges[0].events = [{ introduced: '0', fixed: '1.0.0' }]),
        /events/,
      ],
      [
        'fixed and last_affected together',
        (r) =>
          (r.affected[0].ranges[0].events = [
            { introduced: '0' },
            { fixed: '1.0.0' },
            { last_affected: '0.9.0' },
          ]),
        /events/,
      ],
      ['an unknown range type', (r) => (r.affected[0].ranges[0].type = 'NPM'), /type/],
      ['a package without a name', (r) => delete r.affected[0].package.name, /"name" is required/],
    ];
    for (const [what, edit, message] of broken) {
      const record = structuredClone(good);
      edit(record);
      assert.equal(validate(record), false, `${what}: the OSV schema refuses it`);
      const parsed = parseOsvRecord(JSON.stringify(record), 'x.json');
      assert.equal(parsed.ok, false, what);
      if (!parsed.ok) assert.match(parsed.problem, message, what);
    }
  });

  it('reads a real MAL record: id, summary, link, ranges, and only npm packages', () => {
    const text = readFileSync(join(malicious(), 'MAL-2025-47141.json'), 'utf8');
    const [one] = entryOf(text).entries;
    assert.equal(one!.name, '@ctrl/tinycolor');
    assert.equal(one!.registry, 'public');
    assert.equal(one!.entry.id, 'MAL-2025-47141');
    assert.equal(one!.entry.summary, 'Malicious code in @ctrl/tinycolor (npm)');
    assert.equal(one!.entry.link, 'https://github.com/advisories/GHSA-qjqf-7j6f-82c4');
    assert.deepEqual(one!.entry.aliases, ['GHSA-qjqf-7j6f-82c4']);
    const pypi = malRecord({ id: 'MAL-2026-2', name: 'requestz', versions: ['1.0'] });
    (pypi.affected as Array<{ package: { ecosystem: string } }>)[0]!.package.ecosystem = 'PyPI';
    assert.deepEqual(entryOf(JSON.stringify(pypi)).entries, []);
  });

  it('reads withdrawn, tarball digests and a purl naming another registry', () => {
    const sri = `sha512-${Buffer.alloc(64, 1).toString('base64')}`;
    const parsed = entryOf(
      recordText(
        malRecord({
          id: 'MAL-2026-3',
          name: 'acme-utils',
          versions: ['1.0.0'],
          integrity: [sri],
          withdrawn: '2026-04-01T00:00:00Z',
          purl: 'pkg:npm/acme-utils?repository_url=https://NPM.Acme.Example',
        }),
      ),
    );
    assert.equal(parsed.withdrawn, true);
    const [one] = parsed.entries;
    assert.equal(one!.registry, 'https://npm.acme.example/');
    assert.deepEqual(one!.entry.integrity, [sri]);
    assert.equal(one!.entry.withdrawn, '2026-04-01T00:00:00Z');
  });

  it('keeps control characters from a feed out of summaries', () => {
    const record = malRecord({ id: 'MAL-2026-4', name: 'x', versions: ['1.0.0'] });
    record.summary = 'Malicious\u001b[31m code\nin x';
    assert.equal(entryOf(JSON.stringify(record)).entries[0]!.entry.summary, 'Malicious [31m code in x');
  });
});

describe('OSV version evaluation', () => {
  const entry = (spec: Partial<IndexEntry>): IndexEntry => ({ id: 'T', origin: 't', ...spec });
  const ev = (events: Array<['i' | 'f' | 'l', string]>) => entry({ ranges: [{ type: 'SEMVER', events }] });
  const rows: Array<[string, IndexEntry, string, boolean]> = [
    ['introduced 0 covers everything', ev([['i', '0']]), '0.0.1', true],
    ['introduced 0 covers prereleases', ev([['i', '0']]), '1.0.0-rc.1', true],
    [
      'introduced/fixed: inside',
      ev([
        ['i', '1.95.6'],
        ['f', '1.95.8'],
      ]),
      '1.95.7',
      true,
    ],
    [
      'introduced/fixed: the fixed version is out',
      ev([
        ['i', '1.95.6'],
        ['f', '1.95.8'],
      ]),
      '1.95.8',
      false,
    ],
    [
      'introduced/fixed: below',
      ev([
        ['i', '1.95.6'],
        ['f', '1.95.8'],
      ]),
      '1.95.5',
      false,
    ],
    [
      'a prerelease of the fix is still affected',
      ev([
        ['i', '1.0.0'],
        ['f', '2.0.0'],
      ]),
      '2.0.0-beta.1',
      true,
    ],
    [
      'last_affected is affected',
      ev([
        ['i', '4.1.1'],
        ['l', '4.1.2'],
      ]),
      '4.1.2',
      true,
    ],
    [
      'above last_affected is not',
      ev([
        ['i', '4.1.1'],
        ['l', '4.1.2'],
      ]),
      '4.1.3',
      false,
    ],
    ['open-ended introduced', ev([['i', '1.205.2']]), '9.0.0', true],
    [
      'two introduced in a row',
      ev([
        ['i', '0.4.1'],
        ['i', '0.4.2'],
      ]),
      '0.4.1',
      true,
    ],
    [
      'events in any order',
      ev([
        ['f', '2.0.0'],
        ['i', '1.0.0'],
      ]),
      '1.5.0',
      true,
    ],
    ['listed versions, unsorted', entry({ versions: ['0.1.3', '0.1.2', '0.1.4'] }), '0.1.2', true],
    ['an unlisted version', entry({ versions: ['4.4.2'] }), '4.4.1', false],
    ['a version semver cannot read matches only when listed', ev([['i', '0']]), 'not-a-version', false],
  ];
  for (const [name, e, version, affected] of rows) {
    it(name, () => assert.equal(coversVersion(e, version) !== null, affected));
  }
});
