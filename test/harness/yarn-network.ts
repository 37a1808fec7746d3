// A Yarn configuration to make the gate's requests with (engine/fetching.ts), and local servers for
// them to answer: for tests of how Tollgate reaches registries and stores, without a Yarn project.
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Configuration, type Plugin } from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import npmModule from '@yarnpkg/plugin-npm';
import { Circuits } from '../../plugin/sources/engine/circuits';
import type { Network } from '../../plugin/sources/engine/fetching';
import { tempDir } from './paths';

// the CommonJS module's default export, as an ES module sees it
const npmPlugin = ((npmModule as { default?: Plugin }).default ?? npmModule) as Plugin;

/**
 * The network as the gate gets it: a configuration with plugin-npm's settings (and `plugins`), plain
 * http allowed to 127.0.0.1 unless `settings` says otherwise, fresh circuits.
 */
export function yarnNetwork(
  settings: Record<string, unknown> = {},
  options: { plugins?: Array<[string, Plugin]>; timeoutMs?: number } = {},
): Network {
  const cwd = npath.toPortablePath(tempDir('tollgate-yarn-network-'));
  const configuration = Configuration.create(
    cwd,
    cwd,
    new Map<string, Plugin>([['@yarnpkg/plugin-npm', npmPlugin], ...(options.plugins ?? [])]),
  );
  configuration.use('<test>', { unsafeHttpWhitelist: ['127.0.0.1'], ...settings }, cwd, { overwrite: true });
  return { configuration, circuits: new Circuits(), timeoutMs: options.timeoutMs ?? 2_000 };
}

/** Listens on 127.0.0.1 at a port chosen now; the server's origin. */
export async function listenOnLoopback(server: Server, protocol: 'http' | 'https' = 'http'): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `${protocol}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Stops the server and every connection it still has (keep-alive sockets included). */
export function stopServer(server: Server): void {
  server.closeAllConnections();
  server.close();
}
