// The web layer's endpoints, on the server's single origin:
//   GET /                       the page (search); /entry/<logIndex> the page (an entry)
//   GET /assets/<file>          its script and style (content-hashed, immutable)
//   GET /api/web/v1/search      ?email=|subject=[&issuer=] | digest=(1..4) | package= [&page=&perPage=]
//   GET /api/web/v1/entries/<logIndex>          summary, the Rekor entry, the kept DSSE envelope
//   GET /api/web/v1/entries/<logIndex>/bundle   the entry as a Sigstore bundle (download)
//   GET /api/web/v1/watch       ?subject=&issuer=[&start=][&download=1]  identity monitor configuration
// Searches are one lookup per key in the log's search index (server/log/index-keys.ts) and read
// only the entries of the requested page.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, notFound } from '../errors';
import type { EnvelopeStore } from '../log/index-envelopes';
import type { TransparencyLog } from '../log/transparency-log';
import { type Asset, WEB_HEADERS, webAssets } from './assets';
import { bundleFor } from './bundle';
import { hasControlCharacters, parseSearchQuery } from './query';
import { type EntrySummary, matchingEnvelope, parseBody, summarize } from './summary';
import { watchConfig } from './watch';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, match: RegExpExecArray) => Promise<void>;
export interface WebRoute {
  pattern: RegExp;
  methods: Record<string, Handler>;
}

export interface WebParts {
  tlog: TransparencyLog;
  envelopes: EnvelopeStore;
  /** The server's origin, written into monitor configurations. */
  serverUrl: string;
}

const SUMMARY_CACHE = 10_000;

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  type: string,
  body: Buffer,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...WEB_HEADERS,
    'Content-Type': type,
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  body: unknown,
  headers: Record<string, string> = {},
) {
  send(req, res, 200, 'application/json', Buffer.from(JSON.stringify(body)), headers);
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset, status = 200): void {
  const headers: Record<string, string> = {
    ETag: asset.etag,
    'Cache-Control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    Vary: 'Accept-Encoding',
  };
  if (status === 200 && req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, { ...WEB_HEADERS, ...headers });
    res.end();
    return;
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  if (gzip) headers['Content-Encoding'] = 'gzip';
  send(req, res, status, asset.type, gzip ? asset.gzip : asset.body, headers);
}

function logIndex(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw badRequest('the log index must be a non-negative integer');
  return Number(raw);
}

