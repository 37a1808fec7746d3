// The recorded mirror's HTTP side: answers GET/HEAD from a recording, byte for byte as the registry
// served them, except `"tarball"` URLs in JSON documents, which point at this server (rewrite.ts).
// In record mode (only while recording) a request not in the recording is fetched from the registry
// npm is configured with, stored, and then served like every other.
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  bodyPath,
  type RecordedExchange,
  type Recording,
  readStoredText,
  registryDigest,
  storeBody,
} from './recording';
import {
  ABBREVIATED_ACCEPT,
  exchangeKey,
  FULL_ACCEPT,
  HOST_PLACEHOLDER,
  hideHost,
  type RequestKind,
  registryHost,
  registryPath,
  requestKind,
  restoreHost,
  rewriteTarballUrls,
  withTrailingSlash,
} from './rewrite';
import type { Upstream } from './upstream';

/** Where the bench reads what the mirror served (not a registry path: `/-/` is reserved by npm). */
export const STATS_PATH = '/-/tollgate-bench/stats';

export interface MirrorStats {
  requests: Record<RequestKind, number>;
  bytes: Record<RequestKind, number>;
  /** requests the recording does not hold (answered 404 in serve mode) */
  misses: number;
  missed: string[];
}

interface Prepared {
  status: number;
  contentType: string | null;
  bytes: number;
  /** JSON documents, rewritten, in memory */
  body?: Buffer;
  /** tarballs and other verbatim bodies, streamed from the store */
  file?: string;
}

export interface MirrorOptions {
  dir: string;
  recording: Recording;
  /** the registry npm is configured with: restores the host in served documents, and records from it */
  registry: string;
  /** record mode: fetch what the recording lacks from the registry */
  upstream?: Upstream;
  userAgent?: string;
  log?: (line: string) => void;
}

export interface Mirror {
  /** must be called once the server listens, before the first request: documents are prepared here */
  setOrigin(origin: string): void;
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** record mode: makes sure an exchange is recorded (fetching it if needed) and returns it */
  ensure(kind: RequestKind, encodedPath: string): Promise<RecordedExchange>;
  stats(): MirrorStats;
}

