// Manifest confusion: the registry's metadata (and the attestation's purl) can name one package while
// the tarball's own package.json, which is what gets installed and run, names another. Installers strip
// the tarball's first path component, so every "<any>/package.json" is a candidate; more than one (or
// a link) makes the installed manifest depend on the extractor, so that is refused too.
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { truncate } from '../encoding';
import { EvidenceError } from '../error';

const MAX_MANIFEST_BYTES = 5 * 1024 * 1024;

export interface TarballManifest {
  name: unknown;
  version: unknown;
}

function isRootManifest(path: string): boolean {
  const parts = path.replace(/^\.\//, '').split('/').filter(Boolean);
  return parts.length === 2 && parts[1] === 'package.json';
}

export async function readTarballManifest(tarball: Uint8Array): Promise<TarballManifest> {
  let tar: Buffer;
  try {
    // 64 KiB output chunks instead of zlib's 16 KiB: most package tarballs inflate in one or two
    tar = gunzipSync(tarball, { maxOutputLength: 1024 * 1024 * 1024, chunkSize: 64 * 1024 });
  } catch (err) {
    throw new EvidenceError('MANIFEST_UNREADABLE', `tarball is not gzip: ${(err as Error).message}`, err);
  }
  const manifests: { path: string; type: string; data: Buffer[] }[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      // Every header is still read and checked; only the bodies of other entries are skipped unread
      // instead of being streamed out and dropped.
      filter: (path: string) => isRootManifest(path),
      onReadEntry: (entry: ReadEntry) => {
        const found = { path: entry.path, type: entry.type, data: [] as Buffer[] };
        manifests.push(found);
        entry.on('data', (chunk: Buffer) => found.data.push(chunk));
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve());
    try {
      parser.end(tar);
    } catch (err) {
      reject(err);
    }
  }).catch((err) => {
    throw new EvidenceError(
      'MANIFEST_UNREADABLE',
      `tarball is not a readable tar archive: ${(err as Error).message}`,
      err,
    );
  });
  if (manifests.length !== 1) {
    throw new EvidenceError(
      'MANIFEST_UNREADABLE',
      manifests.length === 0
        ? 'tarball has no <root>/package.json'
        : `tarball has ${manifests.length} root package.json entries (${manifests.map((m) => m.path).join(', ')}); the installed one would depend on the extractor`,
    );
  }
  const [manifest] = manifests as [(typeof manifests)[number]];
  if (manifest.type !== 'File' && manifest.type !== 'OldFile') {
    throw new EvidenceError(
      'MANIFEST_UNREADABLE',
      `tarball's ${manifest.path} is a ${manifest.type}, not a file`,
    );
  }
  const bytes = Buffer.concat(manifest.data);
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new EvidenceError('MANIFEST_UNREADABLE', `tarball's ${manifest.path} is larger than 5 MiB`);
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new EvidenceError('MANIFEST_UNREADABLE', `tarball's ${manifest.path} is not JSON`, err);
  }
}

export async function assertManifestNames(tarball: Uint8Array, name: string, version: string): Promise<void> {
  assertManifestMatches(await readTarballManifest(tarball), name, version);
}

export function assertManifestMatches(
  manifest: TarballManifest | undefined,
  name: string,
  version: string,
): void {
  if (manifest?.name !== name || manifest?.version !== version) {
    throw new EvidenceError(
      'MANIFEST_MISMATCH',
      `the tarball's package.json names ${truncate(String(manifest?.name), 100)}@${truncate(String(manifest?.version), 40)}, expected ${name}@${version}`,
    );
  }
}
