// Source repositories compare as host/path: scheme, "git+", ".git" and trailing slashes dropped,
// host lower-cased. The path keeps its case: identities are compared exactly.

export function normalizeRepository(input: string): string | undefined {
  let text = input.trim().replace(/^git\+/, '');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `https://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.username || url.password || url.search || url.hash) return undefined;
  const path = url.pathname.replace(/\/+$/, '').replace(/\.git$/, '');
  if (!url.hostname || path.split('/').filter(Boolean).length < 2) return undefined;
  return `${url.host}${path}`;
}
