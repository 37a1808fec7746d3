// The webhook: one JSON POST per finding, retried with exponential backoff (network errors, 408,
// 429 and 5xx) up to a bounded number of attempts. The finding id goes in an Idempotency-Key header
// and the body, so a receiver can drop the one duplicate a crash between its answer and the state
// write could cause. Other 4xx answers are not retried within the run.
import type { WebhookConfig } from '../config/model';
import type { Finding } from '../findings';
import type { HttpClient } from '../http/client';
import type { DeliveryResult } from '../report';
import { renderFindingMarkdown } from './render';

export const WEBHOOK_EVENT = 'tollgate-monitor.finding';
const MAX_BACKOFF_MS = 60_000;

export interface WebhookPayload {
  type: typeof WEBHOOK_EVENT;
  version: 1;
  id: string;
  kind: Finding['kind'];
  summary: string;
  finding: Finding;
  /** the same finding as Markdown, for chat and issue integrations */
  markdown: string;
  monitor: { config: string; sentAt: string };
}

const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

export async function deliverFinding(
  http: HttpClient,
  hook: WebhookConfig,
  finding: Finding,
  context: { config: string; env: NodeJS.ProcessEnv; sleep?: (ms: number) => Promise<void> },
): Promise<DeliveryResult> {
  const sleep = context.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'idempotency-key': finding.id,
  };
  const token = hook.tokenEnv ? context.env[hook.tokenEnv] : undefined;
  if (token) headers['authorization'] = `Bearer ${token}`;
  let lastError = '';
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= hook.attempts; attempt++) {
    const payload: WebhookPayload = {
      type: WEBHOOK_EVENT,
      version: 1,
      id: finding.id,
      kind: finding.kind,
      summary: finding.summary,
      finding,
      markdown: renderFindingMarkdown(finding),
      monitor: { config: context.config, sentAt: new Date().toISOString() },
    };
    try {
      const res = await http.request(hook.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(payload),
        timeoutMs: hook.timeoutMs,
        maxBytes: 1024 * 1024,
      });
      lastStatus = res.status;
      if (res.status >= 200 && res.status < 300)
        return { id: finding.id, status: 'delivered', attempts: attempt, httpStatus: res.status };
      lastError = `HTTP ${res.status}`;
      if (!retryable(res.status))
        return {
          id: finding.id,
          status: 'failed',
          attempts: attempt,
          httpStatus: res.status,
          error: lastError,
        };
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (attempt < hook.attempts) await sleep(Math.min(MAX_BACKOFF_MS, hook.backoffMs * 2 ** (attempt - 1)));
  }
  const result: DeliveryResult = {
    id: finding.id,
    status: 'failed',
    attempts: hook.attempts,
    error: lastError,
  };
  if (lastStatus !== undefined) result.httpStatus = lastStatus;
  return result;
}
