// One circuit per origin for a run: once an origin has failed to answer (refused, unresolvable, timed
// out), every later request to it in the same run fails at once with the first failure's cause and
// how long it took, instead of each of hundreds of packages waiting out its own timeouts and retries.

export interface OpenCircuit {
  origin: string;
  cause: string;
  /** how long the failed request took, in milliseconds */
  elapsedMs: number;
}

/** Failures that say the origin itself is unreachable, as opposed to an answer about one resource. */
const UNREACHABLE =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|socket hang up|timed out/i;

export function isUnreachable(cause: string): boolean {
  return UNREACHABLE.test(cause);
}

export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export class Circuits {
  private readonly open = new Map<string, OpenCircuit>();

  /** The open circuit for a URL's origin, if a request to it failed earlier in this run. */
  blocked(url: string): OpenCircuit | undefined {
    return this.open.get(originOf(url));
  }

  trip(url: string, cause: string, elapsedMs: number): void {
    const origin = originOf(url);
    if (!this.open.has(origin)) this.open.set(origin, { origin, cause, elapsedMs });
  }

  list(): OpenCircuit[] {
    return [...this.open.values()];
  }
}

/** Rejects when `promise` takes longer than `ms`; the request itself is abandoned, not awaited. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${(ms / 1000).toFixed(0)} s`)), ms);
    timer.unref?.();
  });
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
