// Appends dsse entries to a Rekor v1 log over its HTTP API at a steady rate, in its own process so
// that its CPU is not charged to the monitor the bench measures. The proposals are signed with a bare
// P-256 key (the log verifies them; a monitor reads them as any entry). CLIENTS at once (128 by
// default: each waits for its append's group commit, so fewer cannot reach the rate when fsyncs are
// slow), paced: proposal k
// is not sent before k / rate seconds. On SIGTERM it stops sending, waits for the requests in flight
// and prints {"appended","failures","seconds"}.
//   node --import tsx bench/monitor/append-at-rate.ts <url> <entries per second> <max entries> [CLIENTS]
import { dsseProposal, proposalKey } from '../../test/harness/log-proposals';

const [url, rateArg, maxArg, clientsArg] = process.argv.slice(2);
const clients = Number(clientsArg ?? 128);
const perSecond = Number(rateArg);
const max = Number(maxArg);
if (!url || !(perSecond > 0) || !(max > 0) || !(clients > 0))
  throw new Error('usage: append-at-rate.ts <url> <rate> <max> [clients]');

const key = proposalKey();
const proposal = (i: number): string => dsseProposal(`pkg:npm/grow@1.0.${i}`, `${i}`, key);

// Signed before the clock starts: signing is the client's cost, not the log's.
const proposals = Array.from({ length: max }, (_, i) => proposal(i));
let next = 0;
let appended = 0;
let failures = 0;
let stopped = false;
const started = performance.now();

async function worker(): Promise<void> {
  while (!stopped && next < proposals.length) {
    const k = next++;
    const wait = started + (k / perSecond) * 1000 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (stopped) return;
    try {
      const res = await fetch(`${url}/api/v1/log/entries`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: proposals[k]!,
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      if (res.status === 201) appended++;
      else failures++;
    } catch {
      failures++;
    }
  }
}

const workers = Promise.all(Array.from({ length: clients }, worker));
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
process.once('SIGTERM', async () => {
  stopped = true;
  await workers;
  process.stdout.write(
    `${JSON.stringify({ appended, failures, seconds: (performance.now() - started) / 1000 })}\n`,
  );
  process.exit(0);
});