export function createMirror(options: MirrorOptions): Mirror {
  const { dir, recording, registry } = options;
  if (recording.registryDigest !== registryDigest(registry)) {
    throw new Error(
      `${dir}: the recording was made from another registry than the one npm is configured with now ` +
        '(`npm config get registry`): record again with `npm run bench realworld`',
    );
  }
  const host = registryHost(registry);
  const hiddenRegistry = withTrailingSlash(new URL(registry).href).split(host).join(HOST_PLACEHOLDER);
  const prepared = new Map<string, Prepared>();
  const pending = new Map<string, Promise<RecordedExchange>>();
  const stats: MirrorStats = {
    requests: { tarball: 0, abbreviated: 0, full: 0 },
    bytes: { tarball: 0, abbreviated: 0, full: 0 },
    misses: 0,
    missed: [],
  };
  let origin: string | undefined;

  const prepare = (exchange: RecordedExchange): Prepared => {
    const file = bodyPath(dir, exchange.sha256);
    if (!exchange.hostHidden) {
      return { status: exchange.status, contentType: exchange.contentType, bytes: exchange.bytes, file };
    }
    // checks the stored text restores to the recorded bytes before anything is served from it
    const stored = readStoredText(dir, exchange, host);
    const { text, rewritten } = rewriteTarballUrls(stored, hiddenRegistry, withTrailingSlash(origin!));
    if (rewritten !== (exchange.tarballUrls ?? 0)) {
      throw new Error(
        `${exchange.kind} ${exchange.path}: ${rewritten} tarball URLs rewritten, ${exchange.tarballUrls} recorded`,
      );
    }
    const body = Buffer.from(restoreHost(text, host), 'utf8');
    return { status: exchange.status, contentType: exchange.contentType, bytes: body.length, body };
  };

  const record = async (kind: RequestKind, path: string, encodedPath: string): Promise<RecordedExchange> => {
    const upstream = options.upstream!;
    const url = `${withTrailingSlash(new URL(registry).href)}${encodedPath.replace(/^\//, '')}`;
    const headers: Record<string, string> = {
      accept: kind === 'abbreviated' ? ABBREVIATED_ACCEPT : kind === 'full' ? FULL_ACCEPT : '*/*',
      ...(options.userAgent ? { 'user-agent': options.userAgent } : {}),
    };
    const response = await upstream(url, headers);
    const json = kind !== 'tarball';
    const stored = storeBody(dir, response.body, { json, host });
    const exchange: RecordedExchange = {
      kind,
      path,
      status: response.status,
      contentType: response.contentType,
      ...stored,
    };
    if (stored.hostHidden) {
      const counted = rewriteTarballUrls(hideHost(response.body.toString('utf8'), host), hiddenRegistry, '');
      exchange.tarballUrls = counted.rewritten;
      exchange.foreignTarballUrls = counted.kept;
    }
    if (response.contentEncoding) {
      options.log?.(
        `recording: ${kind} ${path} came ${response.contentEncoding}-encoded; stored and served decoded`,
      );
    }
    recording.exchanges[exchangeKey(kind, path)] = exchange;
    return exchange;
  };

  const ensure = (kind: RequestKind, encodedPath: string): Promise<RecordedExchange> => {
    const path = registryPath(encodedPath);
    if (path === null) return Promise.reject(new Error(`not a registry path: ${encodedPath}`));
    const key = exchangeKey(kind, path);
    const known = recording.exchanges[key];
    if (known) return Promise.resolve(known);
    if (!options.upstream) return Promise.reject(new Error(`${key} is not in the recording`));
    let inFlight = pending.get(key);
    if (!inFlight) {
      inFlight = record(kind, path, encodedPath).finally(() => pending.delete(key));
      pending.set(key, inFlight);
    }
    return inFlight;
  };

  const notFound = (res: ServerResponse, key: string) => {
    stats.misses++;
    if (stats.missed.length < 200) stats.missed.push(key);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not found"}');
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://mirror.invalid');
    if (url.pathname === STATS_PATH) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(stats));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'application/json', allow: 'GET, HEAD' });
      res.end('{"error":"the recorded mirror is read-only"}');
      return;
    }
    const path = registryPath(url.pathname);
    const kind = requestKind(url.pathname, req.headers.accept);
    if (path === null || url.search !== '') {
      notFound(res, `${kind} ${url.pathname}${url.search}`);
      return;
    }
    const key = exchangeKey(kind, path);
    const serve = (exchange: RecordedExchange) => {
      let answer = prepared.get(key);
      if (!answer) {
        answer = prepare(exchange);
        prepared.set(key, answer);
      }
      stats.requests[kind]++;
      stats.bytes[kind] += answer.bytes;
      const headers: Record<string, string | number> = { 'content-length': answer.bytes };
      if (answer.contentType) headers['content-type'] = answer.contentType;
      res.writeHead(answer.status, headers);
      if (req.method === 'HEAD') res.end();
      else if (answer.body) res.end(answer.body);
      else createReadStream(answer.file!).pipe(res);
    };
    const known = recording.exchanges[key];
    if (known) {
      serve(known);
      return;
    }
    if (!options.upstream) {
      notFound(res, key);
      return;
    }
    ensure(kind, url.pathname).then(serve, (error: unknown) => {
      options.log?.(`recording: ${key}: ${(error as Error).message}`);
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"error":"the registry did not answer the recorder"}');
    });
  };

  return {
    setOrigin(value) {
      origin = value;
      prepared.clear();
      // every document is rewritten before the first request, so no timed request pays for it
      for (const [key, exchange] of Object.entries(recording.exchanges)) {
        if (exchange.hostHidden) prepared.set(key, prepare(exchange));
      }
    },
    handle,
    ensure,
    stats: () => structuredClone(stats),
  };
}
