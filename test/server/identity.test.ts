// The certificate names exactly the identity the token proved: identities an IA5String SAN cannot
// carry are refused (non-ASCII email or URI; IDNs only as valid punycode), every issued
// certificate is parsed back and compared with the token, and GitHub-Actions-style claims become
// extensions only for issuers that define them.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as asn1js from 'asn1js';
import { exportJWK, SignJWT } from 'jose';
import * as sigstore from 'sigstore';
import { OID } from '../../server/ca/extensions';
import { assertCertificateCarries } from '../../server/ca/issued-identity';
import { domainProblem, emailProblem, uriProblem } from '../../server/ca/representable';
import { ConfigError } from '../../server/errors';
import { identityFromClaims, type TokenIdentity } from '../../server/oidc/claims';
import { loadTrustedIssuer } from '../../server/oidc/trusted-issuers';
import { x509 } from '../../server/x509';
import { devToken, entity, type Json, postJson, runCli, spawnCli, tempDir, verifierFor } from './helpers';

const artifact = Buffer.from('identity test artifact\n');

test('which emails, URIs and domains a certificate can carry exactly', () => {
  for (const ok of [
    'alice@example.com',
    'Alice.O+tag@Sub.Example.COM',
    'alice@xn--bcher-kva.example',
    'a@localhost',
  ]) {
    assert.equal(emailProblem(ok), undefined, ok);
  }
  const refused: [string, RegExp][] = [
    ['šlice@example.com', /non-ASCII local part/],
    ['alice@bücher.example', /punycode \(its punycode form is xn--bcher-kva\.example\)/],
    ['alice@xn--zz.example', /not valid punycode/],
    ['alice@xn--bcher-kva-.example', /label "xn--bcher-kva-"/], // would decode to ASCII only
    ['alice@-bad.example', /letters, digits and inner hyphens/],
    ['alice@a..example', /letters, digits/],
    ['"alice smith"@example.com', /dot-atom/],
    ['alice\u0000@example.com', /dot-atom/],
    ['alice@', /not an email/],
  ];
  for (const [email, why] of refused) assert.match(emailProblem(email) ?? 'accepted', why, email);

  for (const ok of [
    'https://github.com/acme/widget/.github/workflows/release.yml@refs/heads/main',
    'spiffe://acme.example/ns/ci',
    'repo:acme/widget:ref:refs/heads/main',
    'https://xn--bcher-kva.example/x',
    'https://127.0.0.1:8080/oidc',
  ]) {
    assert.equal(uriProblem(ok), undefined, ok);
  }
  assert.match(uriProblem('https://bücher.example/x') ?? '', /its punycode form is xn--bcher-kva\.example/);
  assert.match(uriProblem('https://github.com/acme/wïdget') ?? '', /not printable ASCII/);
  assert.match(uriProblem('https://exa mple.com') ?? '', /not printable ASCII/);
  assert.match(uriProblem('https://xn--zz.example/') ?? '', /not valid punycode/);
  assert.match(uriProblem('not a uri') ?? '', /ASCII|URI/);
  assert.equal(domainProblem('xn--ls8h.la'), undefined);
});

