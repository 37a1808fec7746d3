// End to end: a log that shows different histories. The honest log is a real tollgate-server; the
// attacker runs a second process of the same instance (its keys copied, so everything it serves is
// signed with the real log key) holding another history, and a proxy decides which one a monitor is
// shown. Other observers' checkpoints (a state file, a URL) catch a log that shows each its own tree.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildPackage } from '../harness/packages';
import { Scope } from '../harness/scope';
import { type SigstoreServer, startSigstoreServer } from '../harness/sigstore';
import {
  type LogCopy,
  monitorBin,
  ndjson,
  removeLater,
  runMonitor,
  type SwitchableProxy,
  startLogCopy,
  startSwitchableProxy,
  temporary,
} from './support';

describe('tollgate-monitor: split views, forks and rollbacks (real server, a forked copy as the attacker)', () => {
  const scope = new Scope();
  const cleanup = new Scope();
  let honest: SigstoreServer;
  let forked: LogCopy;
  let proxy: SwitchableProxy;
  let dir: string;

  const sign = async (on: 'honest' | 'forked', version: string) => {
    const pkg = await buildPackage({ name: 'some-lib', version });
    if (on === 'honest') await honest.signPackage(pkg, { kind: 'email', email: 'dev@elsewhere.example' });
    else await forked.signAs('dev@elsewhere.example', pkg);
  };

  function writeConfig(name: string, url: string, witnesses: string[] = [], logLines: string[] = []): string {
    const file = `${name}.yml`;
    writeFileSync(
      join(dir, file),
      [
        'version: 1',
        `state: ${name}.state.json`,
        'logs:',
        '  - name: acme-log',
        `    url: ${url}`,
        '    trustedRoot: trusted_root.json',
        '    start: 0',
        ...logLines,
        'identities:',
        '  - name: release-bot',
        '    email: release-bot@acme.example',
        ...(witnesses.length ? ['witnesses:', ...witnesses] : []),
        '',
      ].join('\n'),
    );
    return file;
  }

  before(async () => {
    honest = await startSigstoreServer(scope, 'monitor-honest');
    removeLater(cleanup, honest);
    forked = await startLogCopy(scope, cleanup, honest);
    proxy = await startSwitchableProxy(scope, honest.url);
    dir = temporary(cleanup, 'monitor-split');
    writeFileSync(join(dir, 'trusted_root.json'), honest.trustedRootJson);
    await sign('honest', '1.0.0');
    await sign('honest', '1.0.1');
    await sign('forked', '6.6.6');
    await sign('forked', '6.6.7');
  });

  after(async () => {
    await scope.close();
    await cleanup.close();
  });

  test('a log that serves another tree of the same size raises the inconsistency alarm with both checkpoints', async () => {
    // An observer of the honest log at 2 entries, for the witness test below.
    assert.equal((await runMonitor(dir, ['--config', writeConfig('honest-early', honest.url)])).code, 0);

    const config = writeConfig('fork', proxy.url);
    proxy.point(honest.url);
    const first = await runMonitor(dir, ['--config', config, '--json']);
    assert.equal(first.code, 0, first.output);
    assert.equal(ndjson(first.stdout).find((l) => l.type === 'log')?.verifiedSize, 2);

    proxy.point(forked.url);
    const second = await runMonitor(dir, ['--config', config, '--json']);
    assert.equal(second.code, 3, second.output);
    const [finding, ...more] = ndjson(second.stdout).filter((l) => l.type === 'finding');
    assert.deepEqual(more, []);
    assert.equal(finding!.kind, 'log-inconsistent');
    assert.match(finding!.summary, /signed two different trees of 2 entries/);
    assert.equal(finding!.checkpoints.length, 2);
    const [known, served] = finding!.checkpoints;
    assert.equal(known.size, 2);
    assert.equal(served.size, 2);
    assert.notEqual(known.rootHash, served.rootHash);
    for (const checkpoint of finding!.checkpoints) assert.match(checkpoint.note, /^127\.0\.0\.1 - \d+\n2\n/);
    assert.equal(ndjson(second.stdout).find((l) => l.type === 'log')?.halted, true);

    // The log stays halted at the verified checkpoint; the alarm is not new, the exit code stays 3.
    const text = await runMonitor(dir, ['--config', config]);
    assert.equal(text.code, 3, text.output);
    assert.match(text.stdout, /still: log acme-log signed two different trees of 2 entries/);
    assert.match(text.stdout, /HALTED at 2 of 2 entries/);
  });

  test('a forked tree that grew further fails the consistency proof', async () => {
    await sign('forked', '6.6.8');
    const config = writeConfig('grown', proxy.url);
    proxy.point(honest.url);
    assert.equal((await runMonitor(dir, ['--config', config])).code, 0);
    proxy.point(forked.url);
    const res = await runMonitor(dir, ['--config', config]);
    assert.equal(res.code, 3, res.output);
    assert.match(
      res.stdout,
      /LOG INCONSISTENT: log acme-log's tree of 3 entries does not extend its tree of 2/,
    );
    assert.match(res.stdout, /consistency proof from 2 to 3 .* does not verify/);
    assert.match(
      res.stdout,
      /signed note \(the last verified checkpoint \(state file\)\):\n {6}\| 127\.0\.0\.1 - \d+\n {6}\| 2\n/,
    );
  });

  test('a log that rolls back to a smaller tree raises the rollback alarm', async () => {
    const config = writeConfig('rollback', proxy.url);
    proxy.point(forked.url);
    assert.equal((await runMonitor(dir, ['--config', config])).code, 0);
    proxy.point(honest.url);
    const res = await runMonitor(dir, ['--config', config, '--json']);
    assert.equal(res.code, 3, res.output);
    const finding = ndjson(res.stdout).find((l) => l.type === 'finding')!;
    assert.equal(finding.kind, 'log-rollback');
    assert.deepEqual(
      finding.checkpoints.map((c: { size: number }) => c.size),
      [3, 2],
    );
  });

  test("another observer's checkpoints (state file or URL) reveal a log that shows each client its own tree", async () => {
    await sign('honest', '1.0.2'); // both histories now have 3 entries
    // The attacker shows the forked tree to another monitor...
    const other = writeConfig('victim', forked.url);
    assert.equal((await runMonitor(dir, ['--config', other])).code, 0);
    // ...which publishes its checkpoints for others (here over HTTP).
    const published = await runMonitor(dir, ['checkpoints', '--config', other]);
    assert.equal(published.code, 0, published.output);
    const served = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(published.stdout),
    );
    await new Promise<void>((resolve) => served.listen(0, '127.0.0.1', resolve));
    scope.defer(() => new Promise<void>((resolve) => served.close(() => resolve())));
    const url = `http://127.0.0.1:${(served.address() as AddressInfo).port}/checkpoints.json`;

    const config = writeConfig('watcher', honest.url, [
      '  - name: victim-state',
      '    file: victim.state.json',
      '  - name: victim-url',
      `    url: ${url}`,
      '  - name: early-honest',
      '    file: honest-early.state.json',
    ]);
    const res = await runMonitor(dir, ['--config', config, '--json']);
    assert.equal(res.code, 3, res.output);
    const findings = ndjson(res.stdout).filter((l) => l.type === 'finding');
    assert.deepEqual(
      findings.map((f) => f.kind),
      ['split-view', 'split-view'],
    );
    assert.deepEqual(
      findings.map((f) => f.checkpoints[1].observedFrom),
      ['witness victim-state', 'witness victim-url'],
    );
    for (const finding of findings) {
      assert.equal(finding.checkpoints[0].size, 3);
      assert.equal(finding.checkpoints[1].size, 3);
      assert.notEqual(finding.checkpoints[0].rootHash, finding.checkpoints[1].rootHash);
    }
    // The honest early observer (2 entries) is consistent with this monitor's tree: no finding from it.
    assert.match(res.stdout, /compared 3 checkpoint\(s\) from 3 witness\(es\)/);
  });

  // Per-entry reads, and the batch read (bodies only, as tollgate-server answers it to the monitor).
  for (const [batchRead, readMode] of [
    ['single', 'single'],
    ['auto', 'retrieve-bodies'],
  ] as const) {
    test(`a log that serves an entry which is not the one in its signed tree is caught, and the entry is not believed (${batchRead} reads)`, async () => {
      const config = writeConfig(`tampered-${batchRead}`, proxy.url, [], [`    batchRead: ${batchRead}`]);
      proxy.point(honest.url);
      // Entry 1 is answered with entry 0's body (and the UUID recomputed to match it).
      const entry0 = (await (await fetch(`${honest.url}/api/v1/log/entries?logIndex=0`)).json()) as Record<
        string,
        { body: string }
      >;
      const body0 = Object.values(entry0)[0]!.body;
      const uuid0 = createHash('sha256')
        .update(Buffer.of(0))
        .update(Buffer.from(body0, 'base64'))
        .digest('hex');
      const tamper = (item: Record<string, { body: string; logIndex: number }>) => {
        const [, entry] = Object.entries(item)[0]!;
        return entry.logIndex === 1 ? { [uuid0]: { ...entry, body: body0 } } : item;
      };
      let tampered = 0;
      proxy.rewrite((path, body) => {
        const single = path.endsWith('logIndex=1');
        if (!single && !path.startsWith('/api/v1/log/entries/retrieve')) return body;
        tampered++;
        const doc = JSON.parse(body.toString('utf8'));
        return Buffer.from(JSON.stringify(single ? tamper(doc) : doc.map(tamper)));
      });
      try {
        const res = await runMonitor(dir, ['--config', config, '--json']);
        assert.equal(res.code, 3, res.output);
        assert.ok(tampered > 0, 'the monitor read entry 1 through the tampering proxy');
        const finding = ndjson(res.stdout).find((l) => l.type === 'finding')!;
        assert.equal(finding.kind, 'log-inconsistent');
        assert.match(finding.summary, /served entries 0\.\.2 that are not in the tree it signed/);
        const log = ndjson(res.stdout).find((l) => l.type === 'log');
        assert.equal(log?.verifiedSize, 0);
        assert.equal(log?.readMode, readMode);
      } finally {
        proxy.rewrite(undefined);
      }
    });
  }

  test('a Rekor v1 log without the bodies view reads full entries, at most 10 per request; one without batch reads, entry by entry', async () => {
    proxy.point(honest.url);
    const { treeSize: size } = (await (await fetch(`${honest.url}/api/v1/log`)).json()) as {
      treeSize: number;
    };
    const asked: number[][] = [];
    try {
      // Rekor: the view parameter is unknown to it, full entries (SET and inclusion proof) answer.
      proxy.route(({ path, body }) => {
        if (!path.startsWith('/api/v1/log/entries/retrieve')) return undefined;
        asked.push(JSON.parse(body.toString('utf8')).logIndexes);
        return { path: '/api/v1/log/entries/retrieve' };
      });
      const full = await runMonitor(dir, ['--config', writeConfig('rekor-full', proxy.url), '--json']);
      assert.equal(full.code, 0, full.output);
      const fullLog = ndjson(full.stdout).find((l) => l.type === 'log');
      assert.equal(fullLog?.readMode, 'retrieve');
      assert.equal(fullLog?.verifiedSize, size);
      assert.deepEqual(asked.flat(), [...Array(size).keys()]);
      assert.ok(
        asked.every((indexes) => indexes.length <= 10),
        JSON.stringify(asked),
      );

      // A log that lacks the batch read (404 from its router, 405 or 501): one GET per entry.
      for (const status of [404, 405, 501]) {
        proxy.route(({ path }) =>
          path.startsWith('/api/v1/log/entries/retrieve')
            ? { status, body: JSON.stringify({ code: status, message: 'not here' }) }
            : undefined,
        );
        const single = await runMonitor(dir, [
          '--config',
          writeConfig(`rekor-${status}`, proxy.url),
          '--json',
        ]);
        assert.equal(single.code, 0, single.output);
        const log = ndjson(single.stdout).find((l) => l.type === 'log');
        assert.equal(log?.readMode, 'single', `HTTP ${status}`);
        assert.equal(log?.verifiedSize, size);
        assert.equal(log?.requests, 1 + 1 + size, `log info, the refused batch read, ${size} entries`);
      }
    } finally {
      proxy.route(undefined);
    }
  });

  test('a checkpoint whose signature does not verify is refused, and nothing is concluded from it', async () => {
    const config = writeConfig('bad-signature', proxy.url);
    proxy.point(honest.url);
    proxy.rewrite((path, body) => {
      if (path !== '/api/v1/log') return body;
      const info = JSON.parse(body.toString('utf8')) as { signedTreeHead: string };
      const lines = info.signedTreeHead.split('\n');
      lines[2] = Buffer.alloc(32, 7).toString('base64'); // another root under the same signature
      return Buffer.from(
        JSON.stringify({ ...info, signedTreeHead: lines.join('\n'), rootHash: '07'.repeat(32) }),
      );
    });
    try {
      const res = await runMonitor(dir, ['--config', config]);
      assert.equal(res.code, 4, res.output);
      assert.match(
        res.stdout,
        /! CHECKPOINT_INVALID \(log acme-log\): the checkpoint's signature by 127\.0\.0\.1 .* does not verify/,
      );
    } finally {
      proxy.rewrite(undefined);
    }
  });

  test('a first run from the latest entry starts from one verified inclusion proof and sees what comes after', async () => {
    const file = writeConfig('latest', honest.url).replace('.yml', '');
    const text = readFileSync(join(dir, `${file}.yml`), 'utf8').replace('    start: 0\n', '');
    writeFileSync(join(dir, `${file}.yml`), text);
    const first = await runMonitor(dir, ['--config', `${file}.yml`, '--json']);
    assert.equal(first.code, 0, first.output);
    const size = ndjson(first.stdout).find((l) => l.type === 'log')!.verifiedSize;
    assert.ok(size >= 3);
    assert.ok(
      ndjson(first.stdout).some((l) => l.type === 'note' && l.message.includes(`is read from index ${size}`)),
    );
    const pkg = await buildPackage({ name: 'acme-utils', version: '7.0.0' });
    await honest.signPackage(pkg, { kind: 'email', email: 'release-bot@acme.example' });
    const second = await runMonitor(dir, ['--config', `${file}.yml`, '--json']);
    assert.equal(second.code, 1, second.output);
    const [finding] = ndjson(second.stdout).filter((l) => l.type === 'finding');
    assert.equal(finding?.entry.logIndex, size);
  });

  test('--interval runs until SIGTERM, reporting each new event once', async () => {
    const config = writeConfig('service', honest.url);
    const child = spawn(process.execPath, [monitorBin, '--config', config, '--interval', '200ms'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    scope.defer(() => child.kill('SIGKILL'));
    const waitFor = async (pattern: RegExp) => {
      for (let i = 0; i < 300 && !pattern.test(stdout); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(stdout, pattern);
    };
    await waitFor(/tollgate-monitor: .*exit 1\n/); // the first run reports the event signed in the test above
    const pkg = await buildPackage({ name: 'acme-utils', version: '7.0.1' });
    await honest.signPackage(pkg, { kind: 'email', email: 'release-bot@acme.example' });
    // ...and a later run the new one, after which runs find nothing new.
    await waitFor(
      /unexpected signing event(?:.*\n)+.*unexpected signing event(?:.*\n)+tollgate-monitor: .*exit 0\n/,
    );
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const runs = stdout.match(/^tollgate-monitor: /gm)?.length ?? 0;
    assert.ok(runs >= 2, stdout);
    assert.equal(stdout.match(/unexpected signing event/g)?.length, 2, stdout);
  });
});
