// @sigstore/core re-encodes certificates to DER whenever it compares them or checks a signature over
// a TBSCertificate, and its encoder grows a fresh 1 KiB-block buffer for every node of the tree: a
// CPU profile of npm provenance verification shows about a third of all time in those reallocations
// (and two thirds under ASN1Obj.toDER). This module swaps in an encoder that sizes the output first
// and writes every node once into a single buffer. It produces byte-for-byte the same encoding (same
// tag byte, same minimal length form, same concatenation of children or value), which
// test/evidence/der-encoding.test.ts checks against the original on every certificate and timestamp
// in the fixtures. Nothing is cached: @sigstore/verify mutates a cloned certificate's extension list
// before re-encoding it (SCT verification), so every call encodes the tree as it is now.
import { ASN1Obj } from '@sigstore/core';

type Encodable = { tag: { toDER(): number }; value: Buffer; subs: Encodable[] };

const originalToDER: () => Buffer = ASN1Obj.prototype.toDER;
let installed = false;

function lengthOfLength(len: number): number {
  if (len < 128) return 1;
  let bytes = 0;
  for (let v = len; v > 0; v = Math.floor(v / 256)) bytes++;
  return 1 + bytes;
}

// Sizes are computed once per node per encoding and kept, in pre-order (a node before its children,
// children in order), in a side table that the write pass, walking the tree in the same order, reads
// back one entry per node.
function measure(obj: Encodable, sizes: number[]): number {
  const slot = sizes.length;
  sizes.push(0);
  let content = 0;
  if (obj.subs.length > 0) {
    for (const sub of obj.subs) content += measure(sub, sizes);
  } else {
    content = obj.value.length;
  }
  sizes[slot] = content;
  return 1 + lengthOfLength(content) + content;
}

interface Writer {
  sizes: number[];
  next: number;
  out: Buffer;
}

function write(obj: Encodable, w: Writer, start: number): number {
  const out = w.out;
  let offset = start;
  const content = w.sizes[w.next++]!;
  out[offset++] = obj.tag.toDER();
  if (content < 128) {
    out[offset++] = content;
  } else {
    const lenBytes = lengthOfLength(content) - 1;
    out[offset++] = 0x80 | lenBytes;
    for (let i = lenBytes - 1; i >= 0; i--) out[offset++] = Math.floor(content / 256 ** i) % 256;
  }
  if (obj.subs.length > 0) {
    for (const sub of obj.subs) offset = write(sub, w, offset);
  } else {
    obj.value.copy(out, offset);
    offset += obj.value.length;
  }
  return offset;
}

/** Encodes an ASN.1 tree exactly as @sigstore/core's ASN1Obj.prototype.toDER does, in one allocation. */
export function encodeDER(obj: ASN1Obj): Buffer {
  const node = obj as unknown as Encodable;
  const sizes: number[] = [];
  const total = measure(node, sizes);
  const out = Buffer.allocUnsafe(total);
  write(node, { sizes, next: 0, out }, 0);
  return out;
}

/** The encoder @sigstore/core ships, kept for the equivalence test and the reference path. */
export function referenceEncodeDER(obj: ASN1Obj): Buffer {
  return originalToDER.call(obj);
}

/** Installs the single-allocation encoder on @sigstore/core's ASN1Obj. Idempotent. */
export function installFastDerEncoding(): void {
  if (installed) return;
  ASN1Obj.prototype.toDER = function toDER(this: ASN1Obj): Buffer {
    return encodeDER(this);
  };
  installed = true;
}

/** Restores @sigstore/core's own encoder (used by the reference path in tests and the bench). */
export function uninstallFastDerEncoding(): void {
  ASN1Obj.prototype.toDER = originalToDER;
  installed = false;
}
