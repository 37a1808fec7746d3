// Rekor v2 on tollgate-server's origin: POST /api/v2/log/entries (protojson request, 201 with the
// TransparencyLogEntry), and the C2SP tlog-tiles reads under /v2: /v2/checkpoint,
// /v2/tile/<L>/<N>[.p/<W>], /v2/tile/entries/<N>[.p/<W>].
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServerError } from '../../errors';
import { readJson, sendJson, sendText } from '../../http/io';
import { parseTileIndex, type RekorV2Log } from './rekor-v2';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, match: RegExpExecArray) => Promise<void>;

function sendTile(res: ServerResponse, bytes: Buffer, partial: boolean): void {
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': bytes.length,
    // Full tiles never change; a partial one is replaced by a wider one as the log grows.
    'Cache-Control': partial ? 'no-cache' : 'public, max-age=31536000, immutable',
  });
  res.end(bytes);
}

function tileParams(match: RegExpExecArray): { index: number; width?: number } {
  const index = parseTileIndex(match[1]!);
  const width = match[2] === undefined ? undefined : Number(match[2]);
  if (index === null || (width !== undefined && (!Number.isInteger(width) || width < 1 || width > 255)))
    throw new ServerError(404, 'NOT_FOUND', 'not a tile path (C2SP tlog-tiles)');
  return { index, ...(width !== undefined ? { width } : {}) };
}

export function rekorV2Routes(log: RekorV2Log): { pattern: RegExp; methods: Record<string, Handler> }[] {
  return [
    {
      pattern: /^\/api\/v2\/log\/entries$/,
      methods: {
        POST: async (req, res) => sendJson(res, 201, await log.add(await readJson(req, 8 * 1024 * 1024))),
      },
    },
    {
      pattern: /^\/v2\/checkpoint$/,
      methods: { GET: async (_q, res) => sendText(res, 200, log.checkpoint()) },
    },
    {
      pattern: /^\/v2\/tile\/entries\/((?:x\d{3}\/){0,4}\d{3})(?:\.p\/(\d{1,3}))?$/,
      methods: {
        GET: async (_q, res, _u, match) => {
          const { index, width } = tileParams(match);
          sendTile(res, log.entries(index, width), width !== undefined);
        },
      },
    },
    {
      pattern: /^\/v2\/tile\/(\d)\/((?:x\d{3}\/){0,4}\d{3})(?:\.p\/(\d{1,3}))?$/,
      methods: {
        GET: async (_q, res, _u, m) => {
          const level = Number(m[1]);
          const { index, width } = tileParams([m[0], m[2], m[3]] as unknown as RegExpExecArray);
          sendTile(res, log.tile(level, index, width), width !== undefined);
        },
      },
    },
  ];
}
