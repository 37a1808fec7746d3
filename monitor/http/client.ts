// HTTP for every source the monitor reads (logs, registries, stores, witnesses) and for the webhook:
// keep-alive connections with a bounded number of sockets per origin, a deadline per request and a
// bounded body. Failures say which URL failed and how, never just "fetch failed".
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HttpResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
  maxBytes?: number;
}

/** A request that did not produce a response (refused, reset, timed out, too large). */
export class HttpFailure extends Error {
  constructor(
    readonly url: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

export class HttpClient {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;

  constructor(options: { maxSockets?: number } = {}) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 16, keepAliveMsecs: 1000 };
    this.http = new HttpAgent(agentOptions);
    this.https = new HttpsAgent(agentOptions);
  }

  request(url: string, options: RequestOptions = {}): Promise<HttpResponse> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return Promise.reject(new HttpFailure(url, `"${url}" is not a URL`));
    }
    const secure = parsed.protocol === 'https:';
    if (!secure && parsed.protocol !== 'http:')
      return Promise.reject(new HttpFailure(url, `unsupported protocol ${parsed.protocol}`));
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const headers: Record<string, string> = { 'user-agent': 'tollgate-monitor', ...options.headers };
    if (body) headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const send = secure ? httpsRequest : httpRequest;
      const req = send(parsed, {
        method: options.method ?? 'GET',
        headers,
        agent: secure ? this.https : this.http,
      });
      const timer = setTimeout(() => {
        req.destroy(new HttpFailure(url, `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err instanceof HttpFailure ? err : new HttpFailure(url, describeNetworkError(err)));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let length = 0;
        res.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (length > maxBytes) {
            req.destroy(new HttpFailure(url, `the answer is larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err instanceof HttpFailure ? err : new HttpFailure(url, describeNetworkError(err)));
        });
      });
      req.end(body);
    });
  }

  /** GET a JSON document; a non-2xx status or a body that is not JSON is an HttpFailure. */
  async getJson(url: string, options: Omit<RequestOptions, 'method' | 'body'> = {}): Promise<unknown> {
    const res = await this.request(url, {
      ...options,
      headers: { accept: 'application/json', ...options.headers },
    });
    return parseJsonResponse(url, res);
  }

  /** POST JSON (content-type application/json, as tollgate-server requires) and read a JSON answer. */
  async postJson(
    url: string,
    payload: unknown,
    options: Omit<RequestOptions, 'method' | 'body'> = {},
  ): Promise<unknown> {
    const res = await this.request(url, {
      ...options,
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(payload),
    });
    return parseJsonResponse(url, res);
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

export function parseJsonResponse(url: string, res: HttpResponse): unknown {
  if (res.status < 200 || res.status >= 300) {
    throw new HttpFailure(url, `HTTP ${res.status}${serverReason(res.body)}`, res.status);
  }
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new HttpFailure(url, `HTTP ${res.status} but the body is not JSON`, res.status);
  }
}

function serverReason(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { message?: unknown; error?: unknown };
    const message = parsed.message ?? parsed.error;
    return typeof message === 'string' ? `: ${message.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}

function describeNetworkError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  return code ? `${code}: ${err.message}` : err.message;
}
