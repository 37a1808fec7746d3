// A bench-only Rekor v1 read server over a tollgate-server data folder that grows at a steady rate
// without the append path's cost: `--grow N` writes N synthetic entries per second to the store
// directly (the bodies in --templates copied with fresh hashes), while reads are answered by
// tollgate-server's own TransparencyLog and batch read (server/log/batch-read.ts), with the
// instance's log key. What the monitor does to keep up, apart from what appends cost the server.
// Prints {"url"} when ready; stops on SIGTERM.
//   node --import tsx bench/monitor/batch-log.ts <dataDir> [--grow N --templates FILE]
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ServerError } from '../../server/errors';
import { loadOrCreateInstance } from '../../server/instance';
import { handleRetrieve } from '../../server/log/batch-read';
import { CheckpointSigner } from '../../server/log/checkpoint';
import { LogStore } from '../../server/log/store';
import { TransparencyLog } from '../../server/log/transparency-log';
import { syntheticBody } from './synthetic';

const [dataDir, ...flags] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: batch-log.ts <dataDir> [--grow N --templates FILE]');
const growIndex = flags.indexOf('--grow');
const grow = growIndex >= 0 ? Number(flags[growIndex + 1]) : 0;
const templatesIndex = flags.indexOf('--templates');
const templates: string[] =
  templatesIndex >= 0 ? JSON.parse(readFileSync(flags[templatesIndex + 1]!, 'utf8')) : [];

const instance = await loadOrCreateInstance(dataDir);
const store = await LogStore.open(join(dataDir, 'tlog'));
const host = '127.0.0.1';
const checkpoints = new CheckpointSigner(`${host} - ${instance.treeId}`, host, instance.tlogKey);
const tlog = new TransparencyLog(store, instance.tlogKey, checkpoints, instance.treeId);

function send(res: import('node:http').ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://bench.invalid');
  try {
    if (req.method === 'GET' && url.pathname === '/api/v1/log') return send(res, 200, tlog.info());
    if (req.method === 'GET' && url.pathname === '/api/v1/log/proof') {
      return send(
        res,
        200,
        tlog.consistency(Number(url.searchParams.get('firstSize')), Number(url.searchParams.get('lastSize'))),
      );
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/log/entries') {
      const { uuid, entry } = tlog.entryByIndex(Number(url.searchParams.get('logIndex')));
      return send(res, 200, { [uuid]: entry });
    }
    if (req.method === 'POST' && url.pathname === '/api/v1/log/entries/retrieve') {
      handleRetrieve(tlog, req, res, url).catch((err: unknown) => {
        if (res.headersSent) res.destroy();
        else send(res, err instanceof ServerError ? err.status : 500, { message: (err as Error).message });
      });
      return;
    }
    send(res, 404, { code: 404, message: 'not found' });
  } catch (err) {
    send(res, 400, { code: 400, message: (err as Error).message });
  }
});
server.keepAliveTimeout = 10_000;
server.listen(0, host, () => {
  process.stdout.write(
    `${JSON.stringify({ url: `http://${host}:${(server.address() as AddressInfo).port}` })}\n`,
  );
});

let appended = 0;
let timer: NodeJS.Timeout | undefined;
if (grow > 0 && templates.length) {
  // Every 100 ms a batch of grow/10 entries: one group commit each, as a busy log does.
  const perTick = Math.max(1, Math.round(grow / 10));
  const base = store.size;
  timer = setInterval(() => {
    const batch = Array.from({ length: perTick }, (_, k) =>
      store.append({ body: syntheticBody(templates, base + appended + k + 1_000_000_000), searchKeys: [] }),
    );
    appended += perTick;
    void Promise.all(batch);
  }, 100);
}

process.once('SIGTERM', async () => {
  if (timer) clearInterval(timer);
  server.close();
  server.closeAllConnections();
  await store.close();
  process.exit(0);
});
