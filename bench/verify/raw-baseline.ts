// The raw baseline of `npm run bench verify`: @sigstore/verify 3.1.1 (the version the issue measured
// against), installed on demand into bench/.cache/raw-verify from the manifest and lockfile committed
// next to this file. It is a separate install, not a dependency of Tollgate: an npm alias would put a
// second @sigstore/core and @sigstore/bundle into every `npm ci` of the project for the sake of a
// bench, and the baseline must not share Tollgate's @sigstore/core, whose DER encoder Tollgate
// replaces. The lockfile pins each package by integrity (registry-neutral: no resolved URLs), so every
// machine measures the same code; engines (`^20.17.0 || >=22.9.0`) accept Node 20. Needs the npm
// registry once; later runs reuse the install while the lockfile is unchanged.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { benchRoot } from '../lib/results';

const SOURCE = join(benchRoot, 'verify', 'raw-verify');
const INSTALL = join(benchRoot, '.cache', 'raw-verify');
const FILES = ['package.json', 'package-lock.json'];

export interface RawBaseline {
  /** name@version of each package the baseline loaded, as their package.json say */
  versions: string[];
  /** Verifies one bundle (JSON text) with one Verifier built once; throws if it does not verify. */
  verify(json: string): void;
}

function stampOf(): string {
  const hash = createHash('sha256');
  for (const file of FILES) hash.update(readFileSync(join(SOURCE, file)));
  return hash.digest('hex');
}

function install(): void {
  const stamp = stampOf();
  const stampFile = join(INSTALL, '.installed-from');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
  mkdirSync(INSTALL, { recursive: true });
  for (const file of FILES) copyFileSync(join(SOURCE, file), join(INSTALL, file));
  // npm as `npm run` started it (npm_execpath), else the one on PATH.
  const npmCli = process.env['npm_execpath'];
  const [command, prefix] = npmCli ? [process.execPath, [npmCli]] : ['npm', []];
  console.log(`installing the raw baseline (${FILES.join(', ')} of bench/verify/raw-verify) into ${INSTALL}`);
  const result = spawnSync(command, [...prefix, 'ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: INSTALL,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    throw new Error(
      `installing @sigstore/verify 3.1.1 for the raw baseline failed (npm ci exit ${result.status}); it needs the npm registry once`,
    );
  }
  writeFileSync(stampFile, stamp);
}

interface NpmKey {
  keyId: string;
  keyUsage: string;
  publicKey: { rawBytes: string; validFor: { start: string; end?: string } };
}

/**
 * Loads the baseline with the same trust material Tollgate uses: the public-good trusted root and
 * npm's attestation keys from @sigstore/tuf's seed (passed in as JSON text).
 */
export function loadRawBaseline(trustedRootJson: string, npmKeysJson: string): RawBaseline {
  install();
  const require = createRequire(join(INSTALL, 'package.json'));
  const names = ['@sigstore/verify', '@sigstore/bundle', '@sigstore/core', '@sigstore/protobuf-specs'];
  // Resolution climbs to the repository's own node_modules when a package is missing here: refuse that.
  const versions = names.map((name) => {
    const resolved = require.resolve(name);
    if (!resolved.startsWith(join(INSTALL, 'node_modules'))) {
      throw new Error(`the raw baseline resolved ${name} outside its install: ${resolved}`);
    }
    const manifest = JSON.parse(readFileSync(join(INSTALL, 'node_modules', name, 'package.json'), 'utf8'));
    return `${name}@${manifest.version}`;
  });
  if (!versions.includes('@sigstore/verify@3.1.1')) {
    throw new Error(`the raw baseline loaded ${versions.join(', ')}, expected @sigstore/verify@3.1.1`);
  }
  const { bundleFromJSON } = require('@sigstore/bundle');
  const { TrustedRoot } = require('@sigstore/protobuf-specs');
  const { toSignedEntity, toTrustMaterial, Verifier } = require('@sigstore/verify');
  const keys = (JSON.parse(npmKeysJson) as { keys: NpmKey[] }).keys;
  const byHint = Object.fromEntries(
    keys
      .filter((k) => k.keyUsage === 'npm:attestations')
      .map((k) => [
        k.keyId,
        {
          rawBytes: Buffer.from(k.publicKey.rawBytes, 'base64'),
          keyDetails: 5, // PKIX_ECDSA_P256_SHA_256
          validFor: {
            start: new Date(k.publicKey.validFor.start),
            end: k.publicKey.validFor.end ? new Date(k.publicKey.validFor.end) : undefined,
          },
        },
      ]),
  );
  const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(trustedRootJson)), byHint));
  return {
    versions,
    verify(json) {
      verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(json))));
    },
  };
}
