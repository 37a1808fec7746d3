// Files derived from entries.log (offsets, Merkle levels, search index) are never trusted: on open
// the store recomputes their content from entries.log and reconciles each file with it. A file
// that is merely behind (the crash came before it was written) is extended silently; one that
// disagrees with entries.log, or runs past it, is reported and rewritten from the first difference.
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { basename } from 'node:path';

const COMPARE_CHUNK = 1 << 20;

function firstDifference(fd: number, storedLength: number, expected: Buffer): number {
  const common = Math.min(storedLength, expected.length);
  const chunk = Buffer.alloc(Math.min(COMPARE_CHUNK, Math.max(common, 1)));
  for (let at = 0; at < common; at += chunk.length) {
    const length = Math.min(chunk.length, common - at);
    readSync(fd, chunk, 0, length, at);
    const theirs = chunk.subarray(0, length);
    const ours = expected.subarray(at, at + length);
    if (!theirs.equals(ours)) {
      for (let i = 0; i < length; i++) if (theirs[i] !== ours[i]) return at + i;
    }
  }
  return storedLength > expected.length ? expected.length : -1;
}

/** Makes the file at `path` hold exactly `expected`; `report` hears of any disagreement. */
export function reconcileDerivedFile(
  path: string,
  expected: Buffer,
  report: (message: string) => void,
  unit: { name: string; size: number },
): void {
  const fd = openSync(path, existsSync(path) ? 'r+' : 'w+', 0o600);
  try {
    const storedLength = fstatSync(fd).size;
    const diff = firstDifference(fd, storedLength, expected);
    let from = Math.min(storedLength, expected.length);
    if (diff >= 0) {
      from = diff - (diff % unit.size);
      report(
        `${basename(path)} disagreed with entries.log from ${unit.name} ${from / unit.size}` +
          `${storedLength > expected.length && diff === expected.length ? ' (it runs past the log)' : ''}; rewritten from entries.log`,
      );
    }
    ftruncateSync(fd, from);
    if (expected.length > from) writeSync(fd, expected, from, expected.length - from, from);
  } finally {
    closeSync(fd);
  }
}
