// tollgate-server's RFC 3161 timestamp authority: unmodified sigstore-js asks it for a timestamp
// while signing; @sigstore/verify and Tollgate accept the bundle with the TSA chain from the trusted
// root, Tollgate reports the TSA's genTime as a signed time and the release-age gate uses it; forged,
// altered and foreign timestamps fail.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { RFC3161Timestamp } from '@sigstore/core';
import * as sigstore from 'sigstore';
import { loadTrustRoots, verifyBundle } from '../../policy/evidence';
import { checkReleaseAge } from '../../policy/release-age';
import { devToken, entity, postJson, startTestServer, verifierFor } from './helpers';

const artifact = Buffer.from('tollgate tsa artifact\n');
// biome-ignore lint/suspicious/noExplicitAny: bundles are edited as plain JSON
const clone = (value: unknown): any => JSON.parse(JSON.stringify(value));

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? `uncoded: ${(err as Error).message}`;
  }
  return 'VERIFIED';
}

test('sigstore-js signs with a TSA timestamp; its genTime is a signed time for Tollgate; forged timestamps fail', async (t) => {
  const server = await startTestServer(t);
  const other = await startTestServer(t);
  // biome-ignore lint/suspicious/noExplicitAny: the trusted root is read as JSON
  const trustedRoot: any = await (await fetch(server.trustedRootUrl)).json();
  assert.equal(trustedRoot.timestampAuthorities.length, 1);
  assert.equal(trustedRoot.timestampAuthorities[0].certChain.certificates.length, 2);
  const token = await devToken(server, { sub: 'alice', email: 'alice@example.com' });
  const before = Math.floor(Date.now() / 1000);
  const bundle = clone(
    await sigstore.sign(artifact, {
      fulcioURL: server.url,
      rekorURL: server.url,
      tsaServerURL: server.url,
      identityToken: token,
    }),
  );
  const after = Math.ceil(Date.now() / 1000);
  assert.equal(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1);

  // @sigstore/verify at default thresholds, and requiring both timestamps (SET and TSA).
  const verifier = await verifierFor(server);
  verifier.verify(entity(bundle, artifact));
  const { Verifier, toTrustMaterial } = await import('@sigstore/verify');
  const { TrustedRoot } = await import('@sigstore/protobuf-specs');
  new Verifier(toTrustMaterial(TrustedRoot.fromJSON(trustedRoot)), { timestampThreshold: 2 }).verify(
    entity(bundle, artifact),
  );

  const ctx = loadTrustRoots([{ name: 'local', trustedRootJson: trustedRoot }], { embeddedNpmKeys: false });
  const facts = verifyBundle(ctx, bundle, { artifact: { type: 'bytes', data: artifact } });
  assert.ok(facts.timestampTime! >= before - 1 && facts.timestampTime! <= after, `${facts.timestampTime}`);
  assert.ok(facts.integratedTime! >= before - 1 && facts.integratedTime! <= after);

  // The release-age gate reads the TSA time when it is the only signed time (a Rekor v2 bundle has
  // no SET), and says where it came from.
  const tsaOnly = { ...facts, integratedTime: undefined, source: 'store' };
  const age = checkReleaseAge(
    [{ bundle: tsaOnly, trusted: true } as never],
    undefined,
    { text: '1d', ms: 86_400_000 },
    false,
    new Date((facts.timestampTime! + 3600) * 1000),
  );
  assert.equal(age.time?.source, 'timestamp-authority');
  assert.equal(age.time?.signed, true);
  assert.equal(age.violation?.code, 'release-too-new');
  assert.match(age.violation!.message, /signed timestamp/);

  // A timestamp of another instance's TSA (a genuine token, but not of this trust root).
  const foreign = clone(
    await sigstore.sign(artifact, {
      fulcioURL: server.url,
      rekorURL: server.url,
      tsaServerURL: other.url,
      identityToken: token,
    }),
  );
  assert.equal(
    code(() => verifyBundle(ctx, foreign, { artifact: { type: 'bytes', data: artifact } })),
    'TIMESTAMP_INVALID',
  );

  // A timestamp over another signature (replayed from another bundle).
  const second = clone(
    await sigstore.sign(Buffer.from('another artifact'), {
      fulcioURL: server.url,
      rekorURL: server.url,
      tsaServerURL: server.url,
      identityToken: token,
    }),
  );
  const replayed = clone(bundle);
  replayed.verificationMaterial.timestampVerificationData =
    second.verificationMaterial.timestampVerificationData;
  assert.equal(
    code(() => verifyBundle(ctx, replayed, { artifact: { type: 'bytes', data: artifact } })),
    'TIMESTAMP_INVALID',
  );

  // One byte of the token changed (its genTime, its signature): refused.
  const raw = Buffer.from(
    bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp,
    'base64',
  );
  const genTime = RFC3161Timestamp.parse(raw).signingTime;
  const stamp = genTime.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const at = raw.indexOf(Buffer.from(stamp));
  assert.ok(at > 0);
  const backdated = Buffer.from(raw);
  backdated[at + 3] = backdated[at + 3] === 0x30 ? 0x31 : 0x30; // another year
  const altered = clone(bundle);
  altered.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp =
    backdated.toString('base64');
  assert.equal(
    code(() => verifyBundle(ctx, altered, { artifact: { type: 'bytes', data: artifact } })),
    'TIMESTAMP_INVALID',
  );
});

test('the TSA refuses malformed requests and serves its chain', async (t) => {
  const server = await startTestServer(t);
  const good = { artifactHash: createHash('sha256').update('x').digest('base64'), hashAlgorithm: 'sha256' };
  assert.equal((await postJson(`${server.url}/api/v1/timestamp`, good)).status, 201);
  for (const body of [
    { ...good, artifactHash: 'AAAA' },
    { ...good, hashAlgorithm: 'md5' },
    { ...good, nonce: -1 },
    { ...good, extra: 1 },
    [],
  ]) {
    assert.equal((await postJson(`${server.url}/api/v1/timestamp`, body)).status, 400, JSON.stringify(body));
  }
  const chain = await (await fetch(`${server.url}/api/v1/timestamp/certchain`)).text();
  assert.equal(chain.match(/BEGIN CERTIFICATE/g)?.length, 2);
});
