// The gate's small JSON requests (a version's document, an attestations list): one or two per package,
// thousands in a CI checkout. Yarn's client builds a new `got` instance for each request (~0.8 ms of
// CPU on Yarn's thread against ~0.25 ms for Node's own client on a keep-alive socket), so these go
// through Node's client wherever that changes nothing but the cost:
//   - the origin has already been reached once through Yarn's client in this process with this
//     configuration, so Yarn's own refusals (enableNetwork, unsafeHttpWhitelist) have been applied;
//   - the URL's network settings name no proxy and no client certificate;
//   - no plugin but Tollgate wraps requests (wrapNetworkRequest) or supplies npm authentication;
// and the project's hooks still wrap the request, as Yarn's client does (Tollgate's network guard:
// the registry-binding refusal). Everything else — a redirect included — goes through Yarn's client.
import { readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { type Configuration, httpUtils, type Ident } from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import { npmConfigUtils } from '@yarnpkg/plugin-npm';
import { httpStatusOf } from '../http-errors';
import { TOLLGATE_VERSION } from '../version';

export const TOLLGATE_PLUGIN_NAME = '@yarnpkg/plugin-tollgate';

/** The largest (decompressed) answer read this way; an attestations list is a few hundred kB at most. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** What got retries a GET on (its defaults), within the one retry the gate allows. */
const RETRIED_STATUS = new Set([408, 413, 429, 500, 502, 503, 504, 521, 522, 524]);
const RETRIED_CODES = new Set([
  'ETIMEDOUT',
  'ECONNRESET',
  'EADDRINUSE',
  'ECONNREFUSED',
  'EPIPE',
  'ENOTFOUND',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

export interface JsonRequest {
  url: string;
  /** the configuration the request is made with (a bounded view is fine: its timeout and retry apply) */
  configuration: Configuration;
  /** the project's configuration behind any view: what Yarn's hooks and settings are read from */
  project: Configuration;
  headers: Record<string, string>;
  timeoutMs: number;
  /** set for a registry request: the npm authentication Yarn would send for this package */
  npm?: { registry: string; ident: Ident };
}

/** An HTTP answer other than 2xx, shaped like got's errors so that `httpStatusOf` reads it. */
export class HttpStatusError extends Error {
  readonly response: { statusCode: number; body: unknown };
  constructor(url: string, statusCode: number, body: unknown) {
    super(`Response code ${statusCode} (${http.STATUS_CODES[statusCode] ?? 'unknown'}) from ${url}`);
    this.response = { statusCode, body };
  }
}

/** Thrown by the direct path when the answer is one only Yarn's client handles (a redirect). */
class NotDirect extends Error {}

/** Per project configuration and origin: whether Yarn's client reached it, and how to reach it directly. */
interface OriginRoute {
  reachedThroughYarn: boolean;
  /** null: only through Yarn's client (a proxy, a client certificate, another plugin's hook) */
  agent: http.Agent | null;
}

const routes = new WeakMap<Configuration, Map<string, OriginRoute>>();

function routeFor(request: JsonRequest, origin: string): OriginRoute {
  let byOrigin = routes.get(request.project);
  if (!byOrigin) {
    byOrigin = new Map();
    routes.set(request.project, byOrigin);
  }
  let route = byOrigin.get(origin);
  if (!route) {
    route = { reachedThroughYarn: false, agent: directAgent(request) };
    byOrigin.set(origin, route);
  }
  return route;
}

/**
 * GETs a JSON document: through Node's client where that is equivalent to Yarn's (see the top of this
 * file), else through `viaYarn`, which makes the same request through Yarn's client.
 */
export async function getJson(request: JsonRequest, viaYarn: () => Promise<unknown>): Promise<unknown> {
  const route = routeFor(request, new URL(request.url).origin);
  const authorization = request.npm ? npmAuthorization(request) : null;
  if (!route.reachedThroughYarn || !route.agent || authorization === undefined) {
    return viaYarnNoting(viaYarn, route);
  }
  const headers: Record<string, string> = {
    'user-agent': `tollgate/${TOLLGATE_VERSION}`,
    'accept-encoding': 'gzip, deflate, br',
    ...request.headers,
    ...(authorization ? { authorization } : {}),
  };
  const retries = Math.min(1, request.configuration.get('httpRetry'));
  const agent = route.agent;
  try {
    const body = await withHooks(request, headers, () => requestWithRetry(request, headers, agent, retries));
    return JSON.parse(body.toString());
  } catch (err) {
    if (err instanceof NotDirect) return viaYarn();
    throw err;
  }
}

async function viaYarnNoting(viaYarn: () => Promise<unknown>, route: OriginRoute): Promise<unknown> {
  try {
    const body = await viaYarn();
    route.reachedThroughYarn = true;
    return body;
  } catch (err) {
    // an HTTP answer means Yarn let the request out; a refusal or a network failure does not
    if (httpStatusOf(err) !== undefined) route.reachedThroughYarn = true;
    throw err;
  }
}

/**
 * The agent for reaching the URL's origin with Node's client, with Yarn's TLS settings for it
 * (enableStrictSsl, the CA file, which replaces Node's roots as it does in Yarn's client); null when
 * only Yarn's client may: a proxy, a client certificate, another plugin between Yarn and the network.
 */
function directAgent(request: JsonRequest): http.Agent | null {
  const settings = httpUtils.getNetworkSettings(request.url, { configuration: request.project });
  if (settings.enableNetwork === false) return null;
  if (settings.httpProxy || settings.httpsProxy) return null;
  if (settings.httpsCertFilePath || settings.httpsKeyFilePath) return null;
  for (const [name, plugin] of request.project.plugins) {
    if (name === TOLLGATE_PLUGIN_NAME) continue;
    const hooks = (plugin as { hooks?: Record<string, unknown> }).hooks;
    if (hooks?.wrapNetworkRequest || hooks?.getNpmAuthenticationHeader) return null;
  }
  const protocol = new URL(request.url).protocol;
  // every other scheme shares the origin "null": those are never reached but through Yarn's client
  if (protocol !== 'http:' && protocol !== 'https:') return null;
  if (protocol === 'http:') return httpAgent;
  const rejectUnauthorized = request.project.get('enableStrictSsl') !== false;
  const caPath = settings.httpsCaFilePath ? npath.fromPortablePath(settings.httpsCaFilePath) : '';
  const key = `${rejectUnauthorized}\0${caPath}`;
  let agent = httpsAgents.get(key);
  if (!agent) {
    const ca = caPath ? readFileSync(caPath) : undefined;
    agent = new https.Agent({ keepAlive: true, rejectUnauthorized, ...(ca ? { ca } : {}) });
    httpsAgents.set(key, agent);
  }
  return agent;
}

/**
 * The authorization header npmHttpUtils.get would send: null for none, undefined where only Yarn's
 * client can say (it would refuse the request: npmAlwaysAuth without credentials).
 */
function npmAuthorization(request: JsonRequest): string | null | undefined {
  const { registry, ident } = request.npm!;
  const auth = npmConfigUtils.getAuthConfiguration(npmConfigUtils.normalizeRegistry(registry), {
    configuration: request.project,
    ident,
  });
  // a scoped package is asked "best effort" (credentials if any); others only with npmAlwaysAuth
  const mustAuthenticate = ident.scope ? true : Boolean(auth.get('npmAlwaysAuth'));
  if (!mustAuthenticate) return null;
  const token = auth.get('npmAuthToken');
  if (token) return `Bearer ${token}`;
  const identity = auth.get('npmAuthIdent');
  if (identity)
    return identity.includes(':') ? `Basic ${Buffer.from(identity).toString('base64')}` : `Basic ${identity}`;
  return ident.scope ? null : undefined;
}

/** Runs the request inside the project's wrapNetworkRequest hooks, as Yarn's client does. */
async function withHooks(
  request: JsonRequest,
  headers: Record<string, string>,
  send: () => Promise<Buffer>,
): Promise<Buffer> {
  const options = {
    target: request.url,
    body: null,
    configuration: request.configuration,
    headers,
    jsonRequest: false,
    jsonResponse: true,
    method: httpUtils.Method.GET,
  };
  let body: Buffer | undefined;
  const executor = async (): Promise<httpUtils.Response> => {
    body = await send();
    return { body, headers: {}, statusCode: 200 } as unknown as httpUtils.Response;
  };
  const wrapped = await request.project.reduceHook(
    (hooks) => hooks.wrapNetworkRequest,
    executor,
    options as never,
  );
  const response = await wrapped();
  return (response as { body?: Buffer }).body ?? body!;
}

async function requestWithRetry(
  request: JsonRequest,
  headers: Record<string, string>,
  agent: http.Agent,
  retries: number,
): Promise<Buffer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await requestOnce(request, headers, agent);
    } catch (err) {
      if (attempt >= retries || !retried(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1000 + Math.random() * 100));
    }
  }
}

