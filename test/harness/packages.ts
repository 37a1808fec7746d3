import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create as createTar } from 'tar';
import { tempDir } from './paths';

export interface PackageSpec {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  /**
   * A postinstall script that writes a marker file named `<name>@<version>` (scopes flattened)
   * into this directory: its presence proves that the package's code ran.
   */
  postinstallMarkerDir?: string;
  /** Extra files (path relative to the package root -> content). */
  files?: Record<string, string>;
  /** Fields merged into package.json in both the registry's metadata and the tarball (os, cpu, ...). */
  manifestFields?: Record<string, unknown>;
  optionalDependencies?: Record<string, string>;
  /** Fields merged into package.json inside the tarball only (for manifest-confusion cases). */
  tarballManifestOverrides?: Record<string, unknown>;
}

export interface BuiltPackage {
  name: string;
  version: string;
  /** the manifest the registry is told about */
  manifest: Record<string, unknown>;
  tarball: Buffer;
  /** "sha512-<base64>" of the tarball */
  integrity: string;
  shasum: string;
}

export function markerName(name: string, version: string): string {
  return `${name.replace('/', '+')}@${version}`;
}

/** Builds a real npm tarball (gzipped tar with a `package/` prefix) for a throwaway package. */
export async function buildPackage(spec: PackageSpec): Promise<BuiltPackage> {
  const manifest: Record<string, unknown> = {
    name: spec.name,
    version: spec.version,
    description: `test package ${spec.name}`,
    main: 'index.js',
    license: 'MIT',
  };
  if (spec.dependencies) manifest.dependencies = spec.dependencies;
  if (spec.optionalDependencies) manifest.optionalDependencies = spec.optionalDependencies;
  Object.assign(manifest, spec.manifestFields);
  const files: Record<string, string> = {
    'index.js': `module.exports = ${JSON.stringify(`${spec.name}@${spec.version}`)};\n`,
    ...spec.files,
  };
  if (spec.postinstallMarkerDir) {
    const marker = join(spec.postinstallMarkerDir, markerName(spec.name, spec.version));
    files['postinstall.js'] =
      `require('fs').mkdirSync(${JSON.stringify(spec.postinstallMarkerDir)}, {recursive: true});\n` +
      `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`;
    manifest.scripts = { postinstall: 'node postinstall.js' };
  }
  const tarballManifest = { ...manifest, ...spec.tarballManifestOverrides };
  const tarball = await packFiles({
    'package.json': `${JSON.stringify(tarballManifest, null, 2)}\n`,
    ...files,
  });
  return {
    name: spec.name,
    version: spec.version,
    manifest,
    tarball,
    integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
    shasum: createHash('sha1').update(tarball).digest('hex'),
  };
}

async function packFiles(files: Record<string, string>): Promise<Buffer> {
  const dir = tempDir('pack');
  try {
    for (const [path, content] of Object.entries(files)) {
      const full = join(dir, 'package', path);
      mkdirSync(join(full, '..'), { recursive: true });
      writeFileSync(full, content);
    }
    const chunks: Buffer[] = [];
    const stream = createTar(
      { gzip: true, cwd: dir, portable: true, mtime: new Date('2020-01-01T00:00:00Z') },
      ['package'],
    );
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
