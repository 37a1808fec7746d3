// The request target (RFC 9112 section 3.2). Clients of this server send origin-form
// (`/path?query`); absolute-form is for proxies, and `//host/...` would be read as a URL with
// another host. Anything else is a 400 with the reason, never an exception from the URL parser.
import { ServerError } from '../errors';

const BASE = 'http://tollgate-server.invalid';

export function parseRequestTarget(raw: string | undefined): URL {
  const target = raw ?? '';
  const refuse = (why: string) =>
    new ServerError(
      400,
      'BAD_REQUEST_TARGET',
      `the request target ${JSON.stringify(target.slice(0, 200))} ${why}; send a path such as /api/v1/log`,
    );
  if (!target.startsWith('/') || target.startsWith('//')) throw refuse('is not a path');
  let url: URL;
  try {
    url = new URL(target, BASE);
  } catch {
    throw refuse('is not a valid URL path');
  }
  if (url.origin !== BASE) throw refuse('is not a path on this server');
  return url;
}
