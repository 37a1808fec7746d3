// End to end: a real tollgate-server (CA, log, store), a real Verdaccio, real keyless signing with
// unmodified sigstore, real git tags, a real webhook receiver on loopback, and the built
// tollgate-monitor executable run as a scheduled job would run it (a new process each time).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { MonitorState } from '../../monitor/state/state';
import { buildPackage } from '../harness/packages';
import { type Registry, startRegistry } from '../harness/registry';
import { Scope } from '../harness/scope';
import { type SigstoreServer, startSigstoreServer } from '../harness/sigstore';
import {
  gitRepository,
  ndjson,
  removeLater,
  runMonitor,
  startWebhookReceiver,
  temporary,
  type WebhookReceiver,
} from './support';

const RELEASER = 'release-bot@acme.example';

describe('tollgate-monitor: signing events of a watched identity (real server, registry, git, webhook)', () => {
  const scope = new Scope();
  const cleanup = new Scope();
  let server: SigstoreServer;
  let registry: Registry;
  let receiver: WebhookReceiver;
  let dir: string;

  /** Signs name@version as `email`, attaches the bundle to the store and publishes it. */
  async function release(version: string, email = RELEASER) {
    const pkg = await buildPackage({ name: 'acme-utils', version });
    const bundle = await server.signPackage(pkg, { kind: 'email', email }, { registry: registry.url });
    await server.attach(pkg.name, pkg.version, bundle);
    await registry.publish(pkg);
    const entry = (
      bundle as { verificationMaterial: { tlogEntries: { logIndex: string; integratedTime: string }[] } }
    ).verificationMaterial.tlogEntries[0]!;
    return {
      logIndex: Number(entry.logIndex),
      integratedTime: new Date(Number(entry.integratedTime) * 1000).toISOString(),
    };
  }

  before(async () => {
    [server, registry] = await Promise.all([
      startSigstoreServer(scope, 'monitor'),
      startRegistry(scope, 'monitor'),
    ]);
    removeLater(cleanup, server);
    removeLater(cleanup, { dataDir: registry.storageDir }); // <tollgate-verdaccio-*>/storage
    receiver = await startWebhookReceiver(scope);
    const repo = gitRepository(cleanup, ['v1.2.0']);
    dir = temporary(cleanup, 'monitor');
    writeFileSync(join(dir, 'acme-trusted_root.json'), server.trustedRootJson);
    writeFileSync(
      join(dir, '.tollgate-monitor.yml'),
      [
        'version: 1',
        'logs:',
        '  - name: acme-log',
        `    url: ${server.url}`,
        '    trustedRoot: acme-trusted_root.json',
        '    start: 0',
        'identities:',
        '  - name: release-bot',
        `    email: ${RELEASER}`,
        `    issuer: ${server.issuer}`,
        'packages:',
        '  - name: acme-utils',
        `    registry: ${registry.url}`,
        `    attestationStores: [${server.url}]`,
        '    releases:',
        `      - gitTags: { repository: ${repo.path}, tag: "v\${version}" }`,
        'notify:',
        `  webhook: { url: ${receiver.url}, attempts: 3, backoff: 10ms, timeout: 5s }`,
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await scope.close();
    await cleanup.close();
  });

  test('a release by the release identity matching a tag raises nothing', async () => {
    await release('1.2.0');
    // Someone else's signature is in the log too: not a watched identity, not an event.
    const other = await buildPackage({ name: 'other-lib', version: '1.0.0' });
    await server.signPackage(other, { kind: 'email', email: 'someone@elsewhere.example' });

    const res = await runMonitor(dir, ['--once', '--json']);
    assert.equal(res.code, 0, res.output);
    const lines = ndjson(res.stdout);
    assert.deepEqual(
      lines.filter((l) => l.type === 'finding'),
      [],
    );
    const expected = lines.filter((l) => l.type === 'expected');
    assert.equal(expected.length, 1, res.stdout);
    assert.match(
      expected[0]!.summary,
      /release-bot@acme\.example signed pkg:npm\/acme-utils@1\.2\.0, as expected \(tag v1\.2\.0 exists/,
    );
    const log = lines.find((l) => l.type === 'log')!;
    assert.equal(log.verifiedSize, 2);
    assert.equal(log.checkpointSize, 2);
    assert.equal(receiver.requests.length, 0);
  });

  test('a signing event by the watched email with no matching release raises one alarm, delivered once across restarts', async () => {
    const signed = await release('1.2.1');
    receiver.respondWith([503]); // the first attempt fails; the retry gets through
    const res = await runMonitor(dir, ['--once', '--json', '--markdown', 'issue.md']);
    assert.equal(res.code, 1, res.output);
    const findings = ndjson(res.stdout).filter((l) => l.type === 'finding');
    assert.equal(findings.length, 1, res.stdout);
    const alarm = findings[0]!;
    assert.equal(alarm.kind, 'unexpected-signing');
    assert.equal(alarm.isNew, true);
    assert.equal(alarm.entry.logIndex, signed.logIndex);
    assert.equal(alarm.entry.integratedTime, signed.integratedTime);
    // Read as bodies (no SET in the batch answer): the SET of the matched entry was fetched and verified.
    assert.equal(ndjson(res.stdout).find((l) => l.type === 'log')?.readMode, 'retrieve-bodies');
    assert.equal(alarm.entry.timeVerified, true);
    assert.equal(alarm.identity.subject, RELEASER);
    assert.equal(alarm.identity.issuer, server.issuer);
    assert.deepEqual(alarm.identity.watched, ['release-bot']);
    assert.equal(alarm.subjects[0].name, 'pkg:npm/acme-utils@1.2.1');
    assert.ok(
      alarm.details.some((d: string) => d.includes('has no tag v1.2.1')),
      alarm.details.join('\n'),
    );

    assert.deepEqual(
      receiver.requests.map((r) => r.status),
      [503, 200],
    );
    const delivered = receiver.delivered();
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0].id, alarm.id);
    assert.equal(delivered[0].finding.entry.logIndex, signed.logIndex);
    assert.equal(receiver.requests[1]!.headers['idempotency-key'], alarm.id);
    assert.equal(receiver.requests[1]!.headers['content-type'], 'application/json');
    const issue = readFileSync(join(dir, 'issue.md'), 'utf8');
    assert.match(issue, /unexpected signing event/);
    assert.match(issue, /pkg:npm\/acme-utils@1\.2\.1/);

    // A restart (a new process, as the next scheduled run) neither reports nor delivers it again.
    const again = await runMonitor(dir, ['--once']);
    assert.equal(again.code, 0, again.output);
    assert.doesNotMatch(again.stdout, /unexpected signing event/);
    assert.equal(receiver.requests.length, 2);
  });

  test('a finding the webhook could not take is delivered by the next run, exactly once', async () => {
    const signed = await release('1.2.2');
    receiver.respondWith([500, 500, 500]);
    const first = await runMonitor(dir, ['--once']);
    assert.equal(first.code, 1, first.output);
    assert.match(
      first.stdout,
      /unexpected signing event: release-bot@acme\.example signed pkg:npm\/acme-utils@1\.2\.2/,
    );
    assert.match(first.stdout, /not delivered after 3 attempt\(s\): HTTP 500; retried next run/);
    const state = JSON.parse(readFileSync(join(dir, '.tollgate-monitor.state.json'), 'utf8')) as MonitorState;
    const record = Object.values(state.findings).find((r) => r.finding.entry?.logIndex === signed.logIndex)!;
    assert.equal(record.delivery?.status, 'failed');
    assert.equal(record.delivery?.attempts, 3);

    const second = await runMonitor(dir, ['--once']);
    assert.equal(second.code, 0, second.output);
    assert.match(second.stdout, /webhook: delivered unexpected-signing\//);
    const third = await runMonitor(dir, ['--once']);
    assert.equal(third.code, 0, third.output);
    const deliveries = receiver.delivered().filter((p) => p.finding.entry.logIndex === signed.logIndex);
    assert.equal(deliveries.length, 1);
    assert.equal(existsSync(join(dir, '.tollgate-monitor.state.json')), true);
  });
});
