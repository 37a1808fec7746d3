// What an earlier run read from a cache archive is used again only for that very file: any write,
// replacement or timestamp change since makes it read again; a document not written with this user's
// key, or edited, reads as empty; a file changed just before it was hashed is not remembered.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ArchiveContents } from '../../plugin/sources/engine/archive-contents';
import { ArchiveDigests, hashEarly } from '../../plugin/sources/engine/archive-digests';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-archive-digests-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const secret = randomBytes(32);
const cacheFolder = join(dir, 'tollgate');
const project = join(dir, 'project');
const contents: ArchiveContents = {
  manifest: { name: 'acme', version: '1.0.0' },
  buildSteps: ['postinstall'],
};
const root = 'node_modules/acme';

function archive(name: string, bytes = randomBytes(4096)): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** One run: read (and remember) the archive, write the document. */
async function firstRun(path: string, settledNs = 0n): Promise<string> {
  const digests = new ArchiveDigests(cacheFolder, secret, project, settledNs);
  const reading = await digests.read(path);
  digests.remember(path, root, reading, contents);
  digests.flush();
  return reading.digest;
}

// File timestamps move in clock ticks (milliseconds on most file systems): a change in the same tick as
// the hashing would keep them, which is why the code itself waits two seconds; these tests step past a tick.
const nextTick = () => new Promise((resolve) => setTimeout(resolve, 30));

const nextRun = () => new ArchiveDigests(cacheFolder, secret, project, 0n);

