// Malformed and hostile requests get a 4xx with a JSON {code, message} error, and the server
// keeps serving. No input may produce a 500.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'node:test';
import { devToken, type Json, postJson, startTestServer } from './helpers';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pemB64 = (pem: string) => Buffer.from(pem).toString('base64');
const ecPem = ec.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const data = Buffer.from('hostile');
const digest = createHash('sha256').update(data).digest('hex');
const goodSig = sign('sha256', data, ec.privateKey).toString('base64');
const forgedCert = `-----BEGIN CERTIFICATE-----\n${Buffer.alloc(300, 0x30).toString('base64')}\n-----END CERTIFICATE-----\n`;

const hashedrekord = (spec: unknown) => ({ apiVersion: '0.0.1', kind: 'hashedrekord', spec });
const validSpec = {
  data: { hash: { algorithm: 'sha256', value: digest } },
  signature: { content: goodSig, publicKey: { content: pemB64(ecPem) } },
};
const withSpec = (patch: (spec: typeof validSpec) => void) => {
  const spec = JSON.parse(JSON.stringify(validSpec));
  patch(spec);
  return hashedrekord(spec);
};

interface Case {
  name: string;
  method?: string;
  path: string;
  body?: unknown;
  raw?: string | Buffer;
  contentType?: string;
  status: number;
}

