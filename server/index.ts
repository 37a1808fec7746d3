// Programmatic entry point: startServer() brings up the CA, transparency log, CT log, dev OIDC
// issuer and attestation store on one HTTP origin and returns its URLs and a close() that
// stops accepting, lets in-flight requests finish and releases the stores.
import { timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { createApp } from './app';
import { type Attacher, AttestationStore } from './attestations/store';
import { CertificateAuthority } from './ca/authority';
import { CertificateTransparencyLog } from './ca/ct-log';
import { acquireDataLock, type DataLock } from './data-lock';
import { ConfigError } from './errors';
import { createRequestGuard } from './http/guard';
import { loadOrCreateInstance } from './instance';
import { CheckpointSigner } from './log/checkpoint';
import { EnvelopeStore } from './log/index-envelopes';
import { LogStore } from './log/store';
import { TransparencyLog } from './log/transparency-log';
import { loadOrCreateV2Key, RekorV2Log } from './log/v2/rekor-v2';
import { rekorV2Routes } from './log/v2/routes';
import { createSignatureVerifier, defaultVerifyThreads } from './log/verify-pool';
import { DevIssuer } from './oidc/dev-issuer';
import { type TrustedIssuer, TrustedIssuers } from './oidc/trusted-issuers';
import { trustedRoot } from './trusted-root';
import { TimestampAuthority } from './tsa/authority';
import { loadOrCreateTsaKeys } from './tsa/keys';
import { tsaRoutes } from './tsa/routes';
import { publishTrust } from './tuf/publish';
import { tufRoutes } from './tuf/routes';
import { signingConfig } from './tuf/signing-config';
import { createVerdictService } from './verdict/service';
import { webRoutes } from './web/routes';

export { ConfigError, StartupError } from './errors';
export type { TrustedIssuer } from './oidc/trusted-issuers';
export { loadTrustedIssuer } from './oidc/trusted-issuers';

export interface StartServerOptions {
  /** Folder holding keys, logs and attestations; created if missing, resumed if present. */
  dataDir: string;
  /** Interface to listen on; 127.0.0.1 by default. */
  host?: string;
  /** Port; 0 (the default) picks a free one. */
  port?: number;
  /** Serve the development OIDC issuer under /oidc (default true; loopback only, see below). */
  devIssuer?: boolean;
  /** Allow the development issuer on a non-loopback interface. Anyone who reaches it can mint any identity. */
  dangerouslyAllowDevIssuerOnNonLoopback?: boolean;
  /** Further OIDC issuers the CA trusts, each with its JWKS. */
  trustedIssuers?: TrustedIssuer[];
  /**
   * Further names clients may use in the Host header (with the server's port), besides the loopback
   * names and `host`: e.g. the DNS name of a server listening on 0.0.0.0.
   */
  allowedHosts?: string[];
  /** Bearer token that authorizes adding attestations from non-loopback peers. */
  attestationToken?: string;
  /** Where operational messages go (default stderr). */
  log?: (message: string) => void;
  /**
   * A file that, started as a worker thread, runs the hashedrekord verification worker: the
   * executable passes its own bundle. Without it verification runs on the calling thread.
   */
  verifyWorkerEntry?: string;
  /** Verification worker threads (default: the cores beyond one, at most 4; 0: inline). */
  verifyThreads?: number;
  /** OSV zips, folders or files the verdict endpoint and /api/v1/known-bad serve (server/verdict/). */
  knownBad?: string[];
}

export interface RunningServer {
  url: string;
  trustedRootUrl: string;
  /** the TUF repository publishing trusted_root.json and signing_config.v0.2.json (`<url>/tuf`) */
  tufUrl: string;
  dataDir: string;
  /** The development issuer's URL (`<url>/oidc`), or null when it is disabled. */
  devIssuerUrl: string | null;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

function originFor(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePromise(server.address() as AddressInfo);
    });
  });
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir);
  const log = options.log ?? ((message: string) => process.stderr.write(`tollgate-server: ${message}\n`));
  const devIssuerEnabled = options.devIssuer ?? true;
  if (devIssuerEnabled && !isLoopback(host) && !options.dangerouslyAllowDevIssuerOnNonLoopback) {
    throw new ConfigError(
      `refusing to serve the development OIDC issuer on ${host}: anyone who can reach it could mint any identity. ` +
        'Listen on 127.0.0.1, or disable it with --no-dev-oidc (and trust a real issuer with --trust-issuer), ' +
        'or accept the risk with --dangerously-allow-dev-oidc-on-non-loopback',
    );
  }
  if (
    Number.isInteger(options.port ?? 0) === false ||
    (options.port ?? 0) < 0 ||
    (options.port ?? 0) > 65535
  ) {
    throw new ConfigError(`--port must be an integer from 0 to 65535, got ${options.port}`);
  }

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Everything opened from here on is undone, last first, if the start fails.
  const opened: (() => unknown)[] = [];
  const undo = async () => {
    // Every step runs even if one fails (the lock is released last); the first failure is reported.
    let failure: unknown = null;
    for (const step of opened.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure) throw failure;
  };
  try {
    const lock = acquireDataLock(dataDir, log);
    opened.push(() => lock.release());
    return await startLocked(options, { host, dataDir, log, devIssuerEnabled, lock, opened, undo });
  } catch (err) {
    await undo().catch(() => {}); // the refusal to start is what the caller needs to hear
    throw err;
  }
}

