// POST /api/v1/timestamp (JSON request, DER TimeStampResp answer, as sigstore/timestamp-authority)
// and GET /api/v1/timestamp/certchain (PEM, leaf first).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJson, sendText } from '../http/io';
import { parseTimestampRequest, type TimestampAuthority } from './authority';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, match: RegExpExecArray) => Promise<void>;

export function tsaRoutes(tsa: TimestampAuthority): { pattern: RegExp; methods: Record<string, Handler> }[] {
  return [
    {
      pattern: /^\/api\/v1\/timestamp$/,
      methods: {
        POST: async (req, res) => {
          const response = tsa.timestamp(parseTimestampRequest(await readJson(req, 16 * 1024)));
          res.writeHead(201, {
            'Content-Type': 'application/timestamp-reply',
            'Content-Length': response.length,
          });
          res.end(response);
        },
      },
    },
    {
      pattern: /^\/api\/v1\/timestamp\/certchain$/,
      methods: {
        GET: async (_req, res) => sendText(res, 200, tsa.chainPem(), 'application/pem-certificate-chain'),
      },
    },
  ];
}
