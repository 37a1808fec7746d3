// Request bodies (bounded, JSON only) and JSON responses in the Fulcio/Rekor error shape.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServerError } from '../errors';

export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/([a-z0-9.+-]*\+)?json\b/i.test(type)) {
    throw new ServerError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `expected a JSON body (Content-Type application/json), got ${type}`,
    );
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = () =>
    new ServerError(413, 'BODY_TOO_LARGE', `the request body exceeds ${limit} bytes`, {
      Connection: 'close',
    });
  if (declared > limit) throw tooLarge();
  // Past the limit the rest of the body is read and discarded, so that the client still gets
  // the 413 instead of a reset connection.
  const { chunks, size } = await new Promise<{ chunks: Buffer[]; size: number }>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        if (chunks.length) chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve({ chunks, size }));
    req.on('error', reject);
  });
  if (size === 0) throw new ServerError(400, 'BAD_REQUEST', 'the request body is empty; expected JSON');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ServerError(400, 'BAD_REQUEST', 'the request body is not valid JSON');
  }
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
