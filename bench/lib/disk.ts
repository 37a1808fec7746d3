import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/** Free bytes on the file system holding `path` (or its nearest existing parent). */
export function freeBytes(path: string): number {
  let probe = path;
  while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
  const stats = statfsSync(probe);
  return stats.bavail * stats.bsize;
}

/**
 * Stops a bench before it fills the disk: throws with what is needed, what is free and where, so a
 * person can free space or point the cache elsewhere. `need` is a generous estimate of what the step
 * writes (downloads, cached tarballs, throwaway projects and Yarn caches together).
 */
export function requireFreeSpace(path: string, needBytes: number, what: string): void {
  const free = freeBytes(path);
  if (free < needBytes) {
    const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;
    throw new Error(
      `${what} needs about ${gib(needBytes)} free on the disk holding ${path}, but only ${gib(free)} ` +
        'is free (`df -h`): free some space first',
    );
  }
}