test('identityFromClaims refuses what the certificate cannot carry and maps CI claims only when asked', () => {
  const base = { sub: 'x', email_verified: true };
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'accepted';
    } catch (err) {
      return (err as { reason?: string }).reason;
    }
  };
  assert.equal(
    code(() => identityFromClaims('https://i', { ...base, email: 'šlice@example.com' }, { ciClaims: false })),
    'IDENTITY_NOT_REPRESENTABLE',
  );
  assert.equal(
    identityFromClaims('https://i', { ...base, email: 'alice@xn--bcher-kva.example' }, { ciClaims: false })
      .san.value,
    'alice@xn--bcher-kva.example',
  );
  const workflow = {
    sub: 'repo:acme/widget:ref:refs/heads/main',
    job_workflow_ref: 'acme/widget/.github/workflows/release.yml@refs/heads/main',
    repository: 'acme/widget',
  };
  const ci = identityFromClaims('https://ci', workflow, { ciClaims: true });
  assert.equal(ci.san.value, `https://github.com/${workflow.job_workflow_ref}`);
  assert.equal(ci.ciClaims?.['repository'], 'acme/widget');
  // From an issuer that does not define job_workflow_ref, the subject is the identity.
  const plain = identityFromClaims('https://idp', workflow, { ciClaims: false });
  assert.deepEqual(plain.san, { type: 'uri', value: workflow.sub });
  assert.equal(plain.ciClaims, null);
  assert.equal(
    code(() =>
      identityFromClaims(
        'https://ci',
        { ...workflow, job_workflow_ref: 'acme/wïdget/.github/workflows/r.yml@refs/heads/main' },
        { ciClaims: true },
      ),
    ),
    'IDENTITY_NOT_REPRESENTABLE',
  );
  assert.equal(
    code(() =>
      identityFromClaims('https://ci', { ...workflow, repository: 'acme/\ud800' }, { ciClaims: true }),
    ),
    'IDENTITY_NOT_REPRESENTABLE',
  );
  assert.equal(
    code(() => identityFromClaims('https://idp', { sub: 'alice' }, { ciClaims: false })),
    'INVALID_TOKEN',
  );
  assert.equal(
    code(() =>
      identityFromClaims('https://idp', { sub: 'https://bücher.example/alice' }, { ciClaims: false }),
    ),
    'IDENTITY_NOT_REPRESENTABLE',
  );
});

test('a certificate is compared with the token before it is returned', async () => {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const issuer = 'https://issuer.example';
  const utf8 = (oid: string, value: string) =>
    new x509.Extension(oid, false, new asn1js.Utf8String({ value }).toBER(false));
  const certificate = async (email: string, extra: x509.Extension[] = []) =>
    Buffer.from(
      (
        await x509.X509CertificateGenerator.createSelfSigned({
          serialNumber: '01',
          name: 'CN=x',
          notBefore: new Date(),
          notAfter: new Date(Date.now() + 60_000),
          signingAlgorithm: alg,
          keys,
          extensions: [
            // What the IA5String encoder makes of a non-ASCII email.
            new x509.SubjectAlternativeNameExtension([{ type: 'email', value: email }], true),
            new x509.Extension(OID.issuerV1, false, new Uint8Array(Buffer.from(issuer))),
            utf8(OID.issuerV2, issuer),
            ...extra,
          ],
        })
      ).rawData,
    );
  const identity = (email: string, ciClaims: Record<string, unknown> | null = null): TokenIdentity => ({
    issuer,
    challenge: email,
    san: { type: 'email', value: email },
    ciClaims,
  });
  const reason = (fn: () => void) => {
    try {
      fn();
      return 'carried';
    } catch (err) {
      return `${(err as { reason?: string }).reason}: ${(err as Error).message}`;
    }
  };
  const alice = await certificate('alice@example.com');
  const slice = await certificate('šlice@example.com');
  assert.equal(
    reason(() => assertCertificateCarries(alice, identity('alice@example.com'))),
    'carried',
  );
  // The encoder writes "šlice" as "alice": the comparison catches it.
  assert.match(
    reason(() => assertCertificateCarries(slice, identity('šlice@example.com'))),
    /^IDENTITY_NOT_REPRESENTABLE: .*"alice@example\.com" instead of "šlice@example\.com"/,
  );
  assert.match(
    reason(() => assertCertificateCarries(alice, identity('bob@example.com'))),
    /IDENTITY_NOT_REPRESENTABLE/,
  );
  // An extension the token does not justify, a missing one, or one with another value.
  const withRepo = await certificate('alice@example.com', [
    utf8(OID.sourceRepositoryURI, 'https://github.com/acme/w'),
  ]);
  assert.match(
    reason(() => assertCertificateCarries(withRepo, identity('alice@example.com'))),
    /unexpected extension/,
  );
  const ciIdentity = identity('alice@example.com', { repository: 'acme/w' });
  assert.equal(
    reason(() => assertCertificateCarries(withRepo, ciIdentity)),
    'carried',
  );
  assert.match(
    reason(() => assertCertificateCarries(withRepo, identity('alice@example.com', { repository: 'acme/x' }))),
    /carries "https:\/\/github\.com\/acme\/w" instead of "https:\/\/github\.com\/acme\/x"/,
  );
  assert.match(
    reason(() =>
      assertCertificateCarries(
        withRepo,
        identity('alice@example.com', { repository: 'acme/w', ref: 'refs/heads/main' }),
      ),
    ),
    /is missing/,
  );
});

