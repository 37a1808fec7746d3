import { json } from '@sigstore/core';
import { isStrictBase64 } from '../../encoding';
import { ServerError } from '../../errors';

export interface CanonicalEntry {
  /** Rekor's canonical body: the exact bytes that are hashed into the Merkle tree. */
  body: Buffer;
  searchKeys: string[];
  /** dsse: the envelope as submitted, kept beside the log (not in it) for the web page. */
  envelope?: string;
}

export const invalidEntry = (message: string) => new ServerError(400, 'INVALID_ENTRY', message);

export function field(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidEntry(`"${path}" must be an object`);
  }
  return value as Record<string, unknown>;
}

export function canonicalBody(entry: unknown): Buffer {
  return Buffer.from(json.canonicalize(entry), 'utf8');
}

export function base64Field(value: unknown, path: string, maxLength = 1024 * 1024): Buffer {
  if (!isStrictBase64(value, maxLength)) {
    throw invalidEntry(`"${path}" must be non-empty standard base64`);
  }
  return Buffer.from(value, 'base64');
}
