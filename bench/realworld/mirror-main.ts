// Child process serving a recorded mirror on 127.0.0.1 with a port chosen by the OS: prints
// {"port":N,"exchanges":M} once every document is prepared, stops on SIGTERM/SIGINT, and when its
// parent goes away (stdin closes). Spawned by startMirror (mirror.ts): `node --import tsx
// bench/realworld/mirror-main.ts <recording dir>`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { npmConfiguredOptions } from '../fixture/npm-registry';
import { createMirror } from './mirror-server';
import { readRecording } from './recording';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: mirror-main.ts <recording dir>');
  const recording = readRecording(dir);
  if (!recording) throw new Error(`no recording in ${dir}: run \`npm run bench realworld\``);
  const { registry } = await npmConfiguredOptions();
  const mirror = createMirror({ dir, recording, registry: registry! });
  const server = createServer({ keepAliveTimeout: 60_000 }, mirror.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  mirror.setOrigin(`http://127.0.0.1:${port}`);
  process.stdout.write(`${JSON.stringify({ port, exchanges: Object.keys(recording.exchanges).length })}\n`);
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

main().catch((error: unknown) => {
  process.stderr.write(`recorded mirror failed to start: ${(error as Error)?.message ?? error}\n`);
  process.exit(1);
});
