// The single-allocation DER encoder must produce exactly what @sigstore/core's own encoder produces,
// on every certificate and timestamp the fixtures contain (and so the original DER bytes).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ASN1Obj } from '@sigstore/core';
import { encodeDER, referenceEncodeDER } from '../../policy/evidence/perf/der-encoding';
import { embeddedPublicGoodTrustedRoot } from '../../policy/evidence/trust/seeds';
import { fixturePath, NPM_PACKAGES } from './fixtures';

function collectDer(value: unknown, out: Buffer[]): void {
  if (Array.isArray(value)) {
    for (const v of value) collectDer(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if ((k === 'rawBytes' || k === 'signedTimestamp') && typeof v === 'string')
        out.push(Buffer.from(v, 'base64'));
      else collectDer(v, out);
    }
  }
}

test('fast DER encoding is byte-identical to @sigstore/core on every fixture structure', () => {
  const documents: unknown[] = [JSON.parse(embeddedPublicGoodTrustedRoot())];
  const suite = fixturePath('sigstore-conformance', 'bundle-verify');
  for (const dir of readdirSync(suite, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of ['bundle.sigstore.json', 'trusted_root.json']) {
      try {
        documents.push(JSON.parse(readFileSync(join(suite, dir.name, file), 'utf8')));
      } catch {
        // absent, or the deliberately malformed bundle
      }
    }
  }
  for (const [file] of NPM_PACKAGES) {
    documents.push(
      JSON.parse(readFileSync(fixturePath('npm-provenance', `${file}.attestations.json`), 'utf8')),
    );
  }
  const ders: Buffer[] = [];
  collectDer(documents, ders);
  let checked = 0;
  for (const der of ders) {
    let parsed: ASN1Obj;
    try {
      parsed = ASN1Obj.parseBuffer(Buffer.from(der));
    } catch {
      continue; // public keys in rawBytes that are not DER structures sigstore parses
    }
    const fast = encodeDER(parsed);
    assert.deepEqual(fast, referenceEncodeDER(parsed));
    assert.deepEqual(fast, der);
    checked++;
  }
  assert.ok(checked > 150, `expected to compare many structures, compared ${checked}`);
});

test('fast DER encoding handles long-form lengths and re-encodes after mutation', () => {
  const big = Buffer.concat([Buffer.from([0x04, 0x82, 0x01, 0x2c]), Buffer.alloc(300, 7)]);
  const small = Buffer.from([0x02, 0x01, 0x05]);
  const seq = Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x33]), small, big]);
  const parsed = ASN1Obj.parseBuffer(seq);
  assert.deepEqual(encodeDER(parsed), seq);
  parsed.subs.splice(1, 1); // as sigstore-js does when it drops the SCT extension before re-encoding
  assert.deepEqual(encodeDER(parsed), referenceEncodeDER(parsed));
  assert.deepEqual(encodeDER(parsed), Buffer.concat([Buffer.from([0x30, 0x03]), small]));
});
