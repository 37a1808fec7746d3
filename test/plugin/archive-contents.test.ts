// A cache archive's package.json identity and build steps, read from the zip's central directory, are
// exactly what Yarn's ZipFS reads from it, for archives Yarn makes of real npm tarballs and for archives
// made to be read two ways (which fall back to ZipFS).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type Locator, structUtils, tgzUtils } from '@yarnpkg/core';
import { strToU8, Zip, ZipPassThrough, zipSync } from 'fflate';
import {
  bytesReader,
  centralDirectoryContents,
  readArchiveBytes,
  readArchiveContents,
  readThroughZipFS,
} from '../../plugin/sources/engine/archive-contents';
import { loadNpmFixture, NPM_PACKAGES } from '../evidence/fixtures';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-archive-contents-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let written = 0;
function onDisk(bytes: Uint8Array): string {
  const path = join(dir, `archive-${written++}.zip`);
  writeFileSync(path, bytes);
  return path;
}

const acme = structUtils.makeLocator(structUtils.makeIdent(null, 'acme-native'), 'npm:1.0.0');
const root = 'node_modules/acme-native';
const manifest = (extra: Record<string, unknown> = {}) =>
  strToU8(JSON.stringify({ name: 'acme-native', version: '1.0.0', ...extra }));

/** A zip written entry by entry, duplicates and odd names allowed (as an attacker would). */
function handWritten(entries: Array<[string, Uint8Array]>): Buffer {
  const chunks: Uint8Array[] = [];
  const zip = new Zip((err, chunk) => {
    if (err) throw err;
    chunks.push(chunk);
  });
  for (const [name, data] of entries) {
    const file = new ZipPassThrough(name);
    zip.add(file);
    file.push(data, true);
  }
  zip.end();
  return Buffer.concat(chunks);
}

function withComment(zip: Buffer, comment: string): Buffer {
  const out = Buffer.concat([zip, Buffer.from(comment)]);
  out.writeUInt16LE(comment.length, zip.length - 2);
  return out;
}

const fromDirectory = (bytes: Buffer, locator: Locator) =>
  centralDirectoryContents(bytes.length, bytesReader(bytes), locator);

/** A stored zip whose package.json bytes were changed after its CRC was written. */
function badCrc(): Buffer {
  const zip = Buffer.from(zipSync({ [`${root}/package.json`]: manifest() }, { level: 0 }));
  const at = zip.indexOf('"acme-native"');
  zip.write('"acme-nativX"', at);
  return zip;
}

/** A zip whose end record points at a directory that is no longer there. */
function truncated(): Buffer {
  const whole = Buffer.from(
    zipSync(
      { [`${root}/package.json`]: manifest(), [`${root}/big.bin`]: new Uint8Array(4096) },
      { level: 0 },
    ),
  );
  return Buffer.concat([whole.subarray(0, 1000), whole.subarray(whole.length - 22)]);
}

function bothWays(bytes: Buffer, locator: Locator) {
  const path = onDisk(bytes);
  return { read: readArchiveBytes(bytes, path, locator), zipfs: readThroughZipFS(path, locator) };
}

