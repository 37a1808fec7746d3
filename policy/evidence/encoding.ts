// Digests and encodings shared by the verification steps.
import { createHash } from 'node:crypto';
import { EvidenceError } from './error';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha512(data: Uint8Array): Buffer {
  return createHash('sha512').update(data).digest();
}

/** Decodes an SRI "sha512-<base64>" into the raw 64-byte digest. */
export function parseSha512Integrity(integrity: string, packageLabel: string): Buffer {
  const match = /^sha512-([A-Za-z0-9+/]{86}==)$/.exec(integrity.trim());
  if (!match) {
    throw new EvidenceError(
      'INTEGRITY_MALFORMED',
      `${packageLabel}: integrity must be "sha512-<88 base64 characters>", got "${truncate(integrity, 40)}"`,
    );
  }
  return Buffer.from(match[1]!, 'base64');
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Drops undefined-valued keys, so facts look the same fresh, cloned to a worker, or read from the cache. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
