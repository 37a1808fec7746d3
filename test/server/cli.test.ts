// The executable's contract: one JSON ready line, clean exit 0 on SIGTERM, the same CA, keys and
// log after a restart, and a refusal to expose the development issuer beyond loopback.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { getJson, postJson, repoRoot, runCli, spawnCli, tempDir } from './helpers';

test('prints one JSON ready line, stops on SIGTERM and resumes the same instance', async (t) => {
  const data = tempDir(t);
  const first = await spawnCli(t, ['--data', data, '--port', '0']);
  assert.deepEqual(Object.keys(first.ready), ['url', 'trustedRoot', 'tuf', 'dataDir']);
  assert.match(first.ready.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(first.ready.trustedRoot, `${first.ready.url}/trusted_root.json`);
  assert.equal(first.ready.dataDir, data);
  const rootBefore = await getJson(first.ready.trustedRoot);
  const token = await postJson(`${first.ready.url}/oidc/token`, {
    sub: 'x@example.com',
    email: 'x@example.com',
  });
  assert.equal(token.status, 200);
  assert.equal(statSync(join(data, 'keys')).mode & 0o777, 0o700);
  assert.equal(statSync(join(data, 'keys', 'ca-root.key.pem')).mode & 0o777, 0o600);
  first.child.kill('SIGTERM');
  assert.deepEqual(await first.exit, { code: 0, signal: null });

  const second = await spawnCli(t, ['--data', data]);
  const rootAfter = await getJson(second.ready.trustedRoot);
  assert.deepEqual(
    rootAfter.certificateAuthorities[0].certChain,
    rootBefore.certificateAuthorities[0].certChain,
  );
  assert.deepEqual(rootAfter.tlogs[0].publicKey, rootBefore.tlogs[0].publicKey);
  assert.deepEqual(rootAfter.ctlogs[0].logId, rootBefore.ctlogs[0].logId);
  second.child.kill('SIGINT');
  assert.deepEqual(await second.exit, { code: 0, signal: null });
});

test('refuses the development issuer on a non-loopback host, and bad flags, with exit code 2', async () => {
  const run = runCli;
  const exposed = await run(['--data', join(repoRoot, '.tmp-never-created'), '--host', '0.0.0.0']);
  assert.equal(exposed.code, 2);
  assert.match(exposed.stderr, /--dangerously-allow-dev-oidc-on-non-loopback/);
  assert.equal(exposed.stdout, '');
  const badPort = await run(['--port', 'eighty']);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--port/);
  const threads = await run(['--verify-threads', 'many']);
  assert.equal(threads.code, 2);
  assert.match(threads.stderr, /--verify-threads must be 0 to 16/);
  const host = await run(['--allow-host', 'evil.example:80']);
  assert.equal(host.code, 2);
  assert.match(host.stderr, /--allow-host expects a host name or an IP address without a port/);
  const unknown = await run(['--frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /usage: tollgate-server/);
});
