// Rekor v2 mode: unmodified @sigstore/sign (sigstore-js 4.1.1) reads the signing config tollgate-server
// publishes over TUF, picks the v2 log and the TSA, and signs messages and DSSE envelopes;
// @sigstore/verify at default thresholds and Tollgate accept the bundles with the TSA time as signed
// time; altered checkpoints and proofs fail; the C2SP tiles recompute the checkpoint's root.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { bundleToJSON } from '@sigstore/bundle';
import { SigningConfig } from '@sigstore/protobuf-specs';
import { bundleBuilderFromSigningConfig } from '@sigstore/sign';
import { loadTrustRoots, verifyBundle } from '../../policy/evidence';
import { refreshTuf } from '../../policy/evidence/trust/tuf-client';
import { hashChildren, hashLeaf, rootHash } from '../../server/log/merkle';
import { devToken, entity, startTestServer, tempDir, verifierFor } from './helpers';

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

test('sigstore-js signs in Rekor v2 mode from the TUF-published signing config; bundles verify with the TSA time; tampering fails; tiles match the checkpoint', async (t) => {
  const server = await startTestServer(t);
  const anchor = Buffer.from(await (await fetch(`${server.tufUrl}/1.root.json`)).arrayBuffer());
  const { targets } = await refreshTuf({
    metadataUrl: server.tufUrl,
    anchorRoot: anchor,
    cacheRoot: tempDir(t, 'tollgate-tuf-'),
    secret: randomBytes(32),
    targets: ['trusted_root.json', 'signing_config.v0.2.json'],
    mode: 'online',
  });
  const trustedRoot = JSON.parse(targets['trusted_root.json']!.toString('utf8'));
  const signingConfig = SigningConfig.fromJSON(
    JSON.parse(targets['signing_config.v0.2.json']!.toString('utf8')),
  );
  const token = await devToken(server, { sub: 'alice', email: 'alice@example.com' });
  const builder = (bundleType: 'messageSignature' | 'dsseEnvelope') =>
    bundleBuilderFromSigningConfig({
      signingConfig,
      identityProvider: { getToken: async () => token },
      bundleType,
    });

  const artifact = Buffer.from('rekor v2 artifact\n');
  const message = clone(bundleToJSON(await builder('messageSignature').create({ data: artifact })));
  const statement = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'x', digest: { sha256: 'ab'.repeat(32) } }],
      predicateType: 'https://example.com/p',
      predicate: {},
    }),
  );
  const dsse = clone(
    bundleToJSON(
      await builder('dsseEnvelope').create({ data: statement, type: 'application/vnd.in-toto+json' }),
    ),
  );
  // a few more entries, so that proofs have hashes and a tile has several leaves
  for (let i = 0; i < 3; i++) await builder('messageSignature').create({ data: randomBytes(16) });

  for (const bundle of [message, dsse]) {
    const entry = bundle.verificationMaterial.tlogEntries[0];
    assert.deepEqual(entry.kindVersion, { kind: 'hashedrekord', version: '0.0.2' });
    assert.equal(entry.inclusionPromise, undefined, 'v2 entries carry no SET');
    assert.ok(entry.inclusionProof.checkpoint.envelope.length > 0);
    assert.equal(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1);
  }

  const verifier = await verifierFor(server);
  verifier.verify(entity(message, artifact));
  verifier.verify(entity(dsse));
  const ctx = loadTrustRoots([{ name: 'local', trustedRootJson: trustedRoot }], { embeddedNpmKeys: false });
  const facts = verifyBundle(ctx, message, { artifact: { type: 'bytes', data: artifact } });
  assert.equal(facts.integratedTime, undefined, 'no unsigned integrated time is reported');
  assert.ok(facts.timestampTime! > 0);
  assert.equal(facts.signer?.subject, 'alice@example.com');
  const dsseFacts = verifyBundle(ctx, dsse, {});
  assert.ok(dsseFacts.timestampTime! > 0);

  // Tampering with what the log signed or proved.
  const forgedCheckpoint = clone(message);
  const note: string =
    forgedCheckpoint.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope;
  const lines = note.split('\n');
  lines[1] = String(Number(lines[1]) + 1);
  forgedCheckpoint.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope = lines.join('\n');
  assert.equal(
    code(() => verifyBundle(ctx, forgedCheckpoint, { artifact: { type: 'bytes', data: artifact } })),
    'TLOG_INVALID',
  );
  // the DSSE entry is the second one: its proof has a hash
  const forgedProof = clone(dsse);
  const hashes: string[] = forgedProof.verificationMaterial.tlogEntries[0].inclusionProof.hashes;
  assert.equal(hashes.length, 1);
  hashes[0] = Buffer.alloc(32, 7).toString('base64');
  assert.equal(
    code(() => verifyBundle(ctx, forgedProof, {})),
    'TLOG_INVALID',
  );
  const otherIndex = clone(message);
  otherIndex.verificationMaterial.tlogEntries[0].inclusionProof.logIndex = '1';
  otherIndex.verificationMaterial.tlogEntries[0].logIndex = '1';
  assert.equal(
    code(() => verifyBundle(ctx, otherIndex, { artifact: { type: 'bytes', data: artifact } })),
    'TLOG_INVALID',
  );
  const noTimestamp = clone(message);
  noTimestamp.verificationMaterial.timestampVerificationData.rfc3161Timestamps = [];
  assert.equal(
    code(() => verifyBundle(ctx, noTimestamp, { artifact: { type: 'bytes', data: artifact } })),
    'TIMESTAMP_INVALID',
  );

  // C2SP tlog-tiles: the checkpoint, the partial level-0 tile and the entry bundle agree.
  const checkpoint = await (await fetch(`${server.url}/v2/checkpoint`)).text();
  const [, sizeLine, rootLine] = checkpoint.split('\n');
  const size = Number(sizeLine);
  assert.equal(size, 5);
  const tile = Buffer.from(await (await fetch(`${server.url}/v2/tile/0/000.p/${size}`)).arrayBuffer());
  assert.equal(tile.length, 32 * size);
  const leaves = Array.from({ length: size }, (_, i) => tile.subarray(32 * i, 32 * (i + 1)));
  const source = {
    node(level: number, index: number): Buffer {
      if (level === 0) return Buffer.from(leaves[index]!);
      return hashChildren(this.node(level - 1, 2 * index), this.node(level - 1, 2 * index + 1));
    },
  };
  assert.equal(rootHash(source, size).toString('base64'), rootLine);
  const bundleBytes = Buffer.from(
    await (await fetch(`${server.url}/v2/tile/entries/000.p/${size}`)).arrayBuffer(),
  );
  let offset = 0;
  for (let i = 0; i < size; i++) {
    const length = bundleBytes.readUInt16BE(offset);
    const body = bundleBytes.subarray(offset + 2, offset + 2 + length);
    offset += 2 + length;
    assert.ok(hashLeaf(body).equals(leaves[i]!), `entry ${i} hashes to its leaf`);
    assert.equal(JSON.parse(body.toString('utf8')).apiVersion, '0.0.2');
  }
  assert.equal(offset, bundleBytes.length);
  assert.equal((await fetch(`${server.url}/v2/tile/0/000`)).status, 404, 'no full tile yet');
  assert.equal((await fetch(`${server.url}/v2/tile/0/000.p/${size + 1}`)).status, 404);
});
