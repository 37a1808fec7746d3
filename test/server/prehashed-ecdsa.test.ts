// The native-ECDH evaluation of prehashed ECDSA must agree with @noble/curves' verify on every
// input: valid signatures, tampered ones, other digests, digests longer than the curve, and the
// edge cases of the rewritten equation (u1 = 0, Q + (u1/u2)·G at infinity or equal to a doubling).
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { test } from 'node:test';
import { p256, p384 } from '@noble/curves/nist.js';
import { verifyPrehashed } from '../../server/log/prehashed-ecdsa';

const CASES = [
  { name: 'prime256v1', jwkCurve: 'P-256', curve: p256, digests: ['sha256', 'sha384', 'sha512'] },
  { name: 'secp384r1', jwkCurve: 'P-384', curve: p384, digests: ['sha256', 'sha384', 'sha512'] },
] as const;

function keyPair(curveName: string) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curveName });
  const jwk = privateKey.export({ format: 'jwk' });
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x!, 'base64url'),
    Buffer.from(jwk.y!, 'base64url'),
  ]);
  return { publicKey, privateKey, point, d: BigInt(`0x${Buffer.from(jwk.d!, 'base64url').toString('hex')}`) };
}

const noble = (curve: typeof p256, sig: Uint8Array, digest: Uint8Array, point: Uint8Array) => {
  try {
    return curve.verify(sig, digest, point, { prehash: false, format: 'der', lowS: false });
  } catch {
    return false;
  }
};

for (const c of CASES) {
  test(`${c.name}: agrees with @noble/curves on valid, tampered and foreign inputs`, () => {
    const { privateKey, point } = keyPair(c.name);
    const other = keyPair(c.name);
    let valid = 0;
    for (let i = 0; i < 40; i++) {
      const algorithm = c.digests[i % c.digests.length]!;
      const data = randomBytes(20 + i);
      const digest = createHash(algorithm).update(data).digest();
      const signature = sign(algorithm, data, privateKey);
      const flipped = Buffer.from(signature);
      flipped[flipped.length - 2]! ^= 0x01;
      const otherDigest = createHash(algorithm).update('other').digest();
      const inputs: [Uint8Array, Uint8Array, Uint8Array][] = [
        [signature, digest, point],
        [flipped, digest, point],
        [signature, otherDigest, point],
        [signature, digest, other.point],
        [signature, digest.subarray(0, 16), point],
      ];
      for (const [sig, dig, pub] of inputs) {
        const ours = verifyPrehashed(c.name, pub, dig, sig);
        assert.equal(ours, noble(c.curve, sig, dig, pub), `${algorithm} case ${i}`);
        if (ours) valid++;
      }
    }
    assert.equal(valid, 40, 'exactly the untampered signatures verify');
  });

  test(`${c.name}: edge cases of u1 = 0, a doubling and the point at infinity`, () => {
    const { point, d } = keyPair(c.name);
    const { Point } = c.curve;
    const Fn = Point.Fn;
    const bytes = Fn.BYTES;
    const digestOf = (e: bigint) => Buffer.from(e.toString(16).padStart(bytes * 2, '0'), 'hex');
    // A signature (r, s) over a chosen e, made directly from the definition with nonce k.
    const signFor = (eOf: (r: bigint) => bigint) => {
      const k = Fn.create(BigInt(`0x${randomBytes(bytes).toString('hex')}`)) || 1n;
      const r = Fn.create(Point.BASE.multiply(k).toAffine().x);
      const e = eOf(r);
      const s = Fn.mul(Fn.inv(k), Fn.add(e, Fn.mul(r, d)));
      return { digest: digestOf(e), signature: new c.curve.Signature(r, s).toBytes('der') };
    };
    const zero = signFor(() => 0n); // u1 = 0: R = u2·Q alone
    assert.equal(verifyPrehashed(c.name, point, zero.digest, zero.signature), true);
    assert.equal(noble(c.curve, zero.signature, zero.digest, point), true);
    const doubling = signFor((r) => Fn.mul(d, r)); // u1/u2 = d: Q + d·G = 2Q
    assert.equal(verifyPrehashed(c.name, point, doubling.digest, doubling.signature), true);
    assert.equal(noble(c.curve, doubling.signature, doubling.digest, point), true);
    // u1/u2 = -d: Q + (u1/u2)·G is the point at infinity, so no signature can verify.
    const anyR = Fn.create(Point.BASE.multiply(7n).toAffine().x);
    const infinity = digestOf(Fn.neg(Fn.mul(d, anyR)));
    const sig = new c.curve.Signature(anyR, 12345n).toBytes('der');
    assert.equal(verifyPrehashed(c.name, point, infinity, sig), false);
    assert.equal(noble(c.curve, sig, infinity, point), false);
  });

  test(`${c.name}: malformed signatures, keys and curves are false, never a throw`, () => {
    const { privateKey, point } = keyPair(c.name);
    const data = Buffer.from('x');
    const digest = createHash('sha256').update(data).digest();
    const signature = sign('sha256', data, privateKey);
    const n = c.curve.Point.Fn.ORDER;
    const { r, s } = c.curve.Signature.fromBytes(signature, 'der');
    const der = (a: bigint, b: bigint) => {
      const int = (v: bigint) => {
        let hex = v.toString(16);
        if (hex.length % 2) hex = `0${hex}`;
        if (Number.parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
        return Buffer.concat([Buffer.from([0x02, hex.length / 2]), Buffer.from(hex, 'hex')]);
      };
      const body = Buffer.concat([int(a), int(b)]);
      return Buffer.concat([Buffer.from([0x30, body.length]), body]);
    };
    for (const bad of [der(0n, s), der(r, 0n), der(n, s), der(r, n), der(r + n, s)]) {
      assert.equal(verifyPrehashed(c.name, point, digest, bad), false);
    }
    assert.equal(verifyPrehashed(c.name, point, digest, Buffer.alloc(0)), false);
    assert.equal(verifyPrehashed(c.name, point, digest, randomBytes(70)), false);
    assert.equal(verifyPrehashed(c.name, point, Buffer.alloc(0), signature), false);
    const offCurve = Buffer.from(point);
    offCurve[offCurve.length - 1]! ^= 0x01;
    assert.equal(verifyPrehashed(c.name, offCurve, digest, signature), false);
    assert.equal(verifyPrehashed(c.name, point.subarray(1), digest, signature), false);
    assert.equal(verifyPrehashed('secp256k1', point, digest, signature), false);
    assert.equal(verifyPrehashed(c.name, point, digest, signature), true);
  });
}
