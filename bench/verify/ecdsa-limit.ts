// The ECDSA limit of verification on this machine: the time the signature verifications a package
// needs take on their own, with nothing else. The verifications are not assumed: every call to Node's
// `crypto.verify` made while one package is verified is recorded (algorithm, data, key, signature;
// @sigstore/core and Tollgate call it through the `node:crypto` module object, which is patched for
// that one untimed pass), counted by curve, and then replayed in a loop with the same KeyObjects to
// time each call. The limit is 1 / (n256·t256 + n384·t384) packages per second, t being the mean
// replay time of that curve's calls (so n·t sums exactly what the package's calls take).
import crypto, { type KeyObject } from 'node:crypto';

export interface RecordedVerify {
  curve: string;
  algorithm: string | null | undefined;
  data: Buffer;
  key: KeyObject;
  signature: Buffer;
  /** what the call returned when it was recorded */
  result: boolean;
}

const CURVE_NAMES: Record<string, string> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

function curveOf(key: unknown): string {
  const k = key as KeyObject;
  const details = typeof k?.asymmetricKeyDetails === 'object' ? k.asymmetricKeyDetails : undefined;
  const named = details?.namedCurve;
  return named ? (CURVE_NAMES[named] ?? named) : `${k?.asymmetricKeyType ?? typeof key}`;
}

function copyBytes(view: NodeJS.ArrayBufferView): Buffer {
  return Buffer.from(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
}

/** Runs `fn` once, recording every `crypto.verify` call it makes (through the node:crypto module). */
export async function recordVerifies(fn: () => Promise<unknown> | unknown): Promise<RecordedVerify[]> {
  const recorded: RecordedVerify[] = [];
  const original = crypto.verify;
  const recording = ((algorithm, data, key, signature) => {
    const result = original(algorithm, data, key, signature);
    recorded.push({
      curve: curveOf(key),
      algorithm,
      data: copyBytes(data),
      key: key as KeyObject,
      signature: copyBytes(signature),
      result,
    });
    return result;
  }) as typeof crypto.verify;
  crypto.verify = recording;
  try {
    await fn();
  } finally {
    crypto.verify = original;
  }
  return recorded;
}

export function countByCurve(calls: readonly RecordedVerify[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls) counts[call.curve] = (counts[call.curve] ?? 0) + 1;
  return counts;
}

export interface EcdsaTiming {
  /** mean seconds per verification, by curve */
  perCall: Record<string, number>;
  /** seconds of ECDSA per package: Σ count(curve) · perCall(curve) */
  perPackage: number;
}

/** Replays each recorded call `repeat` times (one core, the calling thread) and times it. */
export function timeReplay(calls: readonly RecordedVerify[], repeat: number): EcdsaTiming {
  const samples: Record<string, number[]> = {};
  for (const call of calls) {
    const start = performance.now();
    for (let i = 0; i < repeat; i++) {
      if (crypto.verify(call.algorithm, call.data, call.key, call.signature) !== call.result) {
        throw new Error(`replaying a ${call.curve} verification gave another result than recorded`);
      }
    }
    const list = samples[call.curve] ?? [];
    list.push((performance.now() - start) / 1000 / repeat);
    samples[call.curve] = list;
  }
  const perCall = Object.fromEntries(
    Object.entries(samples).map(([curve, s]) => [curve, s.reduce((a, b) => a + b, 0) / s.length]),
  );
  const counts = countByCurve(calls);
  const perPackage = Object.entries(counts).reduce((sum, [curve, n]) => sum + n * perCall[curve]!, 0);
  return { perCall, perPackage };
}
