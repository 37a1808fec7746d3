// Registry URLs compare after normalisation: scheme and host lower-cased, default port dropped,
// path ending in exactly one slash. Credentials, queries and fragments are refused.

export type NormalizedRegistry = { url: string } | { problem: string; suggestion: string };

const normalized = new Map<string, NormalizedRegistry>();

/** The same few registry URLs are normalized for every package and rule: each is parsed once. */
export function normalizeRegistryUrl(input: string): NormalizedRegistry {
  let result = normalized.get(input);
  if (!result) {
    result = Object.freeze(normalizeOnce(input));
    if (normalized.size < 1024) normalized.set(input, result);
  }
  return result;
}

function normalizeOnce(input: string): NormalizedRegistry {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return {
      problem: 'not an absolute URL',
      suggestion: 'write the full URL, e.g. https://npm.example.com/',
    };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { problem: `unsupported scheme ${url.protocol}`, suggestion: 'use an https:// URL' };
  }
  if (url.username || url.password) {
    return {
      problem: 'the URL contains credentials',
      suggestion: 'remove them; registry credentials belong in .yarnrc.yml, never in the policy',
    };
  }
  if (url.search || url.hash) {
    return { problem: 'the URL has a query or fragment', suggestion: 'remove everything after ? or #' };
  }
  const path = url.pathname.replace(/\/+$/, '');
  return { url: `${url.protocol}//${url.host}${path}/` };
}

/** Normalises a URL reported by the caller; an unparseable one matches nothing. */
export function normalizeRegistryOrUndefined(input: string | undefined): string | undefined {
  if (input === undefined) return undefined;
  const normalized = normalizeRegistryUrl(input);
  return 'url' in normalized ? normalized.url : undefined;
}
