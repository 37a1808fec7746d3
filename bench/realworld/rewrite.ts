// What the recorded mirror changes in what it serves, and nothing else (pure functions, unit-tested in
// test/bench/realworld-mirror.test.ts):
// - on disk, every occurrence of the recorded registry's host name is replaced by a placeholder
//   (`hideHost`), so that no file under bench/.cache names the registry; serving restores it
//   (`restoreHost`) and the recording's sha256 of the original bytes proves the round trip is exact;
// - in served JSON documents, `"tarball"` values under the registry's URL point at the local origin
//   instead (`rewriteTarballUrls`): Yarn downloads tarballs from wherever the packument says.

/** Stands for the registry's host in recorded files; `.invalid` is reserved (RFC 2606), never a real host. */
export const HOST_PLACEHOLDER = 'recorded-registry.invalid';

export class RewriteError extends Error {
  override readonly name = 'RewriteError';
}

/** The registry's host as it appears in URLs (with its port when it has one). */
export function registryHost(registry: string): string {
  return new URL(registry).host;
}

/** `https://host/some/path` -> `https://host/some/path/`: tarball URLs are matched on this prefix. */
export function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** Replaces every occurrence of `host` by the placeholder; fails if the placeholder is already there. */
export function hideHost(text: string, host: string): string {
  if (host === '') throw new RewriteError('hideHost: empty host');
  if (text.includes(HOST_PLACEHOLDER)) {
    throw new RewriteError(
      `the document already contains ${HOST_PLACEHOLDER}: the placeholder would not round-trip`,
    );
  }
  return text.split(host).join(HOST_PLACEHOLDER);
}

export function restoreHost(text: string, host: string): string {
  return text.split(HOST_PLACEHOLDER).join(host);
}

export interface TarballRewrite {
  text: string;
  /** `"tarball"` values that started with `from` and now start with `to` */
  rewritten: number;
  /** `"tarball"` values left as they were (another origin, or written with JSON escapes) */
  kept: number;
}

// A JSON member named "tarball" with a string value, whitespace allowed around the colon as JSON does
const tarballMember = /("tarball"\s*:\s*")((?:[^"\\]|\\.)*)"/g;

/**
 * Rewrites the prefix `from` of every `"tarball"` string value to `to`, leaving every other byte of the
 * document as it was (no JSON parse and re-serialisation: key order, spacing and escapes stay).
 */
export function rewriteTarballUrls(text: string, from: string, to: string): TarballRewrite {
  let rewritten = 0;
  let kept = 0;
  const out = text.replace(tarballMember, (whole, head: string, value: string) => {
    if (!value.startsWith(from)) {
      kept++;
      return whole;
    }
    rewritten++;
    return `${head}${to}${value.slice(from.length)}"`;
  });
  return { text: out, rewritten, kept };
}

/** What a GET asks for: a tarball, or a metadata document in the abbreviated or the full form. */
export type RequestKind = 'tarball' | 'abbreviated' | 'full';

/** npm's abbreviated metadata media type, which Yarn (and Tollgate by default) put first in Accept. */
export const ABBREVIATED_ACCEPT = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';
export const FULL_ACCEPT = 'application/json';

/** Registry-relative paths of tarballs end in `/-/<file>.tgz`; everything else is a document. */
export function requestKind(path: string, accept: string | undefined): RequestKind {
  if (/\/-\/[^/]+\.tgz$/.test(path)) return 'tarball';
  return (accept ?? '').includes('application/vnd.npm.install-v1+json') ? 'abbreviated' : 'full';
}

/**
 * The path a request names, relative to the registry, decoded: `/@types%2fnode` and `/@types/node`
 * are the same document (clients write scoped names either way). Returns null for paths outside it.
 */
export function registryPath(pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.split('/').includes('..')) return null;
  return decoded;
}

/** The key of one recorded exchange. */
export function exchangeKey(kind: RequestKind, path: string): string {
  return `${kind} ${path}`;
}
