// The webhook: retried with exponential backoff on 5xx, 429 and network errors, not on other 4xx;
// a bearer token from the environment; the finding id as Idempotency-Key.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { WebhookConfig } from '../../monitor/config/model';
import type { Finding } from '../../monitor/findings';
import { HttpClient } from '../../monitor/http/client';
import { deliverFinding } from '../../monitor/notify/webhook';
import { Scope } from '../harness/scope';
import { startWebhookReceiver } from './support';

const finding: Finding = {
  id: 'unexpected-signing/ab/7/release-bot@acme.example',
  kind: 'unexpected-signing',
  summary: 'release-bot@acme.example signed pkg:npm/acme-utils@1.2.1',
  details: ['not expected: no tag v1.2.1'],
};

describe('webhook delivery', () => {
  const scope = new Scope();
  const http = new HttpClient();
  after(async () => {
    http.close();
    await scope.close();
  });

  const hook = (url: string, attempts = 4): WebhookConfig => ({
    url,
    attempts,
    backoffMs: 20,
    timeoutMs: 2000,
    tokenEnv: 'HOOK_TOKEN',
    location: { file: 'm.yml', line: 1, column: 1 },
  });

  test('retries 503 and 429 with doubling waits, then delivers once with the token and the idempotency key', async () => {
    const receiver = await startWebhookReceiver(scope);
    receiver.respondWith([503, 429]);
    const waits: number[] = [];
    const result = await deliverFinding(http, hook(receiver.url), finding, {
      config: 'm.yml',
      env: { HOOK_TOKEN: 's3cret' },
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    assert.deepEqual(result, { id: finding.id, status: 'delivered', attempts: 3, httpStatus: 200 });
    assert.deepEqual(waits, [20, 40]);
    const last = receiver.requests[2]!;
    assert.equal(last.headers.authorization, 'Bearer s3cret');
    assert.equal(last.headers['idempotency-key'], finding.id);
    assert.equal(last.body.type, 'tollgate-monitor.finding');
    assert.equal(last.body.finding.summary, finding.summary);
    assert.match(last.body.markdown, /### unexpected signing event/);
  });

  test('a 400 is not retried; an unreachable receiver is retried up to the bound', async () => {
    const receiver = await startWebhookReceiver(scope);
    receiver.respondWith([400]);
    const refused = await deliverFinding(http, hook(receiver.url), finding, {
      config: 'm.yml',
      env: {},
      sleep: async () => {},
    });
    assert.deepEqual(refused, {
      id: finding.id,
      status: 'failed',
      attempts: 1,
      httpStatus: 400,
      error: 'HTTP 400',
    });
    assert.equal(receiver.requests[0]!.headers.authorization, undefined);

    const waits: number[] = [];
    const down = await deliverFinding(http, hook('http://127.0.0.1:9/hook', 3), finding, {
      config: 'm.yml',
      env: {},
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    assert.equal(down.status, 'failed');
    assert.equal(down.attempts, 3);
    assert.match(down.error ?? '', /connection refused/);
    assert.deepEqual(waits, [20, 40]);
  });
});
