// GET /tuf/<file>: the TUF repository's metadata and targets, as a static TUF mirror serves them.
// timestamp.json is re-signed on demand when it is past half its lifetime, so a running server never
// hands out an expired one.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServerError } from '../errors';
import type { TufRepository } from './repository';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, match: RegExpExecArray) => Promise<void>;

export function tufRoutes(repo: TufRepository): { pattern: RegExp; methods: Record<string, Handler> }[] {
  return [
    {
      pattern: /^\/tuf\/(.+)$/,
      methods: {
        GET: async (_req, res, _url, match) => {
          const name = match[1]!;
          if (name === 'timestamp.json') repo.refresh(null);
          const bytes = repo.file(name);
          if (!bytes) throw new ServerError(404, 'NOT_FOUND', `the TUF repository has no ${name}`);
          res.writeHead(200, {
            'Content-Type': 'application/json',
            'Content-Length': bytes.length,
            // Versioned files never change; timestamp.json does.
            'Cache-Control': name === 'timestamp.json' ? 'no-cache' : 'public, max-age=31536000, immutable',
          });
          res.end(bytes);
        },
      },
    },
  ];
}
