// The unmodified sigstore client signs and attests against the server; @sigstore/verify, with
// nothing but the server's trusted_root.json and default thresholds, accepts every bundle and
// rejects each tampered or mis-issued variant for the right reason.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import * as sigstore from 'sigstore';
import { verifyConsistency } from '../../server/log/merkle';
import { devToken, entity, getJson, type Json, postJson, startTestServer, verifierFor } from './helpers';

const artifact = Buffer.from('tollgate interop artifact\n');

function statementFor(name: string, version: string, tarball: Buffer) {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [
        {
          name: `pkg:npm/${name.replace(/^@/, '%40')}@${version}`,
          digest: { sha512: createHash('sha512').update(tarball).digest('hex') },
        },
      ],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { buildDefinition: { buildType: 'https://tollgate.invalid/local' } },
    }),
  );
}

// Bundles are handled as plain JSON here so that tests can tamper with any field.
// biome-ignore lint/suspicious/noExplicitAny: test data of arbitrary shape
const clone = (value: unknown): any => JSON.parse(JSON.stringify(value));

function verificationCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? `uncoded: ${(err as Error).message}`;
  }
  return 'VERIFIED';
}

test('sigstore sign and attest against the server verify with its trusted root, and tampering fails', async (t) => {
  const server = await startTestServer(t);
  const token = await devToken(server, { sub: 'alice', email: 'alice@example.com' });
  const options = { fulcioURL: server.url, rekorURL: server.url, identityToken: token, tlogUpload: true };
  const signed = clone(await sigstore.sign(artifact, options));
  const tarball = Buffer.from('pretend tarball');
  const attested = clone(
    await sigstore.attest(
      statementFor('left-pad', '1.2.3', tarball),
      'application/vnd.in-toto+json',
      options,
    ),
  );
  const verifier = await verifierFor(server);

  const signer = verifier.verify(entity(signed, artifact), { subjectAlternativeName: 'alice@example.com' });
  assert.equal(signer.identity?.subjectAlternativeName, 'alice@example.com');
  assert.equal(signer.identity?.extensions?.issuer, `${server.url}/oidc`);
  const attester = verifier.verify(entity(attested), { subjectAlternativeName: 'alice@example.com' });
  assert.equal(attester.identity?.subjectAlternativeName, 'alice@example.com');
  assert.equal(attested.verificationMaterial.tlogEntries[0].kindVersion.kind, 'dsse');

  await t.test('wrong expected identity', () => {
    assert.equal(
      verificationCode(() =>
        verifier.verify(entity(signed, artifact), { subjectAlternativeName: 'mallory@example.com' }),
      ),
      'UNTRUSTED_SIGNER_ERROR',
    );
  });
  await t.test('tampered artifact', () => {
    assert.match(
      verificationCode(() => verifier.verify(entity(signed, Buffer.from('evil')))),
      /TLOG_BODY_ERROR|SIGNATURE_ERROR/,
    );
  });
  await t.test('tampered inclusion proof', () => {
    const bundle = clone(attested);
    const proof = bundle.verificationMaterial.tlogEntries[0].inclusionProof;
    proof.rootHash = Buffer.alloc(32, 7).toString('base64');
    proof.hashes = [Buffer.alloc(32, 9).toString('base64'), ...proof.hashes.slice(1)];
    if (proof.hashes.length === 0) proof.logIndex = '5';
    assert.equal(
      verificationCode(() => verifier.verify(entity(bundle))),
      'TLOG_INCLUSION_PROOF_ERROR',
    );
  });
  await t.test('tampered checkpoint', () => {
    const bundle = clone(signed);
    const checkpoint = bundle.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
    const lines = checkpoint.envelope.split('\n');
    lines[1] = String(Number(lines[1]) + 1);
    checkpoint.envelope = lines.join('\n');
    assert.equal(
      verificationCode(() => verifier.verify(entity(bundle, artifact))),
      'TLOG_INCLUSION_PROOF_ERROR',
    );
  });
  await t.test('tampered signed entry timestamp', () => {
    const bundle = clone(signed);
    bundle.verificationMaterial.tlogEntries[0].logIndex = '12345';
    assert.equal(
      verificationCode(() => verifier.verify(entity(bundle, artifact))),
      'TLOG_INCLUSION_PROOF_ERROR'.replace('PROOF', 'PROMISE'),
    );
  });
  await t.test('a bundle from another instance does not verify with this trusted root', async () => {
    const other = await startTestServer(t);
    const otherToken = await devToken(other, { sub: 'alice', email: 'alice@example.com' });
    const foreign = await sigstore.sign(artifact, {
      fulcioURL: other.url,
      rekorURL: other.url,
      identityToken: otherToken,
    });
    assert.equal(
      verificationCode(() => verifier.verify(entity(foreign, artifact))),
      'CERTIFICATE_ERROR',
    );
  });

  await t.test(
    'the log answers duplicates with 409 and the existing location, and finds entries',
    async () => {
      const entry = signed.verificationMaterial.tlogEntries[0];
      const body = JSON.parse(Buffer.from(entry.canonicalizedBody, 'base64').toString());
      const proposed = { apiVersion: '0.0.1', kind: 'hashedrekord', spec: body.spec };
      const dup = await postJson(`${server.url}/api/v1/log/entries`, proposed);
      assert.equal(dup.status, 409);
      const uuid = createHash('sha256')
        .update(Buffer.concat([Buffer.of(0), Buffer.from(entry.canonicalizedBody, 'base64')]))
        .digest('hex');
      assert.equal(dup.headers.get('location'), `/api/v1/log/entries/${uuid}`);
      const digest = createHash('sha256').update(artifact).digest('hex');
      assert.deepEqual(
        (await postJson(`${server.url}/api/v1/index/retrieve`, { hash: `sha256:${digest}` })).json,
        [uuid],
      );
      const sha512 = createHash('sha512').update(tarball).digest('hex');
      const bySubject = await postJson(`${server.url}/api/v1/index/retrieve`, { hash: `sha512:${sha512}` });
      assert.equal(bySubject.json.length, 1);
      const byEmail = await postJson(`${server.url}/api/v1/index/retrieve`, { email: 'Alice@Example.com' });
      assert.equal(byEmail.json.length, 2);
      const both = await postJson(`${server.url}/api/v1/index/retrieve`, {
        email: 'alice@example.com',
        hash: `sha512:${sha512}`,
        operator: 'and',
      });
      assert.deepEqual(both.json, bySubject.json);
      const fetched = await getJson(`${server.url}/api/v1/log/entries/${uuid}`);
      assert.equal(fetched[uuid].body, Buffer.from(entry.canonicalizedBody, 'base64').toString('base64'));
    },
  );

  await t.test('the log publishes consistent checkpoints', async () => {
    const info = await getJson(`${server.url}/api/v1/log`);
    assert.equal(info.treeSize, 2);
    const proof = await getJson(`${server.url}/api/v1/log/proof?firstSize=1&lastSize=2`);
    const first = await getJson(`${server.url}/api/v1/log/entries?logIndex=0`);
    const leaf = Object.values(first)[0] as { body: string };
    const oldRoot = createHash('sha256')
      .update(Buffer.concat([Buffer.of(0), Buffer.from(leaf.body, 'base64')]))
      .digest();
    const hashes = proof.hashes.map((h: string) => Buffer.from(h, 'hex'));
    assert.ok(verifyConsistency(1, 2, oldRoot, Buffer.from(info.rootHash, 'hex'), hashes));
    assert.equal(proof.rootHash, info.rootHash);
  });

  await t.test(
    'the attestation store keeps verified bundles for the version their subject names',
    async () => {
      const put = (spec: string, body: unknown) =>
        fetch(`${server.url}/-/npm/v1/attestations/${spec}`, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
      assert.equal((await fetch(`${server.url}/-/npm/v1/attestations/left-pad@1.2.3`)).status, 404);
      const wrongVersion = await put('left-pad@1.2.4', attested);
      assert.equal(wrongVersion.status, 400);
      assert.equal(((await wrongVersion.json()) as { reason: string }).reason, 'SUBJECT_MISMATCH');
      const notAnAttestation = await put('left-pad@1.2.3', signed);
      assert.equal(((await notAnAttestation.json()) as { reason: string }).reason, 'INVALID_BUNDLE');
      const tampered = clone(attested);
      tampered.dsseEnvelope.signatures[0].sig = Buffer.alloc(70, 1).toString('base64');
      assert.equal(
        ((await (await put('left-pad@1.2.3', tampered)).json()) as { reason: string }).reason,
        'INVALID_BUNDLE',
      );
      assert.equal((await put('left-pad@1.2.3', { bundle: attested })).status, 201);
      assert.equal(
        (await put('left-pad@1.2.3', attested)).status,
        200,
        'the same bundle again is accepted idempotently',
      );
      const listed = await getJson(`${server.url}/-/npm/v1/attestations/left-pad@1.2.3`);
      assert.equal(listed.attestations.length, 1);
      assert.equal(listed.attestations[0].predicateType, 'https://slsa.dev/provenance/v1');
      assert.deepEqual(listed.attestations[0].bundle, attested);
      assert.equal(
        verificationCode(() => verifier.verify(entity(listed.attestations[0].bundle))),
        'VERIFIED',
      );

      const scoped = clone(
        await sigstore.attest(
          statementFor('@acme/util', '0.1.0', tarball),
          'application/vnd.in-toto+json',
          options,
        ),
      );
      assert.equal((await put('@acme%2futil@0.1.0', scoped)).status, 201);
      const got = await fetch(`${server.url}/-/npm/v1/attestations/@acme%2Futil@0.1.0`);
      assert.equal(((await got.json()) as { attestations: unknown[] }).attestations.length, 1);
    },
  );
});

test('GitHub-Actions-like claims become the workflow SAN and Fulcio extensions', async (t) => {
  const server = await startTestServer(t);
  const claims = {
    job_workflow_ref: 'acme/widget/.github/workflows/release.yml@refs/heads/main',
    repository: 'acme/widget',
    repository_id: '1234',
    repository_owner: 'acme',
    repository_owner_id: '99',
    workflow_ref: 'acme/widget/.github/workflows/release.yml@refs/heads/main',
    event_name: 'push',
    runner_environment: 'github-hosted',
    sha: 'a'.repeat(40),
    ref: 'refs/heads/main',
  };
  const token = await devToken(server, { sub: 'repo:acme/widget:ref:refs/heads/main', claims });
  const bundle = await sigstore.sign(artifact, {
    fulcioURL: server.url,
    rekorURL: server.url,
    identityToken: token,
  });
  const signer = (await verifierFor(server)).verify(entity(bundle, artifact));
  assert.equal(signer.identity?.subjectAlternativeName, `https://github.com/${claims.job_workflow_ref}`);
  const oids = new Map(
    (signer.identity?.extensions ? (signer.identity as Json).oids : []).map(
      (o: { oid: { id: number[] }; value: Buffer }) => [o.oid.id.join('.'), o.value],
    ),
  );
  // .1.1 is Fulcio's raw-bytes issuer; .1.8 and later are DER UTF8Strings (tag 0x0c, short length).
  const raw = (oid: string) => oids.get(oid) as Buffer | undefined;
  const utf8 = (oid: string) => {
    const value = raw(oid);
    assert.ok(value, `extension ${oid} is present`);
    assert.equal(value[0], 0x0c, `extension ${oid} is a UTF8String`);
    assert.equal(value[1], value.length - 2);
    return value.subarray(2).toString('utf8');
  };
  assert.equal(raw('1.3.6.1.4.1.57264.1.1')?.toString('utf8'), `${server.url}/oidc`);
  assert.equal(utf8('1.3.6.1.4.1.57264.1.8'), `${server.url}/oidc`);
  assert.equal(utf8('1.3.6.1.4.1.57264.1.9'), `https://github.com/${claims.job_workflow_ref}`);
  assert.equal(utf8('1.3.6.1.4.1.57264.1.15'), '1234');
  assert.equal(utf8('1.3.6.1.4.1.57264.1.17'), '99');
  assert.equal(utf8('1.3.6.1.4.1.57264.1.20'), 'push');
  assert.equal(utf8('1.3.6.1.4.1.57264.1.11'), 'github-hosted');
  assert.equal(utf8('1.3.6.1.4.1.57264.1.12'), 'https://github.com/acme/widget');
});

test('the CA refuses untrusted issuers, expired tokens and a bad proof of possession', async (t) => {
  const idp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...(await exportJWK(idp.publicKey)), kid: 'k1', alg: 'ES256' };
  const issuerUrl = 'https://idp.tollgate.invalid';
  const server = await startTestServer(t, { trustedIssuers: [{ issuerUrl, jwks: { keys: [jwk] } }] });
  const mint = (iss: string, expiresAt: number, email = 'bob@example.com') =>
    new SignJWT({ email, email_verified: true })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(iss)
      .setSubject('bob')
      .setAudience('sigstore')
      .setIssuedAt(expiresAt - 600)
      .setExpirationTime(expiresAt)
      .sign(idp.privateKey);
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const request = (token: string, challengeKey = key.privateKey) => ({
    credentials: { oidcIdentityToken: token },
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: key.publicKey.export({ format: 'pem', type: 'spki' }) },
      proofOfPossession: sign('sha256', Buffer.from('bob@example.com'), challengeKey).toString('base64'),
    },
  });
  const now = Math.floor(Date.now() / 1000);
  const ca = `${server.url}/api/v2/signingCert`;

  const ok = await postJson(ca, request(await mint(issuerUrl, now + 300)));
  assert.equal(ok.status, 201, JSON.stringify(ok.json));
  assert.equal(ok.json.signedCertificateEmbeddedSct.chain.certificates.length, 3);

  const untrusted = await postJson(ca, request(await mint('https://evil.tollgate.invalid', now + 300)));
  assert.equal(untrusted.status, 401);
  assert.equal(untrusted.json.reason, 'UNTRUSTED_ISSUER');

  const expired = await postJson(ca, request(await mint(issuerUrl, now - 60)));
  assert.equal(expired.status, 401);
  assert.match(expired.json.message, /expired/);

  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const badPossession = await postJson(ca, request(await mint(issuerUrl, now + 300), otherKey));
  assert.equal(badPossession.status, 400);
  assert.equal(badPossession.json.reason, 'INVALID_PROOF_OF_POSSESSION');

  const forgedSignature = (await mint(issuerUrl, now + 300)).replace(
    /\.[^.]+$/,
    `.${Buffer.alloc(64, 1).toString('base64url')}`,
  );
  const forged = await postJson(ca, request(forgedSignature));
  assert.equal(forged.status, 401);
  assert.equal(forged.json.reason, 'INVALID_TOKEN');

  await assert.rejects(
    sigstore.sign(artifact, {
      fulcioURL: server.url,
      rekorURL: server.url,
      identityToken: await mint(issuerUrl, now - 60),
    }),
    /expired/,
  );
});
