// One writer per data folder: a second server on the same --data refuses to start and names the
// running one; the lock of a server that is gone is taken over, by exactly one of several
// processes starting at once.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { acquireDataLock, DataFolderInUseError, LOCK_FILE } from '../../server/data-lock';
import { repoRoot, runCli, spawnCli, startTestServer, tempDir, waitFor } from './helpers';

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

const staleRecord = (pid: number, host = hostname()) =>
  JSON.stringify({
    pid,
    host,
    nonce: 'f'.repeat(32),
    startedAt: '2026-01-01T00:00:00.000Z',
    url: 'http://127.0.0.1:1',
  });

test('the lock refuses a second holder, names the first, and is free again after release', (t) => {
  const dir = tempDir(t);
  const first = acquireDataLock(dir);
  first.setUrl('http://127.0.0.1:4242');
  assert.throws(
    () => acquireDataLock(dir),
    (err: unknown) => {
      assert.ok(err instanceof DataFolderInUseError);
      assert.equal(err.exitCode, 4);
      assert.match(
        err.message,
        new RegExp(`in use by another tollgate-server \\(pid ${process.pid}, http://127\\.0\\.0\\.1:4242`),
      );
      return true;
    },
  );
  first.release();
  assert.ok(!existsSync(join(dir, LOCK_FILE)));
  acquireDataLock(dir).release();
  assert.deepEqual(readdirSync(dir), [], 'no scratch or claim files are left behind');
});

test('a stale lock is taken over; a lock from another host or an unreadable one is not', (t) => {
  const dir = tempDir(t);
  const pid = deadPid();
  writeFileSync(join(dir, LOCK_FILE), staleRecord(pid));
  const messages: string[] = [];
  const lock = acquireDataLock(dir, (m) => messages.push(m));
  assert.match(
    messages.join(''),
    new RegExp(`took over the lock .* gone \\(pid ${pid}, http://127\\.0\\.0\\.1:1`),
  );
  lock.release();

  writeFileSync(join(dir, LOCK_FILE), staleRecord(pid, 'another-host.example'));
  assert.throws(
    () => acquireDataLock(dir),
    /pid \d+, http:\/\/127\.0\.0\.1:1, started .* on another-host\.example/,
  );
  writeFileSync(join(dir, LOCK_FILE), 'garbage');
  assert.throws(() => acquireDataLock(dir), /is not a tollgate-server lock; .*remove/);
});

test('of several processes taking over one stale lock at once, exactly one gets it', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, LOCK_FILE), staleRecord(deadPid()));
  const script = `
    import { acquireDataLock } from ${JSON.stringify(join(repoRoot, 'server/data-lock.ts'))};
    try {
      acquireDataLock(process.argv[1]);
      process.stdout.write('acquired\\n');
      process.stdin.resume(); // hold the lock until the test closes stdin
      process.stdin.on('end', () => process.exit(0));
    } catch (err) {
      process.stdout.write('refused\\n');
      process.exit(0);
    }`;
  const children = Array.from({ length: 6 }, () =>
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  t.after(() => {
    for (const child of children) child.kill('SIGKILL');
  });
  const outcomes = await Promise.all(
    children.map(async (child) => {
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      return line.toString().trim();
    }),
  );
  assert.equal(outcomes.filter((o) => o === 'acquired').length, 1, outcomes.join(', '));
  assert.equal(outcomes.filter((o) => o === 'refused').length, 5);
  for (const child of children) child.stdin!.end();
  await Promise.all(children.map((child) => (child.exitCode === null ? once(child, 'exit') : null)));
});

test('a second server on the same data folder refuses to start, naming the running one', async (t) => {
  const data = tempDir(t);
  const first = await spawnCli(t, ['--data', data, '--port', '0']);
  const second = await runCli(['--data', data, '--port', '0']);
  assert.equal(second.code, 4, second.stderr);
  assert.equal(second.stdout, '');
  assert.match(
    second.stderr,
    new RegExp(
      `in use by another tollgate-server \\(pid ${first.child.pid}, ${first.ready.url.replace(/\./g, '\\.')}, started `,
    ),
  );
  // In-process, against the same folder: the same refusal, before anything is opened.
  await assert.rejects(startTestServer(t, { dataDir: data }), DataFolderInUseError);

  first.kill();
  await first.exit;
  const third = await spawnCli(t, ['--data', data, '--port', '0']);
  await waitFor(() => /took over the lock/.test(third.stderr()), 'the takeover message');
  assert.match(third.stderr(), new RegExp(`took over the lock of .* \\(pid ${first.child.pid}, `));
  third.child.kill('SIGTERM');
  assert.deepEqual(await third.exit, { code: 0, signal: null }, third.stderr());
  assert.ok(!existsSync(join(data, LOCK_FILE)), 'a clean stop releases the lock');
});
