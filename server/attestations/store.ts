// npm-style attestation store: GET /-/npm/v1/attestations/{name}@{version} answers
// {"attestations":[{predicateType, bundle}]}; PUT/POST adds a bundle after verifying it against
// this instance's own trusted root and checking that its in-toto subject names that package
// version. One file per package version, replaced atomically (write, fsync, rename, fsync dir).
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { json } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import semver from 'semver';
import { badRequest, notFound, ServerError } from '../errors';

export interface Attestation {
  predicateType: string;
  bundle: Record<string, unknown>;
}

export interface PackageVersion {
  name: string;
  version: string;
}

const IN_TOTO = 'application/vnd.in-toto+json';
const NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

/** Parses the `{name}@{version}` path segment; scoped names arrive as `@scope%2fname` or `@scope/name`. */
export function parsePackageSpec(raw: string): PackageVersion {
  let spec: string;
  try {
    spec = decodeURIComponent(raw);
  } catch {
    throw badRequest(`"${raw}" is not a valid URL-encoded package spec`);
  }
  const at = spec.lastIndexOf('@');
  if (at <= 0) throw badRequest(`"${spec}" must be <name>@<version>`);
  const name = spec.slice(0, at);
  const version = spec.slice(at + 1);
  if (name.length > 214 || !NAME.test(name)) throw badRequest(`"${name}" is not a valid npm package name`);
  if (semver.valid(version) !== version) throw badRequest(`"${version}" is not a valid semver version`);
  return { name, version };
}

/** The purl an npm provenance statement uses as subject name (`%40` for a scope's `@`). */
export function npmPurl({ name, version }: PackageVersion): string {
  return `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${version}`;
}

const invalidBundle = (message: string) => new ServerError(400, 'INVALID_BUNDLE', message);

export class AttestationStore {
  private readonly dir: string;
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    dataDir: string,
    private readonly trustedRootJson: () => Record<string, unknown>,
  ) {
    this.dir = join(dataDir, 'attestations');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private file(pkg: PackageVersion): string {
    return join(this.dir, `${encodeURIComponent(`${pkg.name}@${pkg.version}`)}.json`);
  }

  list(pkg: PackageVersion): Attestation[] {
    const file = this.file(pkg);
    if (!existsSync(file)) throw notFound(`no attestations for ${pkg.name}@${pkg.version}`);
    return (JSON.parse(readFileSync(file, 'utf8')) as { attestations: Attestation[] }).attestations;
  }

  /** Verifies and stores a bundle; resolves to whether it was new (false: identical one already stored). */
  async add(pkg: PackageVersion, body: unknown): Promise<{ created: boolean; attestation: Attestation }> {
    const attestation = this.verify(pkg, body);
    const key = this.file(pkg);
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(() => this.store(pkg, attestation));
    this.locks.set(
      key,
      run.catch(() => undefined),
    );
    return run;
  }

  private store(
    pkg: PackageVersion,
    attestation: Attestation,
  ): { created: boolean; attestation: Attestation } {
    const file = this.file(pkg);
    const existing = existsSync(file) ? this.list(pkg) : [];
    const same = existing.find((a) => a.predicateType === attestation.predicateType);
    if (same) {
      if (json.canonicalize(same.bundle) === json.canonicalize(attestation.bundle))
        return { created: false, attestation };
      throw new ServerError(
        409,
        'CONFLICT',
        `${pkg.name}@${pkg.version} already has a different ${attestation.predicateType} attestation; versions are immutable`,
      );
    }
    const content = `${JSON.stringify({ attestations: [...existing, attestation] })}\n`;
    const tmp = `${file}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    return { created: true, attestation };
  }

  private verify(pkg: PackageVersion, body: unknown): Attestation {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw invalidBundle('the request body must be a Sigstore bundle (or {"bundle": <bundle>})');
    }
    const candidate = (body as Record<string, unknown>)['bundle'] ?? body;
    let bundle: ReturnType<typeof bundleFromJSON>;
    try {
      bundle = bundleFromJSON(candidate);
    } catch (err) {
      throw invalidBundle(`the body is not a valid Sigstore bundle: ${(err as Error).message}`);
    }
    if (bundle.content.$case !== 'dsseEnvelope' || bundle.content.dsseEnvelope.payloadType !== IN_TOTO) {
      throw invalidBundle('attestations must be DSSE bundles with payloadType application/vnd.in-toto+json');
    }
    try {
      const trust = toTrustMaterial(TrustedRoot.fromJSON(this.trustedRootJson()));
      new Verifier(trust).verify(toSignedEntity(bundle));
    } catch (err) {
      throw invalidBundle(
        `the bundle does not verify against this server's trusted root: ${(err as Error).message}`,
      );
    }
    let statement: { predicateType?: unknown; subject?: unknown };
    try {
      statement = JSON.parse(bundle.content.dsseEnvelope.payload.toString('utf8'));
    } catch {
      throw invalidBundle('the DSSE payload is not a JSON in-toto statement');
    }
    if (typeof statement.predicateType !== 'string' || statement.predicateType === '') {
      throw invalidBundle('the in-toto statement has no predicateType');
    }
    const purl = npmPurl(pkg);
    const subjects = Array.isArray(statement.subject) ? statement.subject : [];
    if (!subjects.some((s) => (s as { name?: unknown })?.name === purl)) {
      throw new ServerError(
        400,
        'SUBJECT_MISMATCH',
        `the attestation's subject does not name ${purl}; attach it to the package version it describes`,
      );
    }
    return { predicateType: statement.predicateType, bundle: candidate as Record<string, unknown> };
  }
}
