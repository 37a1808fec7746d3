// The database: importing (zip, folder, list files), the index format, and matching — registry
// before name, then version or digest; withdrawn records; bundles; compromised identity windows.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { zipSync } from 'fflate';
import {
  bytesFiles,
  folderFiles,
  ImportProblem,
  importFiles,
  type KnownBadSources,
  loadKnownBadList,
  matchRelease,
  openIndex,
  PUBLIC_REGISTRY,
  registriesFor,
} from '../../knownbad';
import type { VerifiedBundle } from '../../policy/evidence/types';
import { tempDir } from '../harness/paths';
import { policyOf } from '../policy/helpers';
import { malicious, malRecord, recordText } from './records';

const NOW = new Date('2026-06-01T00:00:00Z');
const ACME = 'https://npm.acme.example/';
const sri = (n: number) => `sha512-${Buffer.alloc(64, n).toString('base64')}`;

function folderWith(files: Record<string, string>): string {
  const dir = tempDir('kb-source');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function sourcesOf(index: Buffer, label = 'test'): KnownBadSources {
  return { indexes: [{ index: openIndex(index), label }], lists: [] };
}

const records = {
  'osv/malicious/npm/acme-utils/MAL-2026-10.json': recordText(
    malRecord({ id: 'MAL-2026-10', name: 'acme-utils', ranges: [[{ introduced: '0' }]] }),
  ),
  'osv/malicious/npm/@evil/kit/MAL-2026-11.json': recordText(
    malRecord({ id: 'MAL-2026-11', name: '@evil/kit', versions: ['1.0.0', '1.0.1'], integrity: [sri(3)] }),
  ),
  'osv/withdrawn/npm/left-pad/MAL-2026-12.json': recordText(
    malRecord({
      id: 'MAL-2026-12',
      name: 'left-pad',
      versions: ['1.3.0'],
      withdrawn: '2026-04-01T00:00:00Z',
    }),
  ),
  'osv/malicious/npm/broken/MAL-0000-broken.json': '{"summary": "no id"}',
  'README.md': 'not a record',
};

describe('importing', () => {
  it('reads a folder (an ossf/malicious-packages checkout), counting what it skipped', () => {
    const { header, index } = importFiles(folderFiles(folderWith(records)), { source: 'mal', now: NOW });
    assert.equal(header.counts.records, 3);
    assert.equal(header.counts.withdrawn, 1);
    assert.equal(header.counts.invalid, 1);
    assert.match(header.problems[0]!, /MAL-0000-broken\.json: \(record\): "id" is required/);
    assert.equal(header.asOf, NOW.toISOString());
    const opened = openIndex(index);
    assert.equal(opened.size, 3);
    assert.equal(opened.lookup(PUBLIC_REGISTRY, 'acme-utils')[0]!.id, 'MAL-2026-10');
    assert.deepEqual(opened.lookup(PUBLIC_REGISTRY, 'acme-util'), []);
  });

  it('reads a zip export (as osv.dev publishes them) and the real MAL records', () => {
    const files: Record<string, Uint8Array> = {};
    for (const [name, text] of Object.entries(records)) files[name] = Buffer.from(text);
    const zip = Buffer.from(zipSync(files));
    const fromZip = importFiles(bytesFiles(zip, 'all.zip'), { source: 'all.zip', now: NOW });
    assert.equal(fromZip.header.counts.records, 3);
    const real = importFiles(folderFiles(malicious()), { source: 'mal', now: NOW });
    assert.equal(real.header.counts.invalid, 10, 'the ten MAL-0000 per-source copies fail the schema');
    assert.ok(openIndex(real.index).lookup(PUBLIC_REGISTRY, '@ctrl/tinycolor').length >= 1);
  });

  it('refuses a source with nothing usable, and bytes that are not a zip or a record', () => {
    assert.throws(
      () => importFiles(folderFiles(folderWith({ 'a.json': '{}' })), { source: 'empty', now: NOW }),
      (err: Error) =>
        err instanceof ImportProblem && /no valid OSV record.*"id" is required/.test(err.message),
    );
    const notZip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]);
    assert.throws(() => [...bytesFiles(notZip, 'x.zip')], ImportProblem);
  });

  it('refuses a damaged or truncated index', () => {
    const { index } = importFiles(folderFiles(folderWith(records)), { source: 'mal', now: NOW });
    assert.throws(() => openIndex(index.subarray(0, index.length - 3)), /truncated/);
    assert.throws(() => openIndex(Buffer.from('hello\n')), /not a Tollgate known-bad index/);
  });
});

