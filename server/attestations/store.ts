// npm-style attestation store: GET /-/npm/v1/attestations/{name}@{version} answers
// {"attestations":[{predicateType, bundle, attachedBy, attachedAt, signer}, ...]}; PUT/POST adds a
// bundle once it has passed BundleChecker. POST /-/tollgate/v1/attestations answers the same for many
// versions at once (an install asks for every package of its lockfile).
//
// Every verified bundle is kept, in the order attached, deduplicated by its canonical JSON. Keeping
// only the first one per predicate type let whoever attached first decide what a version's
// evidence is: a bundle for other bytes made the version unverifiable and the real publisher's
// upload fail. Verifiers (the Tollgate gate) check each bundle on its own against the tarball.
//
// Layout: <data>/attestations/<sha256(name@version)>/ holds version.json ({name, version}) and one
// file per bundle, <sequence>-<sha256 of the canonical bundle>.json; hashed names never overflow a
// file name, whatever the package name and version. Every file is written durably (write, fsync,
// rename, fsync the folder). Folders of the first layout (one <name@version>.json per version)
// are converted on start.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { json } from '@sigstore/core';
import { mkdirDurably, writeFileDurably } from '../durable-files';
import { notFound, ServerError } from '../errors';
import { BundleChecker, type CheckedBundle } from './bundle-check';
import type { PackageVersion } from './package-spec';

export { npmPurl, type PackageVersion, parsePackageSpec } from './package-spec';

/** Who attached a bundle: the connection's peer and how it was authorized. */
export interface Attacher {
  via: 'loopback' | 'token' | 'unknown';
  peer: string;
}

export interface Attestation {
  predicateType: string;
  bundle: Record<string, unknown>;
  attachedBy: Attacher;
  attachedAt: string;
  /** The identity the bundle verified as when it was attached. */
  signer: CheckedBundle['signer'];
}

export interface AttestationLimits {
  /** Bundles kept per package version. */
  perVersion: number;
  /** Bytes of stored records per package version. */
  bytesPerVersion: number;
}

export const ATTESTATION_LIMITS: AttestationLimits = { perVersion: 100, bytesPerVersion: 32 * 1024 * 1024 };

const RECORD = /^(\d{6})-([0-9a-f]{64})\.json$/;

function versionKey(pkg: PackageVersion): string {
  return createHash('sha256').update(`${pkg.name}@${pkg.version}`).digest('hex');
}

function bundleDigest(bundle: unknown): string {
  return createHash('sha256').update(json.canonicalize(bundle)).digest('hex');
}