describe('archive digests', () => {
  test('the same file is not read again: its digest and contents are remembered', async () => {
    const path = archive('same.zip');
    const digest = await firstRun(path);
    assert.deepEqual(nextRun().remembered(path, root), { digest, contents });
    assert.equal(nextRun().remembered(path, 'node_modules/other'), null, 'another package folder');
  });

  test('rewritten with the same bytes, timestamps restored, or replaced by a copy: read again', async () => {
    const bytes = randomBytes(4096);
    const rewrite = archive('rewrite.zip', bytes);
    await firstRun(rewrite);
    await nextTick();
    writeFileSync(rewrite, bytes);
    assert.equal(nextRun().remembered(rewrite, root), null, 'written again');

    const touched = archive('touched.zip', bytes);
    await firstRun(touched);
    await nextTick();
    const { atime, mtime } = statSync(touched);
    writeFileSync(touched, Buffer.from(bytes).fill(1, 0, 16));
    utimesSync(touched, atime, mtime);
    assert.equal(nextRun().remembered(touched, root), null, 'changed, modification time put back');

    const replaced = archive('replaced.zip', bytes);
    await firstRun(replaced);
    await nextTick();
    copyFileSync(replaced, join(dir, 'copy.zip'));
    renameSync(join(dir, 'copy.zip'), replaced);
    assert.equal(nextRun().remembered(replaced, root), null, 'replaced by an identical copy');
  });

  test('an archive hashed as a stream (install): its digest is remembered for that file only', async () => {
    const bytes = randomBytes(3 << 20);
    const path = archive('streamed.zip', bytes);
    const first = nextRun();
    const digest = await first.hash(path);
    assert.equal(digest, createHash('sha512').update(bytes).digest('hex'));
    first.flush();
    assert.equal(nextRun().rememberedDigest(path), digest);
    assert.equal(nextRun().remembered(path, root), null, 'no contents were read: lockfile commands read it');
    await nextTick();
    writeFileSync(path, bytes);
    assert.equal(nextRun().rememberedDigest(path), null, 'written again');
  });

  test('contents of an archive Yarn validated: kept only for a file older than the process, used only for that file and digest', async () => {
    const bytes = randomBytes(4096);
    const path = archive('validated.zip', bytes);
    const digest = createHash('sha512').update(bytes).digest('hex');
    const later = BigInt(Date.now() + 60_000) * 1_000_000n;
    const first = nextRun();
    first.rememberValidated(path, root, digest, contents, statSync(path, { bigint: true }), later);
    first.flush();
    assert.deepEqual(nextRun().knownContents(path, root, digest), contents);
    assert.equal(nextRun().knownContents(path, root, 'f'.repeat(128)), null, 'another digest');
    assert.equal(nextRun().knownContents(path, 'node_modules/other', digest), null, 'another package folder');
    await nextTick();
    const { atime, mtime } = statSync(path);
    writeFileSync(path, Buffer.from(bytes).fill(1, 0, 16));
    utimesSync(path, atime, mtime);
    assert.equal(nextRun().knownContents(path, root, digest), null, 'changed, modification time put back');

    // changed after this process started: the bytes Yarn hashed may not be these
    const fresh = archive('validated-fresh.zip', bytes);
    const started = BigInt(Date.now() - 60_000) * 1_000_000n;
    const second = nextRun();
    second.rememberValidated(fresh, root, digest, contents, statSync(fresh, { bigint: true }), started);
    second.flush();
    assert.equal(nextRun().knownContents(fresh, root, digest), null);

    // changed between the stat before the reading and the one after
    const moving = archive('validated-moving.zip', bytes);
    const before = statSync(moving, { bigint: true });
    await nextTick();
    writeFileSync(moving, bytes);
    const third = nextRun();
    third.rememberValidated(moving, root, digest, contents, before, later);
    third.flush();
    assert.equal(nextRun().knownContents(moving, root, digest), null);
  });

  test('a file changed just before it was hashed is not remembered', async () => {
    const path = archive('racy.zip');
    await firstRun(path, 60_000_000_000n);
    assert.equal(nextRun().remembered(path, root), null);
  });

  test('a planted or edited document reads as empty', async () => {
    const path = archive('planted.zip');
    await firstRun(path);
    const folder = join(cacheFolder, 'archive-digests');
    const [file] = readdirSync(folder).filter((f) => f.endsWith('.json'));
    const stored = JSON.parse(readFileSync(join(folder, file!), 'utf8'));
    const body = JSON.parse(stored.body);
    body.entries[path].contents.buildSteps = [];
    writeFileSync(join(folder, file!), JSON.stringify({ ...stored, body: JSON.stringify(body) }));
    assert.equal(nextRun().remembered(path, root), null, 'edited, MAC kept');
    assert.equal(
      new ArchiveDigests(cacheFolder, randomBytes(32), project, 0n).remembered(path, root),
      null,
      "another user's key",
    );
    assert.equal(
      new ArchiveDigests(cacheFolder, secret, join(dir, 'other'), 0n).remembered(path, root),
      null,
    );
  });

  test('archives no longer in the cache are forgotten when a run writes the document', async () => {
    const kept = archive('kept.zip');
    const gone = archive('gone.zip');
    await firstRun(kept);
    await firstRun(gone);
    rmSync(gone);
    await firstRun(archive('fresh.zip'));
    const folder = join(cacheFolder, 'archive-digests');
    const stored = readdirSync(folder).map((f) =>
      JSON.parse(JSON.parse(readFileSync(join(folder, f), 'utf8')).body),
    );
    const paths = stored.flatMap((doc) => Object.keys(doc.entries));
    assert.ok(paths.includes(kept) && paths.includes(join(dir, 'fresh.zip')), paths.join());
    assert.ok(!paths.includes(gone), 'the removed archive is forgotten');
    assert.ok(nextRun().remembered(kept, root));
  });

  describe('hashed early, while the fetch step runs (hashEarly)', () => {
    const sha512 = (path: string) => createHash('sha512').update(readFileSync(path)).digest('hex');

    test("an unchanged archive: the early digest is the file's", async () => {
      const path = archive('early-same.zip');
      await nextTick();
      hashEarly(path, 0n);
      await nextTick();
      assert.equal(await nextRun().hash(path), sha512(path));
    });

    test('an archive rewritten (same size) after its early reading: hashed again, never the stale digest', async () => {
      const path = archive('early-rewritten.zip');
      await nextTick();
      hashEarly(path, 0n);
      await nextTick(); // the early reading is done
      writeFileSync(path, randomBytes(4096));
      assert.equal(await nextRun().hash(path), sha512(path));
    });

    test('an archive replaced by another file after its early reading: hashed again', async () => {
      const path = archive('early-replaced.zip');
      const other = archive('early-other.zip');
      await nextTick();
      hashEarly(path, 0n);
      await nextTick();
      renameSync(other, path);
      assert.equal(await nextRun().hash(path), sha512(path));
    });

    test('an archive changed too recently is not read early: the gate hashes it', async () => {
      const path = archive('early-racy.zip');
      hashEarly(path, 60_000_000_000n); // would wait a minute
      writeFileSync(path, randomBytes(4096));
      assert.equal(
        await new ArchiveDigests(cacheFolder, secret, project, 60_000_000_000n).hash(path),
        sha512(path),
      );
    });
  });
});
