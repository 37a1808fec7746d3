// What went wrong underneath an HTTP call through Yarn's layer (got errors, possibly wrapped), in one
// line a person can act on: the HTTP status and the server's message where there is one.

export function httpStatusOf(err: unknown): number | undefined {
  return (
    (err as { response?: { statusCode?: number } })?.response?.statusCode ??
    (err as { originalError?: { response?: { statusCode?: number } } })?.originalError?.response?.statusCode
  );
}

export function describeCause(err: unknown): string {
  const status = httpStatusOf(err);
  const body = (err as { response?: { body?: unknown } })?.response?.body;
  const detail = typeof body === 'object' && body && 'message' in body ? `: ${String(body.message)}` : '';
  if (status) return `HTTP ${status}${detail}`;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const first = err.message.split('\n')[0]!;
    return typeof code === 'string' && !first.includes(code) ? `${first} (${code})` : first;
  }
  return String(err);
}