export class AttestationStore {
  private readonly dir: string;
  private readonly checker: BundleChecker;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    dataDir: string,
    trustedRootJson: () => Record<string, unknown>,
    log: (message: string) => void = () => {},
    private readonly limits: AttestationLimits = ATTESTATION_LIMITS,
  ) {
    this.dir = join(dataDir, 'attestations');
    mkdirDurably(this.dir);
    this.checker = new BundleChecker(trustedRootJson);
    this.convertFirstLayout(log);
  }

  private versionDir(pkg: PackageVersion): string {
    return join(this.dir, versionKey(pkg));
  }

  private records(dir: string): { file: string; digest: string }[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .map((file) => RECORD.exec(file))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => a[1]!.localeCompare(b[1]!))
      .map((m) => ({ file: join(dir, m[0]), digest: m[2]! }));
  }

  list(pkg: PackageVersion): Attestation[] {
    const records = this.records(this.versionDir(pkg));
    if (records.length === 0) throw notFound(`no attestations for ${pkg.name}@${pkg.version}`);
    return records.map((r) => JSON.parse(readFileSync(r.file, 'utf8')) as Attestation);
  }

  /**
   * Every stored attestation of each version, in the order asked (none: an empty list), while their
   * stored records fit in `maxBytes`: the versions after the first that does not fit are left out,
   * to be asked one by one (a version may hold up to `bytesPerVersion`).
   */
  listMany(pkgs: readonly PackageVersion[], maxBytes: number): Attestation[][] {
    const answers: Attestation[][] = [];
    let used = 0;
    for (const pkg of pkgs) {
      const records = this.records(this.versionDir(pkg));
      used += records.reduce((sum, r) => sum + statSync(r.file).size, 0);
      if (used > maxBytes && answers.length > 0) break;
      answers.push(records.map((r) => JSON.parse(readFileSync(r.file, 'utf8')) as Attestation));
    }
    return answers;
  }

  /**
   * Checks and stores a bundle. `created` is false when the identical bundle was already stored
   * (the stored record is returned then).
   */
  async add(
    pkg: PackageVersion,
    body: unknown,
    attachedBy: Attacher,
  ): Promise<{ created: boolean; attestation: Attestation }> {
    const checked = this.checker.check(pkg, body);
    // Attachments to one version are serialised so that sequence numbers and limits hold; other
    // versions proceed independently.
    const key = versionKey(pkg);
    const run = (this.queues.get(key) ?? Promise.resolve()).then(() => this.store(pkg, checked, attachedBy));
    const settled = run.catch(() => undefined);
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return run;
  }

  private store(
    pkg: PackageVersion,
    checked: CheckedBundle,
    attachedBy: Attacher,
    attachedAt = new Date().toISOString(),
  ): { created: boolean; attestation: Attestation } {
    const dir = this.versionDir(pkg);
    const records = this.records(dir);
    const digest = bundleDigest(checked.bundle);
    const same = records.find((r) => r.digest === digest);
    if (same) return { created: false, attestation: JSON.parse(readFileSync(same.file, 'utf8')) };
    const attestation: Attestation = {
      predicateType: checked.predicateType,
      bundle: checked.bundle,
      attachedBy,
      attachedAt,
      signer: checked.signer,
    };
    const content = `${JSON.stringify(attestation)}\n`;
    const used = records.reduce((sum, r) => sum + statSync(r.file).size, 0);
    const { perVersion, bytesPerVersion } = this.limits;
    if (records.length >= perVersion || used + content.length > bytesPerVersion) {
      throw new ServerError(
        409,
        'TOO_MANY_ATTESTATIONS',
        `${pkg.name}@${pkg.version} already has ${records.length} attestations (${used} bytes); ` +
          `a version keeps at most ${perVersion} and ${bytesPerVersion} bytes`,
      );
    }
    if (records.length === 0) {
      mkdirDurably(dir);
      writeFileDurably(
        join(dir, 'version.json'),
        `${JSON.stringify({ name: pkg.name, version: pkg.version })}\n`,
      );
    }
    const sequence = String(records.length).padStart(6, '0');
    writeFileDurably(join(dir, `${sequence}-${digest}.json`), content);
    return { created: true, attestation };
  }

  // The first layout kept one <encodeURIComponent(name@version)>.json per version holding
  // {"attestations":[{predicateType, bundle}]}, already verified when stored. Each is rewritten in
  // the current layout (its attacher unknown, its time the file's), then removed.
  private convertFirstLayout(log: (message: string) => void): void {
    const legacy = readdirSync(this.dir).filter((f) => f.endsWith('.json'));
    for (const file of legacy) {
      const path = join(this.dir, file);
      const spec = decodeURIComponent(file.slice(0, -'.json'.length));
      const at = spec.lastIndexOf('@');
      const pkg = { name: spec.slice(0, at), version: spec.slice(at + 1) };
      const { attestations } = JSON.parse(readFileSync(path, 'utf8')) as {
        attestations: { predicateType: string; bundle: Record<string, unknown> }[];
      };
      const attachedAt = statSync(path).mtime.toISOString();
      for (const { predicateType, bundle } of attestations) {
        this.store(
          pkg,
          { predicateType, bundle, signer: { subjectAlternativeName: null, issuer: null } },
          { via: 'unknown', peer: 'unknown (attached before tollgate-server recorded attachments)' },
          attachedAt,
        );
      }
      rmSync(path);
      log(`attestations: converted ${file} to the current layout (${attestations.length} bundles)`);
    }
  }
}
