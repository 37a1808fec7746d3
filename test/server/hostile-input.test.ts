// Input that once reached an internal error or was accepted although malformed: certificates with
// a malformed SAN or an extension without OID, request targets the URL parser rejects, package
// names and versions longer than a file name, deeply nested or sprawling JSON, base64 that is not
// strict base64, and clients that abort mid-request. Each is a 4xx with a reason, or a one-line
// "client aborted" in the log, and never an internal error.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, webcrypto } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import * as asn1js from 'asn1js';
import { x509 } from '../../server/x509';
import {
  attestPackage,
  type Json,
  postJson,
  putAttestation,
  rawRequest,
  spawnCli,
  startTestServer,
  tempDir,
  waitFor,
} from './helpers';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const data = Buffer.from('hostile input');
const digest = createHash('sha256').update(data).digest('hex');
const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

/** A self-signed certificate with the given extensions, its private key and a signature over `data`. */
async function certificateWith(extensions: x509.Extension[]) {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=hostile',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 600_000),
    signingAlgorithm: ALG,
    keys,
    extensions,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const signature = sign('sha256', data, { key: pkcs8, format: 'der', type: 'pkcs8' });
  return { der: Buffer.from(cert.rawData), signature };
}

/** The certificate's DER with the OID of its extension `oid` removed (re-encoded with asn1js). */
function withoutExtensionOid(der: Buffer, oid: string): Buffer {
  const cert = asn1js.fromBER(der).result as asn1js.Sequence;
  const tbs = cert.valueBlock.value[0] as asn1js.Sequence;
  const wrapper = tbs.valueBlock.value[tbs.valueBlock.value.length - 1] as asn1js.Constructed;
  const extensions = (wrapper.valueBlock.value[0] as asn1js.Sequence).valueBlock.value as asn1js.Sequence[];
  const target = extensions.find(
    (ext) => (ext.valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString() === oid,
  );
  target!.valueBlock.value.shift();
  return Buffer.from(cert.toBER(false));
}

const pem = (der: Buffer, label = 'CERTIFICATE') =>
  `-----BEGIN ${label}-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END ${label}-----\n`;

function hashedrekord(keyContent: string, signature: Buffer) {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: digest } },
      signature: { content: signature.toString('base64'), publicKey: { content: keyContent } },
    },
  };
}

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ecSpki = ec.publicKey.export({ format: 'der', type: 'spki' });
const ecSig = sign('sha256', data, ec.privateKey);
const ecPemB64 = b64(pem(ecSpki, 'PUBLIC KEY'));

interface Case {
  name: string;
  path?: string;
  body: string;
  status: number;
  reason: string;
}

async function entryCases(): Promise<Case[]> {
  const malformedSan = await certificateWith([
    // A SAN whose GeneralNames claim more bytes than there are.
    new x509.Extension('2.5.29.17', true, new Uint8Array([0x30, 0x05, 0x81, 0x10, 0x61])),
  ]);
  const noOid = await certificateWith([new x509.Extension('1.2.3.4', false, new Uint8Array([5, 0]))]);
  const entry = (keyContent: string, signature = ecSig) =>
    JSON.stringify(hashedrekord(keyContent, signature));
  const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  return [
    {
      name: 'certificate with a malformed subjectAltName',
      body: entry(b64(pem(malformedSan.der)), malformedSan.signature),
      status: 400,
      reason: 'INVALID_ENTRY',
    },
    {
      name: 'certificate with an extension without OID',
      body: entry(b64(pem(withoutExtensionOid(noOid.der, '1.2.3.4'))), noOid.signature),
      status: 400,
      reason: 'INVALID_ENTRY',
    },
    {
      name: 'key content with a line break inside the base64',
      body: entry(`${ecPemB64.slice(0, 20)}\n${ecPemB64.slice(20)}`),
      status: 400,
      reason: 'INVALID_ENTRY',
    },
    {
      name: 'key content without its padding',
      body: entry(ecPemB64.replace(/=+$/, '')),
      status: 400,
      reason: 'INVALID_ENTRY',
    },
    {
      name: 'key content in base64url',
      body: entry(Buffer.from(pem(ecSpki, 'PUBLIC KEY')).toString('base64url')),
      status: 400,
      reason: 'INVALID_ENTRY',
    },
    {
      name: 'key content with junk after the base64',
      body: entry(`${ecPemB64}!!`),
      status: 400,
      reason: 'INVALID_ENTRY',
    },
    {
      name: 'PEM with text around the block',
      body: entry(b64(`note: my key\n${pem(ecSpki, 'PUBLIC KEY')}`)),
      status: 400,
      reason: 'INVALID_ENTRY',
    },
    {
      name: 'PEM whose inner base64 is not strict',
      body: entry(b64(pem(ecSpki, 'PUBLIC KEY').replace(/\n-----END/, '*\n-----END'))),
      status: 400,
      reason: 'INVALID_ENTRY',
    },
    {
      name: 'public key with bytes after the SubjectPublicKeyInfo',
      body: entry(b64(pem(Buffer.concat([ecSpki, Buffer.from([0, 0])]), 'PUBLIC KEY'))),
      status: 400,
      reason: 'INVALID_ENTRY',
    },
    {
      name: 'entry nested 100,000 levels deep',
      body: `{"kind":"hashedrekord","apiVersion":"0.0.1","spec":${deep(100_000)}}`,
      status: 400,
      reason: 'JSON_TOO_DEEP',
    },
    {
      name: 'dsse envelope nested 10,000 levels deep',
      body: JSON.stringify({
        kind: 'dsse',
        apiVersion: '0.0.1',
        spec: { proposedContent: { envelope: `{"payload":${deep(10_000)}}`, verifiers: [ecPemB64] } },
      }),
      status: 400,
      reason: 'JSON_TOO_DEEP',
    },
    {
      name: 'entry with a million values',
      body: `{"kind":"hashedrekord","apiVersion":"0.0.1","pad":[${'0,'.repeat(1_000_000)}0]}`,
      status: 400,
      reason: 'JSON_TOO_COMPLEX',
    },
  ].map((c) => ({ path: '/api/v1/log/entries', ...c }));
}