test('configured issuer URLs must be certifiable exactly', (t) => {
  const dir = tempDir(t);
  const jwks = join(dir, 'jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }] }));
  assert.throws(
    () => loadTrustedIssuer(`https://bücher.example=${jwks}`),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /--trust-issuer: .*xn--bcher-kva\.example/);
      return true;
    },
  );
  assert.throws(
    () => loadTrustedIssuer(`ftp://idp.example=${jwks}`, { ciClaims: true }),
    /--trust-issuer-with-ci-claims: .*http\(s\)/,
  );
  assert.equal(loadTrustedIssuer(`https://idp.example=${jwks}`).ciClaims, false);
  assert.equal(loadTrustedIssuer(`https://idp.example=${jwks}`, { ciClaims: true }).ciClaims, true);
  assert.equal(loadTrustedIssuer(`https://token.actions.githubusercontent.com=${jwks}`).ciClaims, true);
});

/** A Fulcio v2 request for `token` with a proof of possession over `challenge`. */
function signingCertRequest(token: string, challenge: string) {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    credentials: { oidcIdentityToken: token },
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: key.publicKey.export({ format: 'pem', type: 'spki' }) },
      proofOfPossession: sign('sha256', Buffer.from(challenge), key.privateKey).toString('base64'),
    },
  };
}

test('the executable refuses identities it cannot certify exactly, and certifies punycode exactly', async (t) => {
  const server = await spawnCli(t, ['--data', tempDir(t), '--port', '0']);
  const { url } = server.ready;
  const ca = `${url}/api/v2/signingCert`;
  const slice = await devToken({ url }, { sub: 'šlice@example.com', email: 'šlice@example.com' });
  const refused = await postJson(ca, signingCertRequest(slice, 'šlice@example.com'));
  assert.equal(refused.status, 400, JSON.stringify(refused.json));
  assert.equal(refused.json.reason, 'IDENTITY_NOT_REPRESENTABLE');
  assert.match(refused.json.message, /"email" claim .*non-ASCII local part/);
  await assert.rejects(
    sigstore.sign(artifact, { fulcioURL: url, rekorURL: url, identityToken: slice }),
    /non-ASCII/,
  );

  const idn = await devToken({ url }, { sub: 'x', email: 'alice@bücher.example' });
  const idnRefused = await postJson(ca, signingCertRequest(idn, 'alice@bücher.example'));
  assert.match(idnRefused.json.message, /xn--bcher-kva\.example/);

  const email = 'alice@xn--bcher-kva.example';
  const bundle = await sigstore.sign(artifact, {
    fulcioURL: url,
    rekorURL: url,
    identityToken: await devToken({ url }, { sub: email, email }),
  });
  const signer = (await verifierFor({ trustedRootUrl: server.ready.trustedRoot })).verify(
    entity(bundle, artifact),
  );
  assert.equal(signer.identity?.subjectAlternativeName, email);

  const workflow = await devToken(
    { url },
    {
      sub: 'repo:acme/w',
      claims: { job_workflow_ref: 'acme/wïdget/.github/workflows/r.yml@refs/heads/main' },
    },
  );
  const workflowRefused = await postJson(ca, signingCertRequest(workflow, 'repo:acme/w'));
  assert.equal(workflowRefused.json.reason, 'IDENTITY_NOT_REPRESENTABLE');
  assert.match(workflowRefused.json.message, /"job_workflow_ref"/);
  server.child.kill('SIGTERM');
  assert.deepEqual(await server.exit, { code: 0, signal: null });
});