function retried(err: unknown): boolean {
  if (err instanceof HttpStatusError) return RETRIED_STATUS.has(err.response.statusCode);
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && RETRIED_CODES.has(code);
}

function requestOnce(
  request: JsonRequest,
  headers: Record<string, string>,
  agent: http.Agent,
): Promise<Buffer> {
  const url = new URL(request.url);
  const secure = url.protocol === 'https:';
  return new Promise<Buffer>((resolve, reject) => {
    const req = (secure ? https : http).get(url, { headers, agent }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        res.resume();
        reject(new NotDirect());
        return;
      }
      const chunks: Buffer[] = [];
      let length = 0;
      res.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > MAX_BODY_BYTES) {
          req.destroy(new Error(`the answer from ${url.origin} is larger than ${MAX_BODY_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => {
        try {
          const body = decoded(Buffer.concat(chunks), res.headers);
          if (status >= 200 && status < 300) resolve(body);
          else reject(new HttpStatusError(request.url, status, parsedOrText(body)));
        } catch (err) {
          reject(err);
        }
      });
    });
    // idle sockets time out as in Yarn's client; unlike it, so does an answer that trickles in, so
    // that no request outlives the gate's own bound and holds the process open
    const timedOut = (what: string) => () => {
      const err = new Error(`Timeout awaiting '${what}' for ${request.timeoutMs}ms`) as Error & {
        code: string;
      };
      err.code = 'ETIMEDOUT';
      req.destroy(err);
    };
    req.setTimeout(request.timeoutMs, timedOut('socket'));
    const deadline = setTimeout(timedOut('request'), request.timeoutMs);
    deadline.unref();
    req.on('close', () => clearTimeout(deadline));
    req.on('error', reject);
  });
}

function decoded(body: Buffer, headers: IncomingHttpHeaders): Buffer {
  const encoding = (headers['content-encoding'] ?? '').trim().toLowerCase();
  const limit = { maxOutputLength: MAX_BODY_BYTES };
  if (encoding === '' || encoding === 'identity') return body;
  if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipSync(body, limit);
  if (encoding === 'deflate') return inflateSync(body, limit);
  if (encoding === 'br') return brotliDecompressSync(body, limit);
  throw new Error(`unsupported content-encoding "${encoding}"`);
}

function parsedOrText(body: Buffer): unknown {
  const text = body.toString();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const httpAgent = new http.Agent({ keepAlive: true });
const httpsAgents = new Map<string, https.Agent>();