async function post(url: string, c: Case) {
  return postJson(`${url}${c.path}`, c.body);
}

test('hostile log entries and JSON shapes are 4xx with a reason', async (t) => {
  const messages: string[] = [];
  const server = await startTestServer(t, { log: (m) => messages.push(m) });
  for (const c of await entryCases()) {
    const res = await post(server.url, c);
    assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(res.json).slice(0, 300)}`);
    assert.equal(res.json.reason, c.reason, c.name);
  }
  // The same key, in strict form, is accepted: the refusals above are about the encoding.
  assert.equal(
    (await postJson(`${server.url}/api/v1/log/entries`, hashedrekord(ecPemB64, ecSig))).status,
    201,
  );
  assert.deepEqual(
    messages.filter((m) => /internal error/.test(m)),
    [],
  );
});

test('request targets the URL parser rejects are 400, not an internal error', async (t) => {
  const messages: string[] = [];
  const server = await startTestServer(t, { log: (m) => messages.push(m) });
  const host = new URL(server.url).host;
  for (const target of [
    'http://[/',
    '//[',
    '//evil.example/api/v1/log',
    '*',
    'http://127.0.0.1/api/v1/log',
  ]) {
    const res = await rawRequest(
      server.url,
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(res.status, 400, `${target}: ${res.body}`);
    assert.equal(JSON.parse(res.body).reason, 'BAD_REQUEST_TARGET', target);
  }
  assert.deepEqual(messages, []);
});

test('package names and versions longer than a file name are stored and served', async (t) => {
  const server = await startTestServer(t);
  const name = `a${'b'.repeat(213)}`;
  const version = `1.0.0-${'x'.repeat(240)}`;
  assert.equal((await fetch(`${server.url}/-/npm/v1/attestations/${name}@${version}`)).status, 404);
  const tooLong = await fetch(`${server.url}/-/npm/v1/attestations/${name}@1.0.0-${'x'.repeat(300)}`);
  assert.equal(tooLong.status, 400);
  const bundle = await attestPackage(server, name, version);
  const put = await putAttestation(server, `${name}@${version}`, bundle);
  assert.equal(put.status, 201, JSON.stringify(put.json));
  const listed = (await (
    await fetch(`${server.url}/-/npm/v1/attestations/${name}@${version}`)
  ).json()) as Json;
  assert.deepEqual(listed.attestations[0].bundle, bundle);
});

test('legacy upper-case names are stored apart from their lower-case namesakes; scopes stay lower case', async (t) => {
  const server = await startTestServer(t);
  const legacy = await attestPackage(server, 'JSONStream', '1.3.5');
  assert.equal((await putAttestation(server, 'JSONStream@1.3.5', legacy)).status, 201);
  assert.equal((await fetch(`${server.url}/-/npm/v1/attestations/jsonstream@1.3.5`)).status, 404);
  const listed = (await (await fetch(`${server.url}/-/npm/v1/attestations/JSONStream@1.3.5`)).json()) as Json;
  assert.deepEqual(listed.attestations[0].bundle, legacy);
  assert.equal((await fetch(`${server.url}/-/npm/v1/attestations/@Acme%2Fui@1.0.0`)).status, 400);
});

test('bundles with deep nesting or loose base64 are refused before verification', async (t) => {
  const server = await startTestServer(t);
  const bundle = await attestPackage(server, 'left-pad', '1.0.0');
  const nested = `${JSON.stringify(bundle).slice(0, -1)},"extra":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
  const res = await putAttestation(server, 'left-pad@1.0.0', nested);
  assert.equal(res.status, 400);
  assert.equal(res.json.reason, 'JSON_TOO_DEEP');

  const loose = (patch: (b: Json) => void) => {
    const copy = JSON.parse(JSON.stringify(bundle));
    patch(copy);
    return copy;
  };
  const cases: [string, Json][] = [
    [
      'certificate with a space',
      loose((b) => {
        const raw = b.verificationMaterial.certificate.rawBytes as string;
        b.verificationMaterial.certificate.rawBytes = `${raw.slice(0, 8)} ${raw.slice(8)}`;
      }),
    ],
    [
      'signature with a trailing newline',
      loose((b) => {
        b.dsseEnvelope.signatures[0].sig = `${b.dsseEnvelope.signatures[0].sig}\n`;
      }),
    ],
    [
      'canonicalized body with a base64url character',
      loose((b) => {
        const entry = b.verificationMaterial.tlogEntries[0];
        entry.canonicalizedBody = `-${(entry.canonicalizedBody as string).slice(1)}`;
      }),
    ],
  ];
  for (const [name, candidate] of cases) {
    const refused = await putAttestation(server, 'left-pad@1.0.0', candidate);
    assert.equal(refused.status, 400, `${name}: ${JSON.stringify(refused.json).slice(0, 300)}`);
    assert.equal(refused.json.reason, 'INVALID_BUNDLE', name);
    assert.match(refused.json.message, /standard base64/, name);
  }
  // Verification work is bounded: a bundle may not ask for a hundred tlog entries to be checked.
  const many = loose((b) => {
    b.verificationMaterial.tlogEntries = Array.from(
      { length: 100 },
      () => b.verificationMaterial.tlogEntries[0],
    );
  });
  const bounded = await putAttestation(server, 'left-pad@1.0.0', many);
  assert.equal(bounded.status, 400);
  assert.match(bounded.json.message, /tlogEntries" has 100 items; at most 8/);
  assert.equal((await putAttestation(server, 'left-pad@1.0.0', bundle)).status, 201);
});

/** Sends the headers and part of a body, then closes the connection. */
async function abortMidBody(url: string): Promise<void> {
  const { hostname, port, host } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  await once(socket, 'connect');
  socket.write(
    `POST /api/v1/log/entries HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"kind":`,
  );
  socket.destroy();
  await once(socket, 'close');
}

test('a client that aborts mid-request is logged as an abort, not an internal error', async (t) => {
  const messages: string[] = [];
  let aborted: () => void;
  const seen = new Promise<void>((resolve) => {
    aborted = resolve;
  });
  const server = await startTestServer(t, {
    log: (m) => {
      messages.push(m);
      if (/client aborted/.test(m)) aborted();
    },
  });
  await abortMidBody(server.url);
  await seen;
  assert.equal(messages.length, 1, messages.join('\n'));
  assert.match(
    messages[0]!,
    /^client aborted POST "\/api\/v1\/log\/entries" before its request was complete$/,
  );
  assert.equal((await fetch(`${server.url}/api/v1/log`)).status, 200);
});

test('the executable: hostile targets, entries and aborts leave only 4xx answers and one-line logs', async (t) => {
  const server = await spawnCli(t, ['--data', tempDir(t), '--port', '0']);
  const { url } = server.ready;
  const host = new URL(url).host;
  const target = await rawRequest(
    url,
    `GET http://[/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
  );
  assert.equal(target.status, 400);
  for (const c of await entryCases()) {
    const res = await post(url, c);
    assert.equal(res.status, c.status, c.name);
  }
  await abortMidBody(url);
  await waitFor(() => /client aborted/.test(server.stderr()), 'the abort in the log');
  assert.equal((await fetch(`${url}/api/v1/log`)).status, 200);
  server.child.kill('SIGTERM');
  assert.deepEqual(await server.exit, { code: 0, signal: null });
  assert.doesNotMatch(server.stderr(), /internal error|\n\s+at /);
});