test('CI claims become extensions only for issuers configured as defining them', async (t) => {
  const dir = tempDir(t);
  const idp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(
    jwksFile,
    JSON.stringify({ keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'k1', alg: 'ES256' }] }),
  );
  const companyIdp = 'https://idp.tollgate.invalid';
  const companyCi = 'https://ci.tollgate.invalid';
  const server = await spawnCli(t, [
    '--data',
    join(dir, 'data'),
    '--port',
    '0',
    '--trust-issuer',
    `${companyIdp}=${jwksFile}`,
    '--trust-issuer-with-ci-claims',
    `${companyCi}=${jwksFile}`,
  ]);
  const { url } = server.ready;
  const claims = {
    job_workflow_ref: 'acme/widget/.github/workflows/release.yml@refs/heads/main',
    repository: 'acme/widget',
    repository_id: '1234',
    repository_owner: 'acme',
    event_name: 'push',
    ref: 'refs/heads/main',
  };
  const mint = (iss: string, payload: Record<string, unknown>, sub: string) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(iss)
      .setSubject(sub)
      .setAudience('sigstore')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(idp.privateKey);
  const verifier = await verifierFor({ trustedRootUrl: server.ready.trustedRoot });
  const signedBy = async (token: string) => {
    const bundle = await sigstore.sign(artifact, { fulcioURL: url, rekorURL: url, identityToken: token });
    const identity = verifier.verify(entity(bundle, artifact)).identity as Json;
    const oids = (identity.oids as { oid: { id: number[] } }[]).map((o) => o.oid.id.join('.'));
    return { san: identity.subjectAlternativeName as string, oids };
  };
  const fulcio = (n: number) => `1.3.6.1.4.1.57264.1.${n}`;

  // A company IdP whose users can set claims named like GitHub's: they are not certified.
  const plain = await signedBy(
    await mint(companyIdp, { ...claims, email: 'bob@acme.example', email_verified: true }, 'bob'),
  );
  assert.equal(plain.san, 'bob@acme.example');
  assert.deepEqual(plain.oids.filter((o) => o.startsWith('1.3.6.1.4.1.57264.')).sort(), [
    fulcio(1),
    fulcio(8),
  ]);
  const uriSubject = await signedBy(await mint(companyIdp, claims, 'spiffe://acme.example/bob'));
  assert.equal(uriSubject.san, 'spiffe://acme.example/bob', 'job_workflow_ref does not become the SAN');

  // The issuer marked as defining them, and the dev issuer (which mints GitHub-shaped tokens).
  for (const token of [
    await mint(companyCi, claims, 'repo:acme/widget:ref:refs/heads/main'),
    await devToken({ url }, { sub: 'repo:acme/widget:ref:refs/heads/main', claims }),
  ]) {
    const ci = await signedBy(token);
    assert.equal(ci.san, `https://github.com/${claims.job_workflow_ref}`);
    for (const n of [9, 12, 14, 15, 16, 20]) assert.ok(ci.oids.includes(fulcio(n)), `extension .1.${n}`);
  }
  server.child.kill('SIGTERM');
  assert.deepEqual(await server.exit, { code: 0, signal: null });

  const refused = await runCli([
    '--data',
    join(dir, 'data2'),
    '--trust-issuer',
    `https://bücher.example=${jwksFile}`,
  ]);
  assert.equal(refused.code, 2);
  assert.match(
    refused.stderr,
    /--trust-issuer: the issuer URL cannot be certified exactly: .*xn--bcher-kva\.example/,
  );
});
