// GETs from the registry npm is configured with (used only while recording), with npm's CA bundle and
// proxy-free TLS settings (npmConfiguredOptions), identity encoding, bounded retries and concurrency.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

export interface UpstreamResponse {
  status: number;
  contentType: string | null;
  /** the body as the registry sent it, with any content-encoding undone */
  body: Buffer;
  /** the content-encoding the registry used, when it used one despite `accept-encoding: identity` */
  contentEncoding: string | null;
}

export interface UpstreamOptions {
  ca?: string | null;
  strictSSL?: boolean;
  /** requests in flight at once */
  concurrency?: number;
  timeoutMs?: number;
}

export type Upstream = (url: string, headers: Record<string, string>) => Promise<UpstreamResponse>;

export function createUpstream(options: UpstreamOptions = {}): { get: Upstream; close(): void } {
  const https = new HttpsAgent({
    keepAlive: true,
    maxSockets: options.concurrency ?? 16,
    ...(options.ca ? { ca: options.ca } : {}),
    rejectUnauthorized: options.strictSSL !== false,
  });
  const http = new HttpAgent({ keepAlive: true, maxSockets: options.concurrency ?? 16 });
  const timeoutMs = options.timeoutMs ?? 120_000;

  const once = (url: string, headers: Record<string, string>): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const parsed = new URL(url);
      const request = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = request(
        parsed,
        {
          method: 'GET',
          agent: parsed.protocol === 'https:' ? https : http,
          headers: { ...headers, 'accept-encoding': 'identity' },
          timeout: timeoutMs,
        },
        resolve,
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from the registry within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });

  const read = async (res: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  const get: Upstream = async (url, headers) => {
    let lastError: unknown;
    for (let attempt = 0; attempt < 4; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      try {
        let target = url;
        for (let redirects = 0; ; redirects++) {
          const res = await once(target, headers);
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400 && res.headers.location && redirects < 5) {
            res.resume();
            target = new URL(res.headers.location, target).href;
            continue;
          }
          const raw = await read(res);
          if (status >= 500) throw new Error(`the registry answered ${status}`);
          const encoding = (res.headers['content-encoding'] ?? '').toLowerCase() || null;
          const body =
            encoding === 'gzip'
              ? gunzipSync(raw)
              : encoding === 'br'
                ? brotliDecompressSync(raw)
                : encoding === 'deflate'
                  ? inflateSync(raw)
                  : raw;
          return {
            status,
            contentType: (res.headers['content-type'] as string | undefined) ?? null,
            body,
            contentEncoding: encoding === 'identity' ? null : encoding,
          };
        }
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(
      `recording: the registry npm is configured with (see \`npm config get registry\`) did not answer ` +
        `a GET after 4 attempts: ${(lastError as Error)?.message ?? lastError}`,
      { cause: lastError },
    );
  };
  return {
    get,
    close: () => {
      https.destroy();
      http.destroy();
    },
  };
}
