/**
 * On a loaded 2-core box a pooled keep-alive socket is sometimes closed by a local server just as it
 * is reused (undici: `TypeError: fetch failed`, cause ECONNRESET): thousands of requests in a row meet
 * it. Only that is retried; refusals and everything else fail the run.
 */
export function isConnectionReset(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  return (
    error instanceof TypeError &&
    error.message === 'fetch failed' &&
    ['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'].includes(cause?.code ?? '')
  );
}

/** Runs `fn` up to `attempts` times while it fails with a connection reset. */
export async function retryOnReset<T>(fn: (attempt: number) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= attempts || !isConnectionReset(error)) throw error;
    }
  }
}