export function webRoutes(parts: WebParts): WebRoute[] {
  const { tlog, envelopes } = parts;
  const cache = new Map<number, EntrySummary>();
  const previous = tlog.onEnvelope;
  tlog.onEnvelope = (index, envelope) => {
    previous?.(index, envelope);
    envelopes.put(index, envelope);
    cache.delete(index);
  };

  const summary = (index: number): EntrySummary => {
    const hit = cache.get(index);
    if (hit) return hit;
    const made = summarize(tlog.storedEntry(index), envelopes.get(index));
    if (cache.size >= SUMMARY_CACHE) cache.delete(cache.keys().next().value!);
    cache.set(index, made);
    return made;
  };

  const entryIndex = (raw: string): number => {
    const index = logIndex(raw);
    if (index >= tlog.size)
      throw notFound(`no entry at log index ${index}; the log has ${tlog.size} entries`);
    return index;
  };

  const page: Handler = async (req, res, url) => {
    // The page is the same file whatever is asked; a query it cannot search is still answered with
    // the page (which shows the reason the API gives), under a 400.
    let status = 200;
    if ([...url.searchParams.keys()].length > 0) {
      try {
        parseSearchQuery(url.searchParams);
      } catch {
        status = 400;
      }
    }
    sendAsset(req, res, webAssets().page, status);
  };

  return [
    { pattern: /^\/$/, methods: { GET: page, HEAD: page } },
    {
      pattern: /^\/entry\/(\d{1,15})$/,
      methods: {
        GET: async (req, res, url, match) => {
          const index = Number(match[1]);
          if (index >= tlog.size || [...url.searchParams.keys()].length > 0) {
            sendAsset(req, res, webAssets().page, index >= tlog.size ? 404 : 400);
          } else sendAsset(req, res, webAssets().page);
        },
      },
    },
    {
      pattern: /^\/assets\/([A-Za-z0-9._-]{1,100})$/,
      methods: {
        GET: async (req, res, _u, match) => {
          const asset = webAssets().files.get(match[1]!);
          if (!asset) throw notFound(`no asset ${match[1]}`);
          sendAsset(req, res, asset);
        },
      },
    },
    {
      pattern: /^\/api\/web\/v1\/search$/,
      methods: {
        GET: async (req, res, url) => {
          const query = parseSearchQuery(url.searchParams);
          const skip = (query.page - 1) * query.perPage;
          let total: number;
          let chosen: number[];
          if (query.keys.length === 1) {
            // One key (an identity, a package, one digest): the index counts and pages it.
            ({ total, indexes: chosen } = tlog.pageByKey(query.keys[0]!, skip, query.perPage));
          } else {
            // Several digests of one file: few entries each, merged.
            const all = [...new Set(query.keys.flatMap((k) => tlog.findByKey(k)))].sort((a, b) => b - a);
            total = all.length;
            chosen = all.slice(skip, skip + query.perPage);
          }
          const pages = Math.max(1, Math.ceil(total / query.perPage));
          sendJson(req, res, {
            query: query.describe,
            total,
            page: query.page,
            perPage: query.perPage,
            pages,
            treeSize: tlog.size,
            entries: chosen.map(summary),
          });
        },
      },
    },
    {
      pattern: /^\/api\/web\/v1\/entries\/([^/]+)$/,
      methods: {
        GET: async (req, res, _u, match) => {
          const index = entryIndex(match[1]!);
          const { uuid, entry } = tlog.entryByIndex(index);
          const parsed = parseBody(Buffer.from(entry.body, 'base64'));
          const envelope = matchingEnvelope(parsed, envelopes.get(index));
          sendJson(req, res, {
            summary: summary(index),
            rekor: { uuid, entry },
            envelope: envelope?.text ?? null,
            bundle: bundleFor(entry, parsed, envelope) !== null,
          });
        },
      },
    },
    {
      pattern: /^\/api\/web\/v1\/entries\/([^/]+)\/bundle$/,
      methods: {
        GET: async (req, res, _u, match) => {
          const index = entryIndex(match[1]!);
          const { entry } = tlog.entryByIndex(index);
          const parsed = parseBody(Buffer.from(entry.body, 'base64'));
          const bundle = bundleFor(entry, parsed, matchingEnvelope(parsed, envelopes.get(index)));
          if (!bundle) {
            throw notFound(
              parsed.kind === 'dsse'
                ? `entry ${index} is a DSSE entry whose envelope this server did not keep: the log holds only its hashes`
                : `entry ${index} is not signed with a certificate; there is no bundle to make`,
            );
          }
          send(req, res, 200, 'application/json', Buffer.from(`${JSON.stringify(bundle, null, 2)}\n`), {
            'Content-Disposition': `attachment; filename="entry-${index}.sigstore.json"`,
          });
        },
      },
    },
    {
      pattern: /^\/api\/web\/v1\/watch$/,
      methods: {
        GET: async (req, res, url) => {
          for (const name of url.searchParams.keys()) {
            if (!['subject', 'issuer', 'start', 'download'].includes(name))
              throw badRequest(
                `unknown parameter "${name.slice(0, 50)}"; use subject, issuer, start, download`,
              );
          }
          const subject = url.searchParams.get('subject');
          const issuer = url.searchParams.get('issuer');
          if (!subject || subject.length > 2048 || /\s/.test(subject) || hasControlCharacters(subject))
            throw badRequest('"subject" must be a certificate SAN (an email or a URI)');
          if (!issuer || issuer.length > 2048) throw badRequest('"issuer" must be an http(s) URL');
          const startRaw = url.searchParams.get('start');
          const start = startRaw === null ? 0 : logIndex(startRaw);
          const text = watchConfig({ serverUrl: parts.serverUrl, subject, issuer, start });
          send(
            req,
            res,
            200,
            'text/yaml; charset=utf-8',
            Buffer.from(text),
            url.searchParams.get('download') === '1'
              ? { 'Content-Disposition': 'attachment; filename=".tollgate-monitor.yml"' }
              : {},
          );
        },
      },
    },
  ];
}
