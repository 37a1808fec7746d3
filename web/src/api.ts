// The server's web API (server/web/routes.ts), same origin. Errors come back as
// {code, message}; the message is shown as text.
import type { RekorEntry, TrustedRoot } from './verify';

export interface EntryIdentity {
  subject: string;
  subjectKind: 'uri' | 'email' | 'other';
  issuer: string;
  claims: Record<string, string>;
}

export interface EntrySummary {
  logIndex: number;
  uuid: string;
  integratedTime: number;
  kind: string;
  apiVersion: string;
  identity: EntryIdentity | null;
  identityProblem?: string;
  artifact?: { algorithm: string; digest: string };
  payloadHash?: string;
  statement?: { predicateType: string | null; subjects: { name: string; digest: Record<string, string> }[] };
  envelopeKept?: boolean;
}

export interface SearchResult {
  query: Record<string, string | string[]>;
  total: number;
  page: number;
  perPage: number;
  pages: number;
  treeSize: number;
  entries: EntrySummary[];
}

export interface EntryDetail {
  summary: EntrySummary;
  rekor: { uuid: string; entry: RekorEntry };
  envelope: string | null;
  bundle: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function get<T>(path: string, as: 'json' | 'text' = 'json'): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: as === 'json' ? 'application/json' : 'text/plain' } });
  } catch (err) {
    throw new ApiError(0, `the server could not be reached: ${(err as Error).message}`);
  }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { message?: unknown };
      if (typeof body.message === 'string') message = body.message;
    } catch {}
    throw new ApiError(res.status, message);
  }
  return (as === 'json' ? res.json() : res.text()) as Promise<T>;
}

export const search = (params: URLSearchParams) => get<SearchResult>(`/api/web/v1/search?${params}`);
export const entry = (index: number) => get<EntryDetail>(`/api/web/v1/entries/${index}`);
export const trustedRoot = () => get<TrustedRoot>('/trusted_root.json');
export const logInfo = () => get<{ treeSize: number; rootHash: string }>('/api/v1/log');
export const watchUrl = (subject: string, issuer: string, start: number, download = false) =>
  `/api/web/v1/watch?${new URLSearchParams({ subject, issuer, start: String(start), ...(download ? { download: '1' } : {}) })}`;
export const watch = (subject: string, issuer: string, start: number) =>
  get<string>(watchUrl(subject, issuer, start), 'text');
