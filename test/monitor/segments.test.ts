// A catch-up hands on its verified segments one at a time and in order, keeps reading while one is
// being saved (a state write with fsyncs can take a second on a busy disk), and ends only once the
// last has been saved; a save that fails ends the run with its error. In process: a real
// tollgate-server log of 250 entries read with the monitor's own client and engine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogConfig } from '../../monitor/config/model';
import { MonitorUsageError } from '../../monitor/errors';
import { HttpClient } from '../../monitor/http/client';
import { type LogRunInput, monitorLog } from '../../monitor/log/log-monitor';
import { RekorClient } from '../../monitor/log/rekor-client';
import { IdentityMatcher } from '../../monitor/log/watched-identities';
import type { LogState } from '../../monitor/state/state';
import { loadTrustRoots } from '../../policy/evidence/trust/context';
import { hashedrekordProposal, proposalKey } from '../harness/log-proposals';
import { postJson, startTestServer, waitFor } from '../server/helpers';

const ENTRIES = 250;
const SEGMENT = 100;
const BATCH = 10;

const key = proposalKey();

function proposal(i: number) {
  const data = Buffer.from(`segment test entry ${i} ${process.pid}`);
  return hashedrekordProposal(data, key);
}

test('segments are handed on one at a time, in order, while the reading goes on; the run ends after the last', async (t) => {
  const server = await startTestServer(t);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < ENTRIES) {
        const res = await postJson(`${server.url}/api/v1/log/entries`, proposal(next++));
        assert.equal(res.status, 201, JSON.stringify(res.json));
      }
    }),
  );
  const root = loadTrustRoots(
    [{ name: 'segments', trustedRootJson: await (await fetch(server.trustedRootUrl)).text() }],
    {
      embeddedNpmKeys: false,
    },
  ).roots[0]!;

  const run = (onSegment: LogRunInput['onSegment'], client: RekorClient) =>
    monitorLog({
      config: { name: 'segments', url: server.url, start: 0 } as LogConfig,
      client,
      keys: root.material.tlogs,
      material: root.material,
      matcher: new IdentityMatcher([]),
      now: () => new Date(),
      segmentSize: SEGMENT,
      onSegment,
    });
  const newClient = () =>
    new RekorClient(server.url, new HttpClient({ maxSockets: 2 }), {
      batchRead: 'retrieve',
      batchSize: BATCH,
      concurrency: 2,
    });

  // log info, one batch read per BATCH entries, and a consistency proof from each partial segment
  // (100 and 200 entries) to the signed tree; the last segment ends at the tree's size.
  const allRequests = 1 + ENTRIES / BATCH + 2;
  const client = newClient();
  const calls: { size: number; started: number; ended?: number }[] = [];
  let running = 0;
  const result = await run(async (progress: LogState) => {
    running++;
    assert.equal(running, 1, 'never two segments at once');
    const call: { size: number; started: number; ended?: number } = {
      size: progress.verifiedSize,
      started: performance.now(),
    };
    calls.push(call);
    // The first save is held until every entry has been read: it resolves only if reading goes on.
    if (calls.length === 1)
      await waitFor(() => client.requests >= allRequests, 'the reading to go on during a save');
    else await new Promise((r) => setTimeout(r, 20));
    call.ended = performance.now();
    running--;
  }, client);
  assert.deepEqual(
    calls.map((c) => c.size),
    [100, 200, 250],
  );
  for (let i = 1; i < calls.length; i++)
    assert.ok(calls[i]!.started >= calls[i - 1]!.ended!, 'in order, one after the other');
  assert.ok(
    calls.every((c) => c.ended !== undefined),
    'the run ended after the last segment was saved',
  );
  assert.equal(result.state.verifiedSize, ENTRIES);
  assert.equal(client.requests, allRequests);

  // A save that fails ends the run with its error, after the reading, never silently.
  const failing = await run(async (progress) => {
    if (progress.verifiedSize === 100)
      throw new MonitorUsageError('STATE_UNWRITABLE', 'the state file x cannot be written (EIO)');
  }, newClient()).then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.ok(failing instanceof MonitorUsageError && failing.code === 'STATE_UNWRITABLE', String(failing));
});
