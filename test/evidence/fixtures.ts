// Loads the shared fixtures (../shared/fixtures, never copied into the repo) for tests and the bench.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageEvidenceInput } from '../../policy/evidence/verify-package';

const repoRoot = new URL('../..', import.meta.url).pathname;
export const FIXTURES = join(repoRoot, '..', 'shared', 'fixtures');

export function fixturePath(...parts: string[]): string {
  const path = join(FIXTURES, ...parts);
  if (!existsSync(path)) {
    throw new Error(
      `missing fixture ${path}: the shared fixtures must sit beside the repository (../shared/fixtures); see ../shared/README.md`,
    );
  }
  return path;
}

export interface NpmFixture {
  file: string;
  name: string;
  version: string;
  tarball: Buffer;
  integrity: string;
  /** [publish attestation, provenance] as the registry served them */
  attestations: { predicateType: string; bundle: object }[];
}

export const NPM_PACKAGES: [file: string, name: string, version: string][] = [
  ['sigstore-2.3.1', 'sigstore', '2.3.1'],
  ['gundam-visor-1.0.1', 'gundam-visor', '1.0.1'],
  ['laurentsimon-provenance-npm-test-1.0.3', '@laurentsimon/provenance-npm-test', '1.0.3'],
  ['laurentsimon-provenance-npm-test-1.0.5', '@laurentsimon/provenance-npm-test', '1.0.5'],
  ['trishankatdatadog-supreme-goggles-1.0.5', '@trishankatdatadog/supreme-goggles', '1.0.5'],
];

export function integrityOf(bytes: Uint8Array): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

export function loadNpmFixture(file: string): NpmFixture {
  const entry = NPM_PACKAGES.find((p) => p[0] === file);
  if (!entry) throw new Error(`unknown npm fixture ${file}`);
  const tarball = readFileSync(fixturePath('npm-provenance', `${file}.tgz`));
  const { attestations } = JSON.parse(
    readFileSync(fixturePath('npm-provenance', `${file}.attestations.json`), 'utf8'),
  );
  return { file, name: entry[1], version: entry[2], tarball, integrity: integrityOf(tarball), attestations };
}

export function packageInput(
  fixture: NpmFixture,
  overrides: Partial<PackageEvidenceInput> = {},
): PackageEvidenceInput {
  return {
    name: fixture.name,
    version: fixture.version,
    integrity: fixture.integrity,
    tarball: fixture.tarball,
    bundles: fixture.attestations.map((a, i) => ({
      json: JSON.stringify(a.bundle),
      source: `${fixture.file}.attestations.json#${i}`,
    })),
    ...overrides,
  };
}
