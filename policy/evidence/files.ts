// File loading for the CLI and the plugin's cache layer. Verification itself never touches the file
// system; these helpers read bytes and hand them over, with errors that name the file.
import { readFileSync } from 'node:fs';
import type { TrustRootSpec } from './trust/context';
import type { BundleInput } from './verify-package';

export class FileInputError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'FileInputError';
  }
}

export function readInputFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileInputError(path, `cannot read the ${what} (${code ?? (err as Error).message})`);
  }
}

export function loadBundleFile(path: string): BundleInput {
  return { json: readInputFile(path, 'bundle').toString('utf8'), source: path };
}

export function loadTrustedRootFile(path: string, name: string): TrustRootSpec {
  return { name, trustedRootJson: readInputFile(path, 'trusted root').toString('utf8') };
}
