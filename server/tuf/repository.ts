// tollgate-server's TUF repository: how a private instance distributes its trusted_root.json and
// signing_config.v0.2.json the way Sigstore does (root, targets, snapshot and timestamp roles, each
// with its own ECDSA P-256 key, consistent snapshots), built with @tufjs/models.
//
// On disk:
//   <data>/keys/tuf/<role>.key.pem   the role keys, 0600 in the 0700 keys folder, like the CA's
//   <data>/tuf/N.root.json           every root version (clients walk them one by one)
//   <data>/tuf/N.targets.json, N.snapshot.json, timestamp.json
//   <data>/tuf/targets/<sha256>.<name>
//   <data>/tuf/repository.json       versions and the digest of the published targets
//
// Expiry: root 1 year, targets 90 days, snapshot 7 days, timestamp 1 day. refresh() re-signs whatever
// is past half its lifetime (the server calls it on start and before serving timestamp.json), and
// publishes new targets when their content changed. rotateKey() replaces one role's key: the new root
// version is signed by the old root key and, for a root rotation, by the new one too, so clients
// that trust the old root follow it.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { json } from '@sigstore/core';
import {
  Key,
  Metadata,
  MetaFile,
  Root,
  Signature,
  Snapshot,
  TargetFile,
  Targets,
  Timestamp,
} from '@tufjs/models';
import { writeFileDurably } from '../durable-files';
import { ConfigError } from '../errors';

export const TUF_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
export type TufRole = (typeof TUF_ROLES)[number];

const SPEC_VERSION = '1.0.31';
const DAY = 86_400_000;
export const LIFETIME_MS: Record<TufRole, number> = {
  root: 365 * DAY,
  targets: 90 * DAY,
  snapshot: 7 * DAY,
  timestamp: DAY,
};

interface RoleKey {
  privateKey: KeyObject;
  key: Key;
}

interface RepositoryState {
  root: number;
  targets: number;
  snapshot: number;
  timestamp: number;
  /** sha256 over the published targets' names and digests */
  targetsDigest: string;
}

function roleKey(privateKey: KeyObject): RoleKey {
  const pem = createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString();
  const keyJson = { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: pem } };
  const keyID = createHash('sha256').update(json.canonicalize(keyJson)).digest('hex');
  return {
    privateKey,
    key: new Key({ keyID, keyType: keyJson.keytype, scheme: keyJson.scheme, keyVal: keyJson.keyval }),
  };
}

function signWith(md: Metadata<Root | Targets | Snapshot | Timestamp>, keys: RoleKey[]): void {
  for (const k of keys) {
    md.sign(
      (bytes) =>
        new Signature({ keyID: k.key.keyID, sig: sign('sha256', bytes, k.privateKey).toString('hex') }),
    );
  }
}

