import { createHash, webcrypto } from 'node:crypto';
import { type Configuration, type Locator, structUtils, tgzUtils } from '@yarnpkg/core';

export function sha512Integrity(bytes: Uint8Array): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

/** The same digest, computed on libuv's thread pool (the bytes are copied when this is called). */
export async function sha512IntegrityOffThread(bytes: Uint8Array): Promise<string> {
  const digest = await webcrypto.subtle.digest('SHA-512', bytes);
  return `sha512-${Buffer.from(digest).toString('base64')}`;
}

/**
 * Rebuilds Yarn's cache zip from registry tarball bytes with the runtime's own conversion and returns the
 * checksum yarn.lock would record for it (cacheKey/sha512 hex), so a lockfile entry or a cached zip can be
 * tied to the exact registry tarball.
 */
export async function zipChecksumOf(
  tgz: Buffer,
  locator: Locator,
  configuration: Configuration,
  cacheKey: string,
): Promise<string> {
  const zip = await tgzUtils.convertToZip(tgz, {
    configuration,
    prefixPath: structUtils.getIdentVendorPath(locator),
    stripComponents: 1,
  });
  const bytes = zip.getBufferAndClose();
  return `${cacheKey}/${createHash('sha512').update(bytes).digest('hex')}`;
}

/** Yarn records checksums with or without the cache key prefix; compare only the hashes when keys agree. */
export function sameChecksum(a: string, b: string): boolean {
  const split = (c: string) => {
    const slash = c.indexOf('/');
    return slash === -1 ? { key: null, hash: c } : { key: c.slice(0, slash), hash: c.slice(slash + 1) };
  };
  const x = split(a);
  const y = split(b);
  if (x.key !== null && y.key !== null && x.key !== y.key) return false;
  return x.hash === y.hash;
}
