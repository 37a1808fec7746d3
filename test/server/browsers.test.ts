// A web page the developer visits must not be able to drive the server (it mints identity tokens
// and certificates on loopback): other Host names are refused (DNS rebinding), POST/PUT need
// Content-Type application/json (no CORS-simple request gets through), cross-origin requests are
// refused, and no response carries a CORS header.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rawRequest, spawnCli, startTestServer, tempDir } from './helpers';

function request(method: string, path: string, headers: Record<string, string>, body = ''): string {
  const lines = Object.entries({
    ...headers,
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  })
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${v}`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

const tokenRequest = JSON.stringify({ sub: 'alice@example.com', email: 'alice@example.com' });

async function checkBrowserDefences(url: string) {
  const port = new URL(url).port;
  const json = { 'Content-Type': 'application/json' };
  const send = (method: string, path: string, headers: Record<string, string>, body = '') =>
    rawRequest(url, request(method, path, headers, body));

  // Host names that are this server.
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
    assert.equal((await send('GET', '/api/v1/log', { Host: host })).status, 200, host);
  }
  // Host names that are not: a rebound domain, the right name on another port, no Host at all.
  for (const host of [
    `evil.example:${port}`,
    `127.0.0.1:${Number(port) + 1}`,
    'localhost',
    `127.0.0.1.evil.example:${port}`,
  ]) {
    const res = await send('POST', '/oidc/token', { Host: host, ...json }, tokenRequest);
    assert.equal(res.status, 421, host);
    assert.equal(JSON.parse(res.body).reason, 'MISDIRECTED_REQUEST', host);
    assert.match(JSON.parse(res.body).message, /DNS rebinding/);
  }
  const noHost = await rawRequest(url, `GET /api/v1/log HTTP/1.0\r\n\r\n`);
  assert.equal(noHost.status, 421);

  const host = { Host: `127.0.0.1:${port}` };
  // What a page can send without a preflight: no type, text/plain, a form.
  for (const type of [
    '',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
  ]) {
    const res = await send('POST', '/oidc/token', { ...host, 'Content-Type': type }, tokenRequest);
    assert.equal(res.status, 415, `Content-Type "${type}"`);
    assert.equal(JSON.parse(res.body).reason, 'UNSUPPORTED_MEDIA_TYPE');
  }
  for (const path of ['/api/v1/log/entries', '/api/v2/signingCert', '/api/v1/index/retrieve']) {
    assert.equal(
      (await send('POST', path, { ...host, 'Content-Type': 'text/plain' }, '{}')).status,
      415,
      path,
    );
  }
  assert.equal(
    (
      await send(
        'PUT',
        '/-/npm/v1/attestations/left-pad@1.0.0',
        { ...host, 'Content-Type': 'text/plain' },
        '{}',
      )
    ).status,
    415,
  );
  assert.equal(
    (
      await send(
        'POST',
        '/oidc/token',
        { ...host, 'Content-Type': 'application/json; charset=latin1' },
        tokenRequest,
      )
    ).status,
    415,
  );
  assert.equal(
    (
      await send(
        'POST',
        '/oidc/token',
        { ...host, 'Content-Type': 'Application/JSON; charset=UTF-8' },
        tokenRequest,
      )
    ).status,
    200,
  );

  // Requests a browser marks as cross-origin.
  const crossOrigin: Record<string, string>[] = [
    { Origin: 'https://evil.example' },
    { Origin: 'null' },
    { Origin: `http://localhost:${Number(port) + 1}` },
    { 'Sec-Fetch-Site': 'cross-site' },
  ];
  for (const headers of crossOrigin) {
    const res = await send('POST', '/oidc/token', { ...host, ...json, ...headers }, tokenRequest);
    assert.equal(res.status, 403, JSON.stringify(headers));
    assert.equal(JSON.parse(res.body).reason, 'CROSS_ORIGIN_REFUSED');
  }
  assert.equal(
    (
      await send(
        'POST',
        '/oidc/token',
        { ...host, ...json, Origin: `http://127.0.0.1:${port}` },
        tokenRequest,
      )
    ).status,
    200,
    'the server’s own origin',
  );

  // No response carries CORS headers: not a preflight, not an answer, not an error.
  const answers = [
    await send('OPTIONS', '/oidc/token', {
      ...host,
      Origin: 'https://evil.example',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type',
    }),
    await send('OPTIONS', '/oidc/token', host),
    await send('GET', '/trusted_root.json', host),
    await send('POST', '/oidc/token', { ...host, ...json }, tokenRequest),
    await send('GET', '/nothing', host),
  ];
  assert.notEqual(answers[0]!.status, 200);
  assert.notEqual(answers[0]!.status, 204);
  for (const answer of answers) {
    assert.deepEqual(
      Object.keys(answer.headers).filter((h) => h.startsWith('access-control-')),
      [],
      `status ${answer.status}`,
    );
  }
}

test('browsers cannot drive the in-process server', async (t) => {
  const server = await startTestServer(t);
  await checkBrowserDefences(server.url);
});

test('browsers cannot drive the executable; --allow-host adds a name', async (t) => {
  const server = await spawnCli(t, ['--data', tempDir(t), '--port', '0', '--allow-host', 'tollgate.test']);
  await checkBrowserDefences(server.ready.url);
  const port = new URL(server.ready.url).port;
  const named = await rawRequest(
    server.ready.url,
    request('GET', '/api/v1/log', { Host: `tollgate.test:${port}` }),
  );
  assert.equal(named.status, 200);
});
