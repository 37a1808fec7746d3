// The non-throwing DER parser must accept exactly what @sigstore/core's parser accepts and build the
// same tree: on every certificate, key and timestamp in the fixtures, and on corrupted copies of them
// (every byte of the first 64 changed several ways, a stride of the rest, truncations, trailing data),
// which exercises each refusal: tags, lengths, bounds, depth, and the OCTET STRING probe.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ASN1Obj } from '@sigstore/core';
import { parseDER, tryParseDER } from '../../policy/evidence/perf/der-parsing';
import { embeddedPublicGoodTrustedRoot } from '../../policy/evidence/trust/seeds';
import { fixturePath, NPM_PACKAGES } from './fixtures';

function collectDer(value: unknown, out: Map<string, Buffer>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectDer(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if ((k === 'rawBytes' || k === 'signedTimestamp') && typeof v === 'string') {
        const der = Buffer.from(v, 'base64');
        out.set(der.toString('hex'), der);
      } else collectDer(v, out);
    }
  }
}

function fixtureDers(): Buffer[] {
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
  const ders = new Map<string, Buffer>();
  collectDer(documents, ders);
  return [...ders.values()];
}

function describe(obj: ASN1Obj): unknown {
  return {
    tag: [obj.tag.toDER(), obj.tag.number, obj.tag.constructed, obj.tag.class],
    value: obj.value.toString('hex'),
    subs: obj.subs.map(describe),
  };
}

/** 'refused' where @sigstore/core throws, else the tree. */
function reference(der: Buffer): unknown {
  try {
    return describe(ASN1Obj.parseBuffer(Buffer.from(der)));
  } catch {
    return 'refused';
  }
}

function fast(der: Buffer): unknown {
  const obj = tryParseDER(der);
  return obj ? describe(obj) : 'refused';
}

function corruptions(der: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const positions = new Set<number>();
  for (let i = 0; i < Math.min(64, der.length); i++) positions.add(i);
  for (let i = 64; i < der.length; i += 61) positions.add(i);
  for (const i of positions) {
    for (const value of [0x00, 0xff, 0x81, 0x04, der[i]! ^ 0x01, der[i]! ^ 0x20]) {
      const copy = Buffer.from(der);
      copy[i] = value & 0xff;
      out.push(copy);
    }
  }
  for (let cut = 1; cut < der.length; cut += Math.max(1, Math.floor(der.length / 23)))
    out.push(der.subarray(0, cut));
  out.push(Buffer.concat([der, Buffer.from([0])]));
  return out;
}

const ders = fixtureDers();

test('the fixtures hold many DER structures', () => {
  assert.ok(ders.length > 60, `expected many distinct structures, found ${ders.length}`);
});

test('fast DER parsing builds the same tree as @sigstore/core on every fixture structure', () => {
  let parsed = 0;
  for (const der of ders) {
    const expected = reference(der);
    assert.deepEqual(fast(der), expected);
    if (expected !== 'refused') parsed++;
  }
  assert.ok(parsed > 60, `expected many parseable structures, parsed ${parsed}`);
});

test('fast DER parsing refuses exactly what @sigstore/core refuses, on corrupted structures', () => {
  let refused = 0;
  let accepted = 0;
  // certificates and timestamps (the large structures) first; every one is corrupted
  for (const der of ders.filter((d) => d.length > 200)) {
    for (const bad of corruptions(der)) {
      const expected = reference(bad);
      assert.deepEqual(fast(bad), expected, `corrupted ${bad.subarray(0, 8).toString('hex')}…`);
      if (expected === 'refused') refused++;
      else accepted++;
    }
  }
  assert.ok(refused > 1000 && accepted > 1000, `refused ${refused}, accepted ${accepted}`);
});

test('fast DER parsing: depth limit, long-form lengths, OCTET STRING probing, private copy', () => {
  const nest = (depth: number) => {
    let obj = Buffer.from([0x05, 0x00]);
    for (let i = 0; i < depth; i++) obj = Buffer.concat([Buffer.from([0x30, obj.length]), obj]);
    return obj;
  };
  for (const depth of [99, 100, 101, 102]) assert.deepEqual(fast(nest(depth)), reference(nest(depth)));
  const cases = [
    Buffer.concat([Buffer.from([0x04, 0x81, 0x80]), Buffer.alloc(128, 0x30)]), // probe fails: primitive
    Buffer.from([0x04, 0x03, 0x02, 0x01, 0x07]), // probe succeeds: one INTEGER inside
    Buffer.from([0x04, 0x00]), // empty OCTET STRING
    Buffer.from([0x30, 0x00]), // empty SEQUENCE
    Buffer.from([0x04, 0x81, 0x05, 1, 2, 3, 4, 5]), // non-minimal long form
    Buffer.from([0x04, 0x80]), // indefinite length
    Buffer.from([0x1f, 0x01, 0x00]), // long-form tag
    Buffer.from([0x30, 0x03, 0x04, 0x05, 0x00]), // child overruns its parent (and the input)
    Buffer.from([0x30, 0x02, 0x04, 0x02, 0x05, 0x00]), // child overruns its parent only
  ];
  for (const der of cases) assert.deepEqual(fast(der), reference(der), der.toString('hex'));
  const input = Buffer.from([0x04, 0x03, 0x02, 0x01, 0x07]);
  const obj = parseDER(input);
  input.fill(0);
  assert.equal(obj.subs[0]!.value.toString('hex'), '07');
  assert.throws(
    () => parseDER(Buffer.from([0x30, 0x05])),
    (err: Error) => err.constructor.name === 'StreamError',
  );
});