describe('matching', () => {
  const { index } = importFiles(folderFiles(folderWith(records)), { source: 'mal', now: NOW });
  const db = sourcesOf(index, 'mal');
  const policy = policyOf(`version: 1
rules:
  - name: acme
    packages: ["acme-*"]
    registries: [${ACME}]
`);
  const PUBLIC_URL = 'https://registry.example.org/';

  it('a public record denies the public package, never the private one of the same name', () => {
    const publicOne = registriesFor(policyOf('version: 1\n'), 'acme-utils', PUBLIC_URL, [PUBLIC_URL]);
    assert.deepEqual(publicOne, [PUBLIC_URL, PUBLIC_REGISTRY]);
    const hits = matchRelease(db, { name: 'acme-utils', version: '1.2.0', registries: publicOne }, NOW);
    assert.equal(hits.length, 1);
    assert.equal(hits[0]!.id, 'MAL-2026-10');
    assert.equal(hits[0]!.by, 'version');
    assert.match(hits[0]!.detail, /version 1\.2\.0 in SEMVER introduced 0/);
    assert.equal(hits[0]!.source, 'mal: osv/malicious/npm/acme-utils/MAL-2026-10.json');
    const privateOne = registriesFor(policy, 'acme-utils', ACME, [PUBLIC_URL]);
    assert.deepEqual(privateOne, [ACME]);
    assert.deepEqual(
      matchRelease(db, { name: 'acme-utils', version: '1.2.0', registries: privateOne }, NOW),
      [],
    );
  });

  it('a name bound to the public registry, or unbound and fetched through a proxy, is the public package', () => {
    const bound = policyOf(`version: 1
rules:
  - packages: [sigstore]
    registries: [${PUBLIC_URL}]
`);
    assert.deepEqual(registriesFor(bound, 'sigstore', PUBLIC_URL, [PUBLIC_URL]), [
      PUBLIC_URL,
      PUBLIC_REGISTRY,
    ]);
    assert.deepEqual(registriesFor(policy, 'debug', ACME, [PUBLIC_URL]), [ACME, PUBLIC_REGISTRY]);
  });

  it('matches by tarball digest, and not other versions without it', () => {
    const registries = [PUBLIC_REGISTRY];
    const byDigest = matchRelease(
      db,
      { name: '@evil/kit', version: '9.9.9', registries, integrity: sri(3) },
      NOW,
    );
    assert.deepEqual(
      byDigest.map((m) => m.by),
      ['digest'],
    );
    assert.deepEqual(
      matchRelease(db, { name: '@evil/kit', version: '2.0.0', registries, integrity: sri(4) }, NOW),
      [],
    );
    assert.equal(
      matchRelease(db, { name: '@evil/kit', version: '1.0.1', registries }, NOW)[0]!.by,
      'version',
    );
  });

  it('a withdrawn record matches nothing once withdrawn', () => {
    const release = { name: 'left-pad', version: '1.3.0', registries: [PUBLIC_REGISTRY] };
    assert.deepEqual(matchRelease(db, release, NOW), []);
    assert.equal(
      matchRelease(db, release, new Date('2026-03-15T00:00:00Z')).length,
      1,
      'before it was withdrawn',
    );
  });

  describe('the project list', () => {
    const signed = (subject: string, at: string | undefined, digest = 'ab'.repeat(32)): VerifiedBundle => ({
      kind: 'signature',
      source: 'store',
      bundleDigest: digest,
      trustRoot: 'local',
      ...(at ? { integratedTime: Date.parse(at) / 1000 } : {}),
      signer: { issuer: 'https://oidc.acme.example', subject, subjectKind: 'email', claims: {} },
    });
    const text = `version: 1
releases:
  - id: ACME-1
    package: acme-utils
    registry: ${ACME}
    versions: 1.4.0
    summary: the 1.4.0 build shipped a debug token
bundles:
  - digest: sha256:${'cd'.repeat(32)}
    summary: a replayed bundle
signers:
  - id: INC-42
    issuer: https://oidc.acme.example
    subject: release-bot@acme.example
    from: 2026-05-01T00:00:00Z
    until: 2026-05-03T00:00:00Z
    summary: the release bot's token leaked
`;
    const loaded = loadKnownBadList(text, '.tollgate.known-bad.yml');
    assert.ok(loaded.ok);
    const lists: KnownBadSources = { indexes: [], lists: [loaded.list] };

    it('names releases of one registry', () => {
      const hit = matchRelease(lists, { name: 'acme-utils', version: '1.4.0', registries: [ACME] }, NOW);
      assert.equal(hit[0]!.id, 'ACME-1');
      assert.match(hit[0]!.source, /\.tollgate\.known-bad\.yml:3:5/);
      assert.deepEqual(
        matchRelease(lists, { name: 'acme-utils', version: '1.4.0', registries: [PUBLIC_REGISTRY] }, NOW),
        [],
      );
    });

    it('names bundles by digest', () => {
      const bundles = [signed('someone@else.example', '2026-01-01T00:00:00Z', 'cd'.repeat(32))];
      const hit = matchRelease(lists, { name: 'x', version: '1.0.0', registries: [], bundles }, NOW);
      assert.deepEqual(
        hit.map((m) => [m.by, m.summary]),
        [['bundle', 'a replayed bundle']],
      );
    });

    it('a compromised identity denies what it signed inside the window, and only that', () => {
      const at = (time: string | undefined) =>
        matchRelease(
          lists,
          {
            name: 'x',
            version: '1.0.0',
            registries: [],
            bundles: [signed('release-bot@acme.example', time)],
          },
          NOW,
        );
      assert.equal(at('2026-05-02T12:00:00Z')[0]?.id, 'INC-42');
      assert.match(
        at('2026-05-02T12:00:00Z')[0]!.detail,
        /signed by release-bot@acme\.example .* at 2026-05-02T12:00:00\.000Z/,
      );
      assert.deepEqual(at('2026-04-30T23:59:59Z'), [], 'before the window');
      assert.deepEqual(at('2026-05-03T00:00:00Z'), [], 'the end is exclusive');
      assert.equal(
        at(undefined).length,
        1,
        'a signature with no log time cannot be placed outside the window',
      );
      const other = matchRelease(
        lists,
        {
          name: 'x',
          version: '1.0.0',
          registries: [],
          bundles: [signed('dev@acme.example', '2026-05-02T12:00:00Z')],
        },
        NOW,
      );
      assert.deepEqual(other, [], 'another identity in the window');
    });

    it('errors are located, with the field and the fix', () => {
      const cases: Array<[string, string, string, number]> = [
        ['version: 1\nreleases:\n  - package: x\n', 'missing-key', 'releases[0]', 3],
        [
          'version: 1\nreleases:\n  - package: x\n    verions: 1.0.0\n',
          'unknown-key',
          'releases[0].verions',
          4,
        ],
        ['version: 1\nbundles:\n  - digest: abc\n', 'invalid-value', 'bundles[0].digest', 3],
        [
          'version: 1\nsigners:\n  - issuer: i\n    from: 2026-05-02T00:00:00Z\n    until: 2026-05-01T00:00:00Z\n',
          'window-empty',
          'signers[0].until',
          5,
        ],
        [
          'version: 1\nsigners:\n  - issuer: i\n    subject: { regex: "a|b" }\n    from: 2026-05-02T00:00:00Z\n',
          'regex-unanchored',
          'signers[0].subject.regex',
          4,
        ],
        ['version: 1\nversion: 1\n', 'yaml-duplicate-key', '(document)', 2],
      ];
      for (const [yaml, code, field, line] of cases) {
        const result = loadKnownBadList(yaml, 'kb.yml');
        assert.equal(result.ok, false, yaml);
        if (result.ok) continue;
        const found = result.errors.find((e) => e.code === code);
        assert.ok(found, `${yaml}: ${JSON.stringify(result.errors)}`);
        assert.equal(found.field, field, yaml);
        assert.equal(found.line, line, yaml);
      }
    });
  });

  it('a list inside a snapshot is imported with its records', () => {
    const dir = folderWith({
      ...records,
      'known-bad.yml': `version: 1\nsigners:\n  - issuer: https://oidc.acme.example\n    subject: release-bot@acme.example\n    from: 2026-05-01T00:00:00Z\n`,
    });
    const { header } = importFiles(folderFiles(dir), { source: 'acme', now: NOW });
    assert.equal(header.counts.signers, 1);
    assert.equal(header.signers[0]!.origin, 'known-bad.yml:3:5');
    assert.equal(readFileSync(join(dir, 'known-bad.yml'), 'utf8').length > 0, true);
  });
});
