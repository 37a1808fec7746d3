// The page's files (built from web/ by scripts/build.mjs into generated/assets.ts) and the headers
// every web answer carries. The page runs under a strict Content-Security-Policy: scripts, styles
// and requests only from this origin, no inline script or style, no eval, no frames, no plugins,
// and Trusted Types required for script sinks, so that even a stray innerHTML with data would
// throw in the browser instead of parsing markup.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { WEB_ASSETS } from './generated/assets';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** Headers on every answer of the web layer (pages, assets, its API). */
export const WEB_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
  /** Content-hashed names never change: cached for a year. */
  immutable: boolean;
}

function asset(type: string, text: string, immutable: boolean): Asset {
  const body = Buffer.from(text, 'utf8');
  return {
    type,
    body,
    gzip: gzipSync(body, { level: 9 }),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    immutable,
  };
}

let loaded: { page: Asset; files: Map<string, Asset> } | null = null;

/** index.html, and the assets by their path under /assets/. */
export function webAssets(): { page: Asset; files: Map<string, Asset> } {
  if (loaded) return loaded;
  const files = new Map<string, Asset>();
  for (const [name, file] of Object.entries(WEB_ASSETS.assets))
    files.set(name, asset(file.type, file.text, true));
  loaded = { page: asset('text/html; charset=utf-8', WEB_ASSETS.html, false), files };
  return loaded;
}