const expiresAt = (now: Date, role: TufRole) =>
  new Date(Math.floor((now.getTime() + LIFETIME_MS[role]) / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** Past half its lifetime (or expired): time to re-sign. */
function due(expires: string, role: TufRole, now: Date): boolean {
  return Date.parse(expires) - now.getTime() < LIFETIME_MS[role] / 2;
}

const bytesOf = (md: Metadata<Root | Targets | Snapshot | Timestamp>) =>
  Buffer.from(JSON.stringify(md.toJSON()));

export class TufRepository {
  private state: RepositoryState;

  private constructor(
    readonly dir: string,
    private readonly keysDir: string,
    private keys: Record<TufRole, RoleKey>,
    state: RepositoryState | null,
  ) {
    this.state = state ?? { root: 0, targets: 0, snapshot: 0, timestamp: 0, targetsDigest: '' };
  }

  /** Opens the repository of a data folder, creating its keys and first root when missing. */
  static open(dataDir: string): TufRepository {
    const keysDir = join(dataDir, 'keys', 'tuf');
    const dir = join(dataDir, 'tuf');
    const keysParent = join(dataDir, 'keys');
    if (existsSync(keysParent) && statSync(keysParent).mode & 0o077) {
      throw new ConfigError(`${keysParent} is accessible to other users; run: chmod 700 ${keysParent}`);
    }
    mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    mkdirSync(join(dir, 'targets'), { recursive: true, mode: 0o700 });
    const keys = {} as Record<TufRole, RoleKey>;
    let created = false;
    for (const role of TUF_ROLES) {
      const path = join(keysDir, `${role}.key.pem`);
      if (!existsSync(path)) {
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        writeFileDurably(path, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
        created = true;
      }
      keys[role] = roleKey(readKey(path));
    }
    let state: RepositoryState | null = null;
    const statePath = join(dir, 'repository.json');
    if (existsSync(statePath)) {
      try {
        state = JSON.parse(readFileSync(statePath, 'utf8')) as RepositoryState;
      } catch {
        throw new ConfigError(`${statePath} is not valid JSON: restore the data folder from backup`);
      }
      for (const field of ['root', 'targets', 'snapshot', 'timestamp'] as const) {
        if (!Number.isInteger(state[field]) || state[field] < 0)
          throw new ConfigError(`${statePath}: "${field}" is not a version number: restore it from backup`);
      }
    } else if (!created && existsSync(join(dir, '1.root.json'))) {
      throw new ConfigError(`${statePath} is missing but ${dir} has metadata: restore it from backup`);
    }
    const repo = new TufRepository(dir, keysDir, keys, state);
    if (repo.state.root === 0) repo.writeRoot([repo.keys.root], new Date());
    return repo;
  }

  get rootVersion(): number {
    return this.state.root;
  }

  /** The current root.json: what a client commits as the start of its chain (or 1.root.json). */
  rootJson(version = this.state.root): Buffer {
    return readFileSync(join(this.dir, `${version}.root.json`));
  }

  private saveState(): void {
    writeFileDurably(join(this.dir, 'repository.json'), `${JSON.stringify(this.state, null, 2)}\n`);
  }

  private writeRoot(signers: RoleKey[], now: Date): void {
    const version = this.state.root + 1;
    const root = new Root({
      version,
      specVersion: SPEC_VERSION,
      expires: expiresAt(now, 'root'),
      consistentSnapshot: true,
    });
    for (const role of TUF_ROLES) root.addKey(this.keys[role].key, role);
    const md = new Metadata(root);
    signWith(md, signers);
    writeFileDurably(join(this.dir, `${version}.root.json`), bytesOf(md));
    this.state.root = version;
    this.saveState();
  }

  private current<T extends Targets | Snapshot | Timestamp>(file: string): Metadata<T> | null {
    try {
      const data = JSON.parse(readFileSync(join(this.dir, file), 'utf8'));
      const kind = file.endsWith('targets.json')
        ? 'targets'
        : file.endsWith('snapshot.json')
          ? 'snapshot'
          : 'timestamp';
      return Metadata.fromJSON(kind as never, data) as unknown as Metadata<T>;
    } catch {
      return null;
    }
  }

  /**
   * Publishes these targets (name → bytes) if they differ from the published ones, and re-signs every
   * role past half its lifetime. Returns whether anything was signed.
   */
  refresh(targets: Record<string, Buffer> | null, now = new Date()): boolean {
    let changed = false;
    const digest = targets
      ? createHash('sha256')
          .update(
            JSON.stringify(
              Object.entries(targets)
                .sort(([a], [b]) => (a < b ? -1 : 1))
                .map(([n, b]) => [n, createHash('sha256').update(b).digest('hex')]),
            ),
          )
          .digest('hex')
      : this.state.targetsDigest;
    const rootMd = JSON.parse(this.rootJson().toString('utf8')) as { signed: { expires: string } };
    if (due(rootMd.signed.expires, 'root', now)) {
      this.writeRoot([this.keys.root], now);
      changed = true;
    }
    const oldTargets = this.state.targets
      ? this.current<Targets>(`${this.state.targets}.targets.json`)
      : null;
    if (
      targets &&
      (digest !== this.state.targetsDigest || !oldTargets || due(oldTargets.signed.expires, 'targets', now))
    ) {
      this.writeTargets(targets, now);
      this.state.targetsDigest = digest;
      changed = true;
    } else if (!targets && oldTargets && due(oldTargets.signed.expires, 'targets', now)) {
      this.writeTargets(this.publishedTargets(), now);
      changed = true;
    }
    const snapshot = this.state.snapshot
      ? this.current<Snapshot>(`${this.state.snapshot}.snapshot.json`)
      : null;
    if (
      this.state.targets &&
      (changed ||
        !snapshot ||
        snapshot.signed.meta['targets.json']?.version !== this.state.targets ||
        due(snapshot.signed.expires, 'snapshot', now))
    ) {
      this.writeSnapshot(now);
      changed = true;
    }
    const timestamp = this.state.timestamp ? this.current<Timestamp>('timestamp.json') : null;
    if (
      this.state.snapshot &&
      (changed ||
        !timestamp ||
        timestamp.signed.snapshotMeta.version !== this.state.snapshot ||
        due(timestamp.signed.expires, 'timestamp', now))
    ) {
      writeFileDurably(
        join(this.dir, 'timestamp.json'),
        this.signTimestamp({ version: this.state.timestamp + 1, expires: expiresAt(now, 'timestamp') }),
      );
      this.state.timestamp += 1;
      changed = true;
    }
    if (changed) this.saveState();
    return changed;
  }

  private publishedTargets(): Record<string, Buffer> {
    const md = this.current<Targets>(`${this.state.targets}.targets.json`);
    const out: Record<string, Buffer> = {};
    for (const [name, info] of Object.entries(md?.signed.targets ?? {})) {
      out[name] = readFileSync(join(this.dir, 'targets', `${info.hashes.sha256}.${name}`));
    }
    return out;
  }

  private writeTargets(targets: Record<string, Buffer>, now: Date): void {
    const version = this.state.targets + 1;
    const md = new Metadata(
      new Targets({ version, specVersion: SPEC_VERSION, expires: expiresAt(now, 'targets') }),
    );
    for (const [name, bytes] of Object.entries(targets)) {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      writeFileDurably(join(this.dir, 'targets', `${sha256}.${name}`), bytes, 0o644);
      md.signed.addTarget(new TargetFile({ path: name, length: bytes.length, hashes: { sha256 } }));
    }
    signWith(md, [this.keys.targets]);
    writeFileDurably(join(this.dir, `${version}.targets.json`), bytesOf(md));
    this.state.targets = version;
  }

  private writeSnapshot(now: Date): void {
    const version = this.state.snapshot + 1;
    const md = new Metadata(
      new Snapshot({
        version,
        specVersion: SPEC_VERSION,
        expires: expiresAt(now, 'snapshot'),
        meta: { 'targets.json': new MetaFile({ version: this.state.targets }) },
      }),
    );
    signWith(md, [this.keys.snapshot]);
    writeFileDurably(join(this.dir, `${version}.snapshot.json`), bytesOf(md));
    this.state.snapshot = version;
  }

  /**
   * A timestamp over the current snapshot, signed with the timestamp key. Exposed so that tests can
   * produce what a freeze attacker replays: a genuine timestamp whose expiry has passed.
   */
  signTimestamp(options: { version: number; expires: string }): Buffer {
    const snapshotBytes = readFileSync(join(this.dir, `${this.state.snapshot}.snapshot.json`));
    const md = new Metadata(
      new Timestamp({
        version: options.version,
        specVersion: SPEC_VERSION,
        expires: options.expires,
        snapshotMeta: new MetaFile({
          version: this.state.snapshot,
          length: snapshotBytes.length,
          hashes: { sha256: createHash('sha256').update(snapshotBytes).digest('hex') },
        }),
      }),
    );
    signWith(md, [this.keys.timestamp]);
    return bytesOf(md);
  }

  /**
   * Replaces one role's key. The new root version lists it and is signed by the outgoing root key
   * (and, when the root key itself is replaced, by the new one too). The role's metadata is re-signed
   * with the new key on the next refresh.
   */
  rotateKey(role: TufRole, now = new Date()): { rootVersion: number; keyId: string } {
    const outgoing = this.keys.root;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const path = join(this.keysDir, `${role}.key.pem`);
    const next = roleKey(privateKey);
    // The old key is kept beside the new one until the new root is written (a crash in between
    // leaves both, and the operator can finish or undo the rotation).
    writeFileDurably(`${path}.previous-v${this.state.root}`, pemOf(this.keys[role].privateKey));
    writeFileDurably(path, pemOf(privateKey));
    this.keys[role] = next;
    this.writeRoot(role === 'root' ? [outgoing, next] : [outgoing], now);
    // Force the other roles to be signed again under the new root (a rotated key's old signatures no longer count).
    if (role === 'targets') this.writeTargets(this.publishedTargets(), now);
    if (role === 'targets' || role === 'snapshot') this.writeSnapshot(now);
    if (this.state.snapshot) {
      writeFileDurably(
        join(this.dir, 'timestamp.json'),
        this.signTimestamp({ version: this.state.timestamp + 1, expires: expiresAt(now, 'timestamp') }),
      );
      this.state.timestamp += 1;
    }
    this.saveState();
    return { rootVersion: this.state.root, keyId: next.key.keyID };
  }

  /** The bytes of a repository file a client may ask for, or null. */
  file(name: string): Buffer | null {
    if (
      !/^(?:\d{1,9}\.(?:root|targets|snapshot)\.json|timestamp\.json|targets\/[0-9a-f]{64}\.[A-Za-z0-9._-]{1,100})$/.test(
        name,
      )
    )
      return null;
    const path = join(this.dir, name);
    try {
      return readFileSync(path);
    } catch {
      return null;
    }
  }

  /** Every file name the repository currently serves (for tests and `verify`). */
  files(): string[] {
    return [
      ...readdirSync(this.dir).filter((f) => f.endsWith('.json') && f !== 'repository.json'),
      ...readdirSync(join(this.dir, 'targets')).map((f) => `targets/${f}`),
    ];
  }
}

function pemOf(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

function readKey(path: string): KeyObject {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077)
    throw new ConfigError(
      `${path} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
    );
  try {
    return createPrivateKey(readFileSync(path, 'utf8'));
  } catch {
    throw new ConfigError(`${path} is not a private key: restore it from backup`);
  }
}