async function startLocked(
  options: StartServerOptions,
  context: {
    host: string;
    dataDir: string;
    log: (message: string) => void;
    devIssuerEnabled: boolean;
    lock: DataLock;
    opened: (() => unknown)[];
    undo: () => Promise<void>;
  },
): Promise<RunningServer> {
  const { host, dataDir, log, devIssuerEnabled, lock, opened } = context;
  const instance = await loadOrCreateInstance(dataDir);
  const onRecovery = (message: string) => log(message);
  const tlogStore = await LogStore.open(join(dataDir, 'tlog'), { onRecovery });
  opened.push(() => tlogStore.close());
  const ctStore = await LogStore.open(join(dataDir, 'ctlog'), { onRecovery });
  opened.push(() => ctStore.close());

  let handler: ReturnType<typeof createApp> | null = null;
  const server = createServer((req, res) => {
    if (handler) handler(req, res);
    else {
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: 503, message: 'the server is starting' }));
    }
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 5_000;

  let address: AddressInfo;
  try {
    address = await listen(server, host, options.port ?? 0);
  } catch (err) {
    throw new ConfigError(`cannot listen on ${host}:${options.port ?? 0}: ${(err as Error).message}`);
  }
  opened.push(() => new Promise<void>((done) => server.close(() => done())));
  const url = originFor(host, address.port);
  lock.setUrl(url);
  const signerName = new URL(url).hostname;

  const issuers = new TrustedIssuers();
  const devIssuer = devIssuerEnabled ? new DevIssuer(`${url}/oidc`, instance.oidcKey) : null;
  // The dev issuer mints GitHub-Actions-shaped tokens on request, so it defines their claims.
  if (devIssuer)
    issuers.add({ issuerUrl: devIssuer.issuerUrl, jwks: await devIssuer.jwks(), ciClaims: true });
  for (const issuer of options.trustedIssuers ?? []) issuers.add(issuer);

  const ctlog = new CertificateTransparencyLog(ctStore, instance.ctlogKey);
  const ca = new CertificateAuthority(instance, issuers, ctlog);
  const checkpoints = new CheckpointSigner(
    `${signerName} - ${instance.treeId}`,
    signerName,
    instance.tlogKey,
  );
  const signatures = createSignatureVerifier({
    ...(options.verifyWorkerEntry ? { entry: options.verifyWorkerEntry } : {}),
    threads: options.verifyThreads ?? defaultVerifyThreads(),
  });
  opened.push(() => signatures.close());
  const tlog = new TransparencyLog(tlogStore, instance.tlogKey, checkpoints, instance.treeId, signatures);
  const envelopes = EnvelopeStore.open(join(dataDir, 'tlog'));
  opened.push(() => envelopes.close());
  const tsaKeys = await loadOrCreateTsaKeys(dataDir, instance.treeId);
  const tsa = new TimestampAuthority(tsaKeys);
  const v2Key = loadOrCreateV2Key(dataDir);
  const v2Store = await LogStore.open(join(dataDir, 'tlog-v2'), { onRecovery });
  opened.push(() => v2Store.close());
  const rekorV2 = new RekorV2Log(
    v2Store,
    v2Key.key,
    `${signerName}/tollgate-v2/${instance.treeId}`,
    signerName,
    signatures,
  );
  const root = trustedRoot(instance, url, tsaKeys, v2Key);
  const tuf = publishTrust(
    dataDir,
    root,
    signingConfig({
      baseUrl: url,
      oidcUrl: devIssuer?.issuerUrl ?? null,
      start: instance.createdAt,
      tsaUrl: `${url}/api/v1/timestamp`,
      rekor: [
        { majorApiVersion: 1, start: instance.createdAt },
        // v2 is preferred: clients pick the newest start.
        {
          majorApiVersion: 2,
          start: new Date(Math.max(v2Key.createdAt.getTime(), instance.createdAt.getTime() + 1000)),
        },
      ],
    }),
  );
  const attestations = new AttestationStore(dataDir, () => root, log);
  const token = options.attestationToken ? Buffer.from(options.attestationToken) : null;
  const loopbackServer = isLoopback(host);

  const attestationWriter = (req: IncomingMessage): Attacher | null => {
    const peer = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    const auth = req.headers.authorization;
    if (token && auth?.startsWith('Bearer ')) {
      const presented = Buffer.from(auth.slice(7));
      if (presented.length === token.length && timingSafeEqual(presented, token))
        return { via: 'token', peer };
    }
    return loopbackServer && isLoopback(peer) ? { via: 'loopback', peer } : null;
  };

  handler = createApp({
    ca,
    issuers,
    tlog,
    tlogPublicKeyPem: instance.tlogKey.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    attestations,
    devIssuer,
    trustedRoot: () => root,
    attestationWriter,
    guard: createRequestGuard({ host, port: address.port, extraHosts: options.allowedHosts ?? [] }),
    log,
    web: webRoutes({ tlog, envelopes, serverUrl: url }),
    tuf: tufRoutes(tuf),
    tsa: tsaRoutes(tsa),
    rekorV2: rekorV2Routes(rekorV2),
    verdict: createVerdictService({
      dataDir,
      knownBad: options.knownBad ?? [],
      attestations,
      trustedRoot: () => root,
      log,
    }),
  });

  let closing: Promise<void> | null = null;
  const close = () => {
    // Stop accepting and let in-flight requests finish, then close the stores and the lock.
    closing ??= (async () => {
      server.closeIdleConnections();
      await context.undo();
    })();
    return closing;
  };

  return {
    url,
    trustedRootUrl: `${url}/trusted_root.json`,
    tufUrl: `${url}/tuf`,
    dataDir,
    devIssuerUrl: devIssuer?.issuerUrl ?? null,
    close,
  };
}
