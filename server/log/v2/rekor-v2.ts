// The Rekor v2 log: its own Merkle tree (a LogStore in <data>/tlog-v2, append-only and crash-safe
// like the v1 log), its own ECDSA P-256 key (log ID = SHA-256 of the SPKI, as rekor-tiles for ECDSA),
// and C2SP checkpoints signed by the host it is served on (so they verify whatever port it gets).
//
// Writes answer a TransparencyLogEntry with a checkpoint-only inclusion proof: no SET, integratedTime
// 0 (a timestamp authority supplies signed time). Reads are C2SP tlog-tiles: /checkpoint,
// /tile/<L>/<N>[.p/<W>] (hashes at tree height 8·L) and /tile/entries/<N>[.p/<W>] (canonical bodies,
// each prefixed by its big-endian uint16 length).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../../durable-files';
import { ConfigError, ServerError } from '../../errors';
import type { SigningKey } from '../../instance';
import { CheckpointSigner } from '../checkpoint';
import { inclusionProof, rootHash } from '../merkle';
import type { LogStore } from '../store';
import type { SignatureVerifier } from '../verify-pool';
import { canonicalizeV2Request } from './entries';

export const TILE_WIDTH = 256;

export interface V2Key {
  key: SigningKey;
  /** when the key was made: the start of its validity in the trusted root */
  createdAt: Date;
}

/** The v2 log's key, created once in <data>/keys (0600, like every key there). */
export function loadOrCreateV2Key(dataDir: string): V2Key {
  const keysDir = join(dataDir, 'keys');
  const path = join(keysDir, 'tlog-v2.key.pem');
  const meta = join(keysDir, 'tlog-v2.json');
  if (!existsSync(path)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileDurably(path, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    writeFileDurably(
      meta,
      `${JSON.stringify({ createdAt: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString() })}\n`,
    );
  }
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077)
    throw new ConfigError(
      `${path} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
    );
  let createdAt: Date;
  try {
    createdAt = new Date(JSON.parse(readFileSync(meta, 'utf8')).createdAt);
    if (Number.isNaN(createdAt.getTime())) throw new Error('no createdAt');
  } catch {
    throw new ConfigError(`${meta} lacks a valid createdAt: restore it from backup`);
  }
  const privateKey = createPrivateKey(readFileSync(path, 'utf8'));
  const publicKey = createPublicKey(privateKey);
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return {
    key: { privateKey, publicKey, spki, keyId: createHash('sha256').update(spki).digest() },
    createdAt,
  };
}

const u64 = (n: number) => String(n);

export class RekorV2Log {
  readonly checkpoints: CheckpointSigner;

  constructor(
    private readonly store: LogStore,
    private readonly key: SigningKey,
    /** the checkpoints' first line */
    readonly origin: string,
    /** the checkpoints' signer: the host the log is served on, contained in the trusted root's baseUrl whatever the port */
    signerName: string,
    private readonly signatures: SignatureVerifier,
  ) {
    this.checkpoints = new CheckpointSigner(origin, signerName, key);
  }

  get size(): number {
    return this.store.size;
  }

  /** POST /api/v2/log/entries: verifies, appends, waits for the commit, answers the entry. */
  async add(request: unknown): Promise<Record<string, unknown>> {
    const canonical = await canonicalizeV2Request(request, this.signatures);
    const stored = await this.store.append({ body: canonical.body, searchKeys: canonical.searchKeys });
    if (stored.existing) {
      throw new ServerError(
        409,
        'ENTRY_EXISTS',
        `an equivalent entry already exists in the log at index ${stored.index}`,
      );
    }
    const size = this.store.size;
    const root = rootHash(this.store.merkle, size);
    return {
      logIndex: u64(stored.index),
      logId: { keyId: this.key.keyId.toString('base64') },
      kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
      integratedTime: '0',
      inclusionProof: {
        logIndex: u64(stored.index),
        rootHash: root.toString('base64'),
        treeSize: u64(size),
        hashes: inclusionProof(this.store.merkle, stored.index, size).map((h) => h.toString('base64')),
        checkpoint: { envelope: this.checkpoints.sign(size, root) },
      },
      canonicalizedBody: canonical.body.toString('base64'),
    };
  }

  checkpoint(): string {
    const size = this.store.size;
    return this.checkpoints.sign(size, rootHash(this.store.merkle, size));
  }

  /** A hash tile: the nodes at height 8·level, indexes [index·256, index·256 + width). */
  tile(level: number, index: number, width: number | undefined): Buffer {
    const height = 8 * level;
    const nodes = Math.floor(this.store.size / 2 ** height);
    const w = this.widthOf(nodes, index, width);
    const out = Buffer.alloc(32 * w);
    for (let i = 0; i < w; i++) this.store.merkle.node(height, index * TILE_WIDTH + i).copy(out, 32 * i);
    return out;
  }

  /** An entry bundle: the canonical bodies of entries [index·256, index·256 + width). */
  entries(index: number, width: number | undefined): Buffer {
    const w = this.widthOf(this.store.size, index, width);
    const parts: Buffer[] = [];
    for (let i = 0; i < w; i++) {
      const body = this.store.read(index * TILE_WIDTH + i).body;
      const length = Buffer.alloc(2);
      length.writeUInt16BE(body.length);
      parts.push(length, body);
    }
    return Buffer.concat(parts);
  }

  private widthOf(count: number, index: number, width: number | undefined): number {
    const full = Math.floor(count / TILE_WIDTH);
    if (width === undefined) {
      if (index >= full)
        throw new ServerError(404, 'NOT_FOUND', `tile ${index} is not full (yet); ask for a partial tile`);
      return TILE_WIDTH;
    }
    // A partial tile exists for the last, incomplete tile only, and only at its current width or less.
    const partial = count % TILE_WIDTH;
    if (index !== full || width > partial) {
      throw new ServerError(
        404,
        'NOT_FOUND',
        index < full ? `tile ${index} is full; ask for it without .p/` : `no such partial tile`,
      );
    }
    return width;
  }
}

/** Parses a C2SP tile index path: x001/x234/067 → 1234067. */
export function parseTileIndex(path: string): number | null {
  const parts = path.split('/');
  if (parts.length === 0 || parts.length > 5) return null;
  let n = 0;
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    const m = (last ? /^(\d{3})$/ : /^x(\d{3})$/).exec(parts[i]!);
    if (!m) return null;
    n = n * 1000 + Number(m[1]);
  }
  return n;
}
