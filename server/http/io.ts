// Request bodies (bounded, JSON only, shape-checked) and JSON responses in the Fulcio/Rekor error
// shape.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClientAbortError, ServerError } from '../errors';
import { parseBoundedJson, REQUEST_JSON } from '../json';

/**
 * Every POST and PUT must declare `Content-Type: application/json` (optionally `; charset=utf-8`).
 * Browsers send cross-origin requests without a CORS preflight only for form and text types, so
 * insisting on JSON is what keeps a web page from driving the dev issuer or the CA.
 */
export function requireJsonContentType(req: IncomingMessage): void {
  const declared = req.headers['content-type'];
  const [type, ...params] = (declared ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length);
  if (type !== 'application/json' || (charset !== undefined && charset.replace(/"/g, '') !== 'utf-8')) {
    throw new ServerError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      declared === undefined
        ? 'the request has no Content-Type; send the body as JSON with "Content-Type: application/json"'
        : `expected "Content-Type: application/json" (UTF-8), got ${JSON.stringify(declared.slice(0, 100))}`,
    );
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () =>
    new ServerError(413, 'BODY_TOO_LARGE', `the request body exceeds ${limit} bytes`, {
      Connection: 'close',
    });
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge());
  // Past the limit the rest of the body is read and discarded, so that the client still gets the
  // 413 instead of a reset connection.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) fail(tooLarge());
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks));
    });
    // Errors on the request stream are the connection failing under it (reset, aborted).
    req.on('error', () => fail(new ClientAbortError()));
    req.on('close', () => {
      if (!req.complete) fail(new ClientAbortError());
    });
  });
}

export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0)
    throw new ServerError(400, 'BAD_REQUEST', 'the request body is empty; expected JSON');
  return parseBoundedJson(
    body.toString('utf8'),
    REQUEST_JSON,
    'the request body',
    () => new ServerError(400, 'BAD_REQUEST', 'the request body is not valid JSON'),
  );
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length, ...headers });
  res.end(data);
}

export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendError(res: ServerResponse, err: ServerError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.status, { code: err.status, message: err.message, reason: err.reason }, err.headers);
}
