// ECDSA verification over a digest the client computed (hashedrekord signs SHA-256(artifact), and
// the log only ever sees the digest). Node's crypto.verify always hashes its input, and
// pure-JavaScript verification (@noble/curves) costs about 2 ms here, which capped the log at
// ~450 appends/s. The verification equation R = u1·G + u2·Q is therefore evaluated as
// R = u2·(Q + (u1/u2)·G): both scalar multiplications run natively through Node's ECDH (a public
// key from a private scalar, and a shared secret, which is the x coordinate of scalar·point), and
// @noble/curves does the cheap parts (DER parsing, scalar-field inverses, one point addition).
// Tests check this against @noble/curves' own verify on valid, invalid and edge-case inputs.
import { createECDH } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';

type Curve = typeof p256;

interface CurveImpl {
  curve: Curve;
  /**
   * An ECDH object of the curve, reused for every multiplication: verification is synchronous,
   * so its private key is set and used without anything in between.
   */
  ecdh: ReturnType<typeof createECDH>;
}

const CURVES: Record<string, CurveImpl> = {
  prime256v1: { curve: p256, ecdh: createECDH('prime256v1') },
  secp384r1: { curve: p384, ecdh: createECDH('secp384r1') },
};

export const PREHASHED_CURVES = Object.keys(CURVES);

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function toFixedBytes(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

/** The x coordinate of scalar·point, computed natively (scalar in [1, n)). */
function nativeMultiplyX(impl: CurveImpl, scalar: bigint, point: Uint8Array): bigint {
  impl.ecdh.setPrivateKey(toFixedBytes(scalar, impl.curve.Point.Fn.BYTES));
  return toBigInt(impl.ecdh.computeSecret(point));
}

/** scalar·G as an encoded point, computed natively (scalar in [1, n)). */
function nativeMultiplyBase(impl: CurveImpl, scalar: bigint): Buffer {
  impl.ecdh.setPrivateKey(toFixedBytes(scalar, impl.curve.Point.Fn.BYTES));
  return impl.ecdh.getPublicKey();
}

/**
 * Whether `signature` (DER) is a valid ECDSA signature over `digest` by the uncompressed public
 * point `publicPoint` on `namedCurve` (Node's name: prime256v1, secp384r1). High-S signatures are
 * accepted, as OpenSSL and Rekor accept them. Never throws: anything malformed is `false`.
 */
export function verifyPrehashed(
  namedCurve: string,
  publicPoint: Uint8Array,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  const impl = CURVES[namedCurve];
  if (!impl || digest.length === 0) return false;
  const { Point } = impl.curve;
  const Fn = Point.Fn;
  try {
    const { r, s } = impl.curve.Signature.fromBytes(signature, 'der');
    if (r <= 0n || r >= Fn.ORDER || s <= 0n || s >= Fn.ORDER) return false;
    // FIPS 186-5: the leftmost bits of the digest, as many as the order has.
    const excess = digest.length * 8 - Fn.BITS;
    const e = Fn.create(excess > 0 ? toBigInt(digest) >> BigInt(excess) : toBigInt(digest));
    // u1 = e/s, u2 = r/s and u1/u2 = e/r: both inverses from one (Montgomery's trick).
    const inverse = Fn.inv(Fn.mul(r, s));
    const u2 = Fn.mul(r, Fn.mul(r, inverse)); // r/s, never 0: r and s are units
    const Q = Point.fromBytes(publicPoint);
    Q.assertValidity();
    let target = Q;
    if (e !== 0n) {
      target = Q.add(Point.fromBytes(nativeMultiplyBase(impl, Fn.mul(e, Fn.mul(s, inverse)))));
      if (target.is0()) return false; // R would be the point at infinity
    }
    return Fn.create(nativeMultiplyX(impl, u2, target.toBytes(false))) === r;
  } catch {
    return false;
  }
}