describe('archive contents', () => {
  test('Yarn archives of real npm tarballs: read from the central directory, equal to ZipFS', async () => {
    for (const [file, name, version] of NPM_PACKAGES) {
      const fixture = loadNpmFixture(file);
      const locator = structUtils.makeLocator(structUtils.parseIdent(name), `npm:${version}`);
      const zip = await tgzUtils.convertToZip(fixture.tarball, {
        prefixPath: structUtils.getIdentVendorPath(locator),
        stripComponents: 1,
      });
      const bytes = zip.getBufferAndClose();
      const fast = fromDirectory(bytes, locator);
      assert.notEqual(fast, 'irregular', `${file}: Yarn's own archive is read from its central directory`);
      assert.deepEqual(fast, readThroughZipFS(onDisk(bytes), locator), file);
      assert.deepEqual((fast as { manifest: unknown }).manifest, { name, version }, file);
      assert.deepEqual(readArchiveContents(onDisk(bytes), locator), fast, file);
    }
  });

  test('build steps: lifecycle scripts and a binding.gyp (file or folder), as ZipFS sees them', () => {
    const cases: Array<[Array<[string, Uint8Array]>, string[]]> = [
      [
        [[`${root}/package.json`, manifest({ scripts: { postinstall: 'node x', test: 'y' } })]],
        ['postinstall'],
      ],
      [
        [
          [`${root}/package.json`, manifest()],
          [`${root}/binding.gyp`, strToU8('{}')],
        ],
        ['node-gyp rebuild'],
      ],
      [
        [
          [`${root}/package.json`, manifest()],
          [`${root}/binding.gyp/x`, strToU8('{}')],
        ],
        ['node-gyp rebuild'],
      ],
      [
        [
          [`${root}/package.json`, manifest({ scripts: { install: 'make' } })],
          [`${root}/binding.gyp`, strToU8('')],
        ],
        ['install'],
      ],
      [
        [
          [`${root}/package.json`, manifest()],
          [`${root}/lib/binding.gyp`, strToU8('{}')],
        ],
        [],
      ],
    ];
    for (const [entries, steps] of cases) {
      const bytes = Buffer.from(zipSync(Object.fromEntries(entries)));
      assert.notEqual(fromDirectory(bytes, acme), 'irregular');
      const { read, zipfs } = bothWays(bytes, acme);
      assert.deepEqual(read, zipfs);
      assert.deepEqual(read?.buildSteps, steps);
    }
  });

  test('archives that could be read two ways are read through ZipFS', () => {
    const honest = manifest();
    const evil = manifest({ name: 'evil', scripts: { postinstall: 'curl evil' } });
    const cases: Array<[string, Buffer]> = [
      [
        'package.json twice',
        handWritten([
          [`${root}/package.json`, honest],
          [`${root}/package.json`, evil],
        ]),
      ],
      ['package.json spelled with ./', handWritten([[`${root}/./package.json`, evil]])],
      ['package.json spelled from the root', handWritten([[`/${root}/package.json`, evil]])],
      [
        'both spellings',
        handWritten([
          [`${root}/package.json`, honest],
          [`${root}/x/../package.json`, evil],
        ]),
      ],
      ['package.json whose CRC does not match', badCrc()],
      [
        'a comment after the directory',
        withComment(Buffer.from(zipSync({ [`${root}/package.json`]: honest })), 'hello'),
      ],
    ];
    for (const [label, bytes] of cases) {
      assert.equal(fromDirectory(bytes, acme), 'irregular', label);
      const { read, zipfs } = bothWays(bytes, acme);
      assert.deepEqual(read, zipfs, `${label}: the answer is ZipFS's`);
    }
  });

  test('unreadable archives and manifests read as nothing', () => {
    const cases: Array<[string, Buffer]> = [
      ['not a zip', Buffer.from('definitely not a zip file, just some bytes here')],
      ['no package.json', Buffer.from(zipSync({ [`${root}/index.js`]: strToU8('1') }))],
      ['package.json not JSON', Buffer.from(zipSync({ [`${root}/package.json`]: strToU8('{') }))],
      ['package.json is null', Buffer.from(zipSync({ [`${root}/package.json`]: strToU8('null') }))],
      ['truncated before its directory', truncated()],
    ];
    for (const [label, bytes] of cases) {
      const { read, zipfs } = bothWays(bytes, acme);
      assert.equal(read, null, label);
      assert.equal(zipfs, null, label);
      assert.equal(readArchiveContents(onDisk(bytes), acme), null, `${label}, from the file`);
    }
    assert.equal(readArchiveContents(join(dir, 'absent.zip'), acme), null);
  });
});
