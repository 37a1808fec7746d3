// @sigstore/core's DER parser finds out whether an OCTET STRING holds nested DER by trying to parse it
// and catching the failure. Every Fulcio certificate has several OCTET STRINGs that do not (the
// subject key id, the raw-UTF-8 Fulcio claims, the SCT list), and each failed attempt builds an
// ASN1ParseError with a captured stack: a CPU profile of npm provenance verification shows 11% of all
// time constructing those errors. This parser takes exactly the same decisions (same tag and length
// rules, the same bounds checked against the same ends, the same depth limit, OCTET STRINGs probed the
// same way) but reports failure by return value, and builds the same tree of @sigstore/core's own
// ASN1Obj and ASN1Tag objects over a private copy of the input, as ByteStream does.
//
// Only success is taken from here. When this parser rejects an input, the caller runs @sigstore/core's
// parser on it, which throws its own error with its own message: failures are sigstore-js's, byte for
// byte. test/evidence/der-parsing.test.ts compares the two on every certificate and timestamp in the
// fixtures and on systematically corrupted copies of them.
import { ASN1Obj } from '@sigstore/core';

type Tag = ASN1Obj['tag'];

// ASN1Tag is not exported by @sigstore/core; its class is taken from an object the real parser made
// (a DER NULL), so that every tag built here is a genuine ASN1Tag with its methods.
const ASN1Tag = ASN1Obj.parseBuffer(Buffer.from([0x05, 0x00])).tag.constructor as new (enc: number) => Tag;

// @sigstore/core's MAX_DEPTH (asn1/obj.js): deeper nesting is refused.
const MAX_DEPTH = 100;
const OCTET_STRING = 0x04;

/** A position in one input (a private copy, as ByteStream keeps). */
interface Cursor {
  readonly view: Buffer;
  pos: number;
}

// Where @sigstore/core's parser would throw.
const FAILED: unique symbol = Symbol('failed');
type Result = ASN1Obj | typeof FAILED;

// decodeLength (asn1/length.js): short form, or 1–6 length bytes, no leading zero, not 0, not < 128.
function readLength(c: Cursor): number {
  if (c.pos >= c.view.length) return -1;
  const first = c.view[c.pos++]!;
  if ((first & 0x80) === 0) return first;
  const count = first & 0x7f;
  if (count > 6) return -1;
  let len = 0;
  for (let i = 0; i < count; i++) {
    if (c.pos >= c.view.length) return -1;
    const byte = c.view[c.pos++]!;
    if (i === 0 && byte === 0) return -1;
    len = len * 256 + byte;
  }
  if (len === 0 || len < 128) return -1;
  return len;
}

// parseStream (asn1/obj.js).
function parseNode(c: Cursor, depth: number): Result {
  if (depth > MAX_DEPTH) return FAILED;
  if (c.pos >= c.view.length) return FAILED;
  const enc = c.view[c.pos++]!;
  // ASN1Tag's constructor refuses long-form tags and universal tag 0.
  if ((enc & 0x1f) === 0x1f || (enc >> 6 === 0 && (enc & 0x1f) === 0)) return FAILED;
  const tag = new ASN1Tag(enc);
  const len = readLength(c);
  if (len < 0) return FAILED;
  const start = c.pos;
  // ByteStream.slice checks the end against the whole input, not the enclosing object.
  if (start + len > c.view.length) return FAILED;
  const value = c.view.subarray(start, start + len);
  let subs: ASN1Obj[] = [];
  if (tag.constructed) {
    const children = collectSubs(c, len, depth);
    if (children === FAILED) return FAILED;
    subs = children;
  } else if (enc === OCTET_STRING) {
    // The probe: nested DER if it parses completely, otherwise a primitive value.
    const children = collectSubs(c, len, depth);
    if (children !== FAILED) subs = children;
  }
  if (subs.length === 0) c.pos = start + len;
  return new ASN1Obj(tag, value, subs);
}

// collectSubs (asn1/obj.js): children until the end, which must then be hit exactly.
function collectSubs(c: Cursor, len: number, depth: number): ASN1Obj[] | typeof FAILED {
  const end = c.pos + len;
  if (end > c.view.length) return FAILED;
  const subs: ASN1Obj[] = [];
  while (c.pos < end) {
    const sub = parseNode(c, depth + 1);
    if (sub === FAILED) return FAILED;
    subs.push(sub);
  }
  if (c.pos !== end) return FAILED;
  return subs;
}

/**
 * The tree @sigstore/core's `ASN1Obj.parseBuffer(der)` builds, or undefined where that would throw.
 * Exported for the equivalence test; verification uses `parseDER`.
 */
export function tryParseDER(der: Uint8Array): ASN1Obj | undefined {
  const c: Cursor = { view: Buffer.from(der), pos: 0 };
  const obj = parseNode(c, 0);
  if (obj === FAILED || c.pos !== c.view.length) return undefined;
  return obj;
}

/** `ASN1Obj.parseBuffer`, without exception-driven probing; throws sigstore-js's own error on bad input. */
export function parseDER(der: Uint8Array): ASN1Obj {
  return tryParseDER(der) ?? ASN1Obj.parseBuffer(Buffer.from(der));
}