const cases: Case[] = [
  { name: 'entry: not JSON', path: '/api/v1/log/entries', raw: '{"kind":', status: 400 },
  { name: 'entry: empty body', path: '/api/v1/log/entries', raw: '', status: 400 },
  { name: 'entry: array', path: '/api/v1/log/entries', body: [], status: 400 },
  {
    name: 'entry: unknown kind',
    path: '/api/v1/log/entries',
    body: { kind: 'rekord', apiVersion: '0.0.1' },
    status: 400,
  },
  {
    name: 'entry: kind of wrong type',
    path: '/api/v1/log/entries',
    body: { kind: 42, apiVersion: '0.0.1' },
    status: 400,
  },
  {
    name: 'entry: unknown version',
    path: '/api/v1/log/entries',
    body: { ...hashedrekord(validSpec), apiVersion: '9' },
    status: 400,
  },
  {
    name: 'entry: spec missing',
    path: '/api/v1/log/entries',
    body: { kind: 'hashedrekord', apiVersion: '0.0.1' },
    status: 400,
  },
  {
    name: 'entry: hash wrong length',
    path: '/api/v1/log/entries',
    body: withSpec((s) => {
      s.data.hash.value = 'abcd';
    }),
    status: 400,
  },
  {
    name: 'entry: hash algorithm md5',
    path: '/api/v1/log/entries',
    body: withSpec((s) => {
      s.data.hash.algorithm = 'md5';
    }),
    status: 400,
  },
  {
    name: 'entry: bad base64 signature',
    path: '/api/v1/log/entries',
    body: withSpec((s) => {
      s.signature.content = '!!notbase64!!';
    }),
    status: 400,
  },
  {
    name: 'entry: signature as number',
    path: '/api/v1/log/entries',
    body: withSpec((s) => {
      (s.signature as Json).content = 12;
    }),
    status: 400,
  },
  {
    name: 'entry: wrong signature',
    path: '/api/v1/log/entries',
    body: withSpec((s) => {
      s.data.hash.value = 'ab'.repeat(32);
    }),
    status: 400,
  },
  {
    name: 'entry: key is not PEM',
    path: '/api/v1/log/entries',
    body: withSpec((s) => {
      s.signature.publicKey.content = pemB64('hello');
    }),
    status: 400,
  },
  {
    name: 'entry: forged certificate',
    path: '/api/v1/log/entries',
    body: withSpec((s) => {
      s.signature.publicKey.content = pemB64(forgedCert);
    }),
    status: 400,
  },
  {
    name: 'entry: RSA key cannot verify a digest signature',
    path: '/api/v1/log/entries',
    body: withSpec((s) => {
      s.signature.publicKey.content = pemB64(
        rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      );
    }),
    status: 400,
  },
  {
    name: 'dsse: envelope not JSON',
    path: '/api/v1/log/entries',
    body: {
      kind: 'dsse',
      apiVersion: '0.0.1',
      spec: { proposedContent: { envelope: '{', verifiers: [pemB64(ecPem)] } },
    },
    status: 400,
  },
  {
    name: 'dsse: server-side fields supplied',
    path: '/api/v1/log/entries',
    body: { kind: 'dsse', apiVersion: '0.0.1', spec: { signatures: [], proposedContent: {} } },
    status: 400,
  },
  {
    name: 'dsse: unsigned envelope',
    path: '/api/v1/log/entries',
    body: {
      kind: 'dsse',
      apiVersion: '0.0.1',
      spec: {
        proposedContent: {
          envelope: JSON.stringify({
            payload: 'aGk=',
            payloadType: 'text/plain',
            signatures: [{ sig: goodSig }],
          }),
          verifiers: [pemB64(ecPem)],
        },
      },
    },
    status: 400,
  },
  {
    name: 'entry: body over the limit',
    path: '/api/v1/log/entries',
    raw: Buffer.alloc(4 * 1024 * 1024 + 10, 0x20),
    status: 413,
  },
  {
    name: 'entry: text/plain',
    path: '/api/v1/log/entries',
    raw: '{}',
    contentType: 'text/plain',
    status: 415,
  },
  { name: 'entries: negative logIndex', method: 'GET', path: '/api/v1/log/entries?logIndex=-1', status: 400 },
  {
    name: 'entries: logIndex beyond the log',
    method: 'GET',
    path: '/api/v1/log/entries?logIndex=999999',
    status: 404,
  },
  { name: 'entries: malformed UUID', method: 'GET', path: '/api/v1/log/entries/zzz', status: 400 },
  {
    name: 'entries: unknown UUID',
    method: 'GET',
    path: `/api/v1/log/entries/${'0'.repeat(64)}`,
    status: 404,
  },
  {
    name: 'proof: first after last',
    method: 'GET',
    path: '/api/v1/log/proof?firstSize=5&lastSize=2',
    status: 400,
  },
  {
    name: 'proof: beyond the tree',
    method: 'GET',
    path: '/api/v1/log/proof?firstSize=1&lastSize=100000',
    status: 400,
  },
  { name: 'proof: not a number', method: 'GET', path: '/api/v1/log/proof?lastSize=1e3', status: 400 },
  { name: 'retrieve: md5', path: '/api/v1/index/retrieve', body: { hash: 'md5:abc' }, status: 400 },
  { name: 'retrieve: empty query', path: '/api/v1/index/retrieve', body: {}, status: 400 },
  {
    name: 'retrieve: operator',
    path: '/api/v1/index/retrieve',
    body: { hash: `sha256:${digest}`, operator: 'xor' },
    status: 400,
  },
  { name: 'ca: empty object', path: '/api/v2/signingCert', body: {}, status: 400 },
  {
    name: 'ca: token not a JWT',
    path: '/api/v2/signingCert',
    body: {
      credentials: { oidcIdentityToken: 'abc' },
      publicKeyRequest: { publicKey: { content: ecPem }, proofOfPossession: goodSig },
    },
    status: 401,
  },
  {
    name: 'ca: key not PEM',
    path: '/api/v2/signingCert',
    body: {
      credentials: { oidcIdentityToken: 'a.b.c' },
      publicKeyRequest: { publicKey: { content: 'xyz' }, proofOfPossession: goodSig },
    },
    status: 400,
  },
  {
    name: 'ca: RSA key',
    path: '/api/v2/signingCert',
    body: {
      credentials: { oidcIdentityToken: 'a.b.c' },
      publicKeyRequest: {
        publicKey: { content: rsa.publicKey.export({ format: 'pem', type: 'spki' }) },
        proofOfPossession: goodSig,
      },
    },
    status: 400,
  },
  {
    name: 'ca: proof not base64',
    path: '/api/v2/signingCert',
    body: {
      credentials: { oidcIdentityToken: 'a.b.c' },
      publicKeyRequest: { publicKey: { content: ecPem }, proofOfPossession: '%%%' },
    },
    status: 400,
  },
  { name: 'ca: CSR', path: '/api/v2/signingCert', body: { certificateSigningRequest: 'x' }, status: 400 },
  { name: 'oidc: sub of wrong type', path: '/oidc/token', body: { sub: 5 }, status: 400 },
  {
    name: 'oidc: reserved claim',
    path: '/oidc/token',
    body: { sub: 'a', claims: { iss: 'https://evil' } },
    status: 400,
  },
  {
    name: 'oidc: nested claim',
    path: '/oidc/token',
    body: { sub: 'a', claims: { x: { y: 1 } } },
    status: 400,
  },
  { name: 'attestations: bad encoding', method: 'GET', path: '/-/npm/v1/attestations/%E0%A4%A', status: 400 },
  { name: 'attestations: no version', method: 'GET', path: '/-/npm/v1/attestations/left-pad', status: 400 },
  {
    name: 'attestations: bad name',
    method: 'GET',
    path: '/-/npm/v1/attestations/..%2f..%2fkeys@1.0.0',
    status: 400,
  },
  {
    name: 'attestations: not a bundle',
    method: 'PUT',
    path: '/-/npm/v1/attestations/left-pad@1.0.0',
    body: { hello: 1 },
    status: 400,
  },
  {
    name: 'attestations: forged certificate bundle',
    method: 'PUT',
    path: '/-/npm/v1/attestations/left-pad@1.0.0',
    body: {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: {
        certificate: { rawBytes: Buffer.alloc(100, 0x30).toString('base64') },
        tlogEntries: [],
      },
      dsseEnvelope: {
        payload: 'e30=',
        payloadType: 'application/vnd.in-toto+json',
        signatures: [{ sig: goodSig, keyid: '' }],
      },
    },
    status: 400,
  },
  { name: 'method not allowed', method: 'DELETE', path: '/api/v1/log', status: 405 },
  { name: 'unknown path', method: 'GET', path: '/api/v1/nothing', status: 404 },
];

test('hostile requests are refused with 4xx JSON errors and the server keeps serving', async (t) => {
  const server = await startTestServer(t);
  for (const c of cases) {
    const method = c.method ?? 'POST';
    const body = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body));
    const res = await fetch(`${server.url}${c.path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': c.contentType ?? 'application/json' },
      ...(body === undefined || method === 'GET' ? {} : { body }),
    });
    const text = await res.text();
    assert.equal(res.status, c.status, `${c.name}: ${text}`);
    const error = JSON.parse(text) as { code: number; message: string };
    assert.equal(error.code, c.status, c.name);
    assert.ok(error.message.length > 0, c.name);
  }
  // Still serving, and still signing.
  assert.equal((await fetch(`${server.url}/api/v1/log`)).status, 200);
  assert.equal((await postJson(`${server.url}/api/v1/log/entries`, hashedrekord(validSpec))).status, 201);
  assert.ok(await devToken(server, { sub: 'still@example.com', email: 'still@example.com' }));
});
