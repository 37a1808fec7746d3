// Who may talk to the server at all. It mints identity tokens and certificates for whoever asks on
// loopback, so a web page the developer visits must not be able to drive it:
// - the Host header must name this server (loopback names or the configured host, with its port);
//   a page that rebinds its own domain to 127.0.0.1 sends its own domain, and is refused (421);
// - a request that a browser marks as cross-origin (Origin of another site, Sec-Fetch-Site
//   cross-site) is refused (403), and no response ever carries CORS headers, so a browser never
//   lets a page read an answer either.
// Content-Type application/json on POST/PUT (io.ts) completes this: it forces a CORS preflight,
// which the server does not answer. The one cross-site request let through is a top-level GET
// navigation to the web page (a link to it).
import type { IncomingMessage } from 'node:http';
import { ServerError } from '../errors';

export const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

export interface RequestGuard {
  /** The Host values accepted, e.g. `127.0.0.1:8080`. */
  readonly hosts: readonly string[];
  check(req: IncomingMessage): void;
}

/** `name` as it appears in a Host header: IPv6 literals in brackets, lower case. */
function hostName(name: string): string {
  const lower = name.toLowerCase();
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
}

// A link from another site to the web page (`/`, `/entry/N`) is a top-level GET navigation: the
// browser shows the page, which reads only its own origin; another site still cannot frame it
// (frame-ancestors 'none'), read it, or send anything else cross-site.
const PAGE = /^\/(?:entry\/\d{1,15})?(?:\?[^#]*)?$/;

function isPageNavigation(req: IncomingMessage): boolean {
  return (
    req.method === 'GET' &&
    req.headers['sec-fetch-mode'] === 'navigate' &&
    req.headers['sec-fetch-dest'] === 'document' &&
    req.headers.origin === undefined &&
    PAGE.test(req.url ?? '')
  );
}

export function createRequestGuard(options: {
  host: string;
  port: number;
  extraHosts?: string[];
}): RequestGuard {
  const names = new Set([...LOOPBACK_NAMES, options.host, ...(options.extraHosts ?? [])].map(hostName));
  const hosts = new Set<string>();
  for (const name of names) {
    hosts.add(`${name}:${options.port}`);
    if (options.port === 80) hosts.add(name);
  }
  const origins = new Set([...hosts].map((h) => `http://${h}`));
  const expected = [...hosts].join(', ');
  return {
    hosts: [...hosts],
    check(req) {
      const host = req.headers.host?.toLowerCase();
      if (host === undefined || !hosts.has(host)) {
        throw new ServerError(
          421,
          'MISDIRECTED_REQUEST',
          `${host === undefined ? 'the request has no Host header' : `Host ${JSON.stringify(host.slice(0, 200))} is not this server`}; ` +
            `tollgate-server answers only to ${expected} (other names are refused so that web pages cannot reach it by DNS rebinding)`,
        );
      }
      const origin = req.headers.origin;
      const site = req.headers['sec-fetch-site'];
      if (
        ((origin !== undefined && !origins.has(origin.toLowerCase())) || site === 'cross-site') &&
        !isPageNavigation(req)
      ) {
        throw new ServerError(
          403,
          'CROSS_ORIGIN_REFUSED',
          `cross-origin requests${origin ? ` (Origin ${JSON.stringify(origin.slice(0, 200))})` : ''} are refused: tollgate-server is not for browsers`,
        );
      }
    },
  };
}
