// The Rekor v1 transparency log: accepts proposed entries (after verifying their signatures),
// stores Rekor's canonical body durably, and answers with signed entry timestamps, inclusion
// proofs and signed checkpoints that unmodified sigstore clients put into bundles.
import { sign } from 'node:crypto';
import { json } from '@sigstore/core';
import { badRequest, notFound, ServerError } from '../errors';
import type { SigningKey } from '../instance';
import type { CheckpointSigner } from './checkpoint';
import { canonicalizeProposedEntry } from './kinds';
import { consistencyProof, hashLeaf, inclusionProof, rootHash } from './merkle';
import { SetCache } from './set-cache';
import type { LogStore, StoredEntry } from './store';
import { inlineSignatureVerifier, type SignatureVerifier } from './verify-pool';

export interface RekorEntry {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification: {
    signedEntryTimestamp: string;
    inclusionProof: {
      logIndex: number;
      treeSize: number;
      rootHash: string;
      hashes: string[];
      checkpoint: string;
    };
  };
}

const UUID = /^(?:[0-9a-f]{16})?([0-9a-f]{64})$/;
const MAX_RETRIEVE_RESULTS = 1000;
/** SETs remembered (about 200 bytes each): the entries appended or read most recently. */
const SET_CACHE_ENTRIES = 100_000;

/** The tree as readers see it at one moment: every entry of one answer is proven against it. */
export interface TreeView {
  size: number;
  root: Buffer;
  /** the signed checkpoint (C2SP note) of `size` and `root` */
  checkpoint: string;
}

export class TransparencyLog {
  readonly logId: string;
  private readonly sets = new SetCache(SET_CACHE_ENTRIES);
  /** Called with each DSSE envelope once its entry is logged (server/log/index-envelopes.ts). */
  onEnvelope: ((index: number, envelope: string) => void) | null = null;

  constructor(
    private readonly store: LogStore,
    private readonly key: SigningKey,
    private readonly checkpoints: CheckpointSigner,
    readonly treeId: string,
    private readonly signatures: SignatureVerifier = inlineSignatureVerifier,
  ) {
    this.logId = key.keyId.toString('hex');
  }

  get size(): number {
    return this.store.size;
  }

  /** Verifies and appends a proposed entry; throws 409 with the existing entry's location on duplicates. */
  async add(proposed: unknown): Promise<{ uuid: string; entry: RekorEntry }> {
    const canonical = await canonicalizeProposedEntry(proposed, this.signatures);
    const stored = await this.store.append({ body: canonical.body, searchKeys: canonical.searchKeys });
    if (canonical.envelope !== undefined) this.onEnvelope?.(stored.index, canonical.envelope);
    const uuid = stored.leafHash.toString('hex');
    if (stored.existing) {
      throw new ServerError(
        409,
        'ENTRY_EXISTS',
        `an equivalent entry already exists in the log at index ${stored.index}`,
        {
          Location: `/api/v1/log/entries/${uuid}`,
        },
      );
    }
    return { uuid, entry: this.present(stored) };
  }

  /** The leaf hash (UUID) a proposed entry has: canonicalized and its signatures verified, as add() does. */
  async leafOfProposed(proposed: unknown): Promise<Buffer> {
    return hashLeaf((await canonicalizeProposedEntry(proposed, this.signatures)).body);
  }

  entryByUuid(uuid: string): { uuid: string; entry: RekorEntry } {
    const match = UUID.exec(uuid.toLowerCase());
    if (!match) throw badRequest('the entry UUID must be 64 hex characters (or 80 with a tree ID prefix)');
    const index = this.store.findLeaf(Buffer.from(match[1]!, 'hex'));
    if (index === undefined) throw notFound(`no entry with UUID ${uuid}`);
    return { uuid: match[1]!, entry: this.present(this.store.read(index)) };
  }

  /** The committed entry at `index` as stored (body, integrated time), without signing anything. */
  storedEntry(index: number): StoredEntry {
    if (index >= this.store.size)
      throw notFound(`no entry at logIndex ${index}; the log has ${this.store.size} entries`);
    return this.store.read(index);
  }

  /** Indexes of the committed entries found under a search key, oldest first. */
  findByKey(key: string): number[] {
    return this.store.findByKey(key).filter((i) => i < this.store.size);
  }

  /** One page of the entries found under a search key, newest first, and how many there are. */
  pageByKey(key: string, skip: number, limit: number): { total: number; indexes: number[] } {
    // The search index holds committed entries only (it is extended after each batch commits).
    return { total: this.store.countByKey(key), indexes: this.store.newestByKey(key, skip, limit) };
  }

  entryByIndex(index: number): { uuid: string; entry: RekorEntry } {
    if (index >= this.store.size)
      throw notFound(`no entry at logIndex ${index}; the log has ${this.store.size} entries`);
    const stored = this.store.read(index);
    return { uuid: stored.leafHash.toString('hex'), entry: this.present(stored) };
  }

  /** The committed size, its root and its signed checkpoint, computed once for a whole answer. */
  treeView(): TreeView {
    const size = this.store.size;
    const root = rootHash(this.store.merkle, size);
    return { size, root, checkpoint: this.checkpoints.sign(size, root) };
  }

  /** Index of the committed entry whose leaf hash (UUID) this is, if the log has it. */
  indexOfLeaf(leafHash: Uint8Array): number | undefined {
    const index = this.store.findLeaf(leafHash);
    return index !== undefined && index < this.store.size ? index : undefined;
  }

  /** The SET over the entry, signed once and then remembered (server/log/set-cache.ts). */
  signedEntryTimestamp(stored: StoredEntry, body = stored.body.toString('base64')): string {
    const remembered = this.sets.get(stored);
    if (remembered !== undefined) return remembered;
    const setPayload = json.canonicalize({
      body,
      integratedTime: stored.integratedTime,
      logID: this.logId,
      logIndex: stored.index,
    });
    const set = sign('sha256', Buffer.from(setPayload, 'utf8'), this.key.privateKey).toString('base64');
    this.sets.put(stored, set);
    return set;
  }

  /** The entry as Rekor serves it: SET, and an inclusion proof and checkpoint at `view` (size > index). */
  present(stored: StoredEntry, view: TreeView = this.treeView()): RekorEntry {
    const body = stored.body.toString('base64');
    return {
      body,
      integratedTime: stored.integratedTime,
      logID: this.logId,
      logIndex: stored.index,
      verification: {
        signedEntryTimestamp: this.signedEntryTimestamp(stored, body),
        inclusionProof: {
          logIndex: stored.index,
          treeSize: view.size,
          rootHash: view.root.toString('hex'),
          hashes: inclusionProof(this.store.merkle, stored.index, view.size).map((h) => h.toString('hex')),
          checkpoint: view.checkpoint,
        },
      },
    };
  }

  info(): { rootHash: string; treeSize: number; signedTreeHead: string; treeID: string } {
    const view = this.treeView();
    return {
      rootHash: view.root.toString('hex'),
      treeSize: view.size,
      signedTreeHead: view.checkpoint,
      treeID: this.treeId,
    };
  }

  consistency(firstSize: number, lastSize: number): { rootHash: string; hashes: string[] } {
    if (lastSize > this.store.size) {
      throw badRequest(`lastSize ${lastSize} is beyond the current tree size ${this.store.size}`);
    }
    if (firstSize < 1 || firstSize > lastSize)
      throw badRequest('firstSize must be at least 1 and at most lastSize');
    return {
      rootHash: rootHash(this.store.merkle, lastSize).toString('hex'),
      hashes: consistencyProof(this.store.merkle, firstSize, lastSize).map((h) => h.toString('hex')),
    };
  }

  /** UUIDs of entries matching a Rekor search query ({hash}, {email}, {subject}, with operator and|or). */
  retrieve(query: unknown): string[] {
    if (typeof query !== 'object' || query === null || Array.isArray(query)) {
      throw badRequest('the search query must be a JSON object with "hash", "email" or "subject"');
    }
    const q = query as Record<string, unknown>;
    const operator = q['operator'] ?? 'or';
    if (operator !== 'and' && operator !== 'or') throw badRequest('"operator" must be "and" or "or"');
    const keys: string[] = [];
    if (q['hash'] !== undefined) {
      if (typeof q['hash'] !== 'string' || !/^(sha256|sha384|sha512):[0-9a-fA-F]+$/.test(q['hash'])) {
        throw badRequest('"hash" must look like sha256:<hex> (sha384 and sha512 are accepted too)');
      }
      keys.push(q['hash'].toLowerCase());
    }
    if (q['email'] !== undefined) {
      if (typeof q['email'] !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(q['email'])) {
        throw badRequest('"email" must be an email address');
      }
      keys.push(q['email'].toLowerCase());
    }
    if (q['subject'] !== undefined) {
      if (typeof q['subject'] !== 'string' || q['subject'].length === 0 || q['subject'].length > 2048) {
        throw badRequest('"subject" must be a certificate SAN (URI or email)');
      }
      keys.push(
        q['subject'].includes('@') && !q['subject'].includes('/') ? q['subject'].toLowerCase() : q['subject'],
      );
    }
    if (keys.length === 0)
      throw badRequest('the search query needs at least one of "hash", "email", "subject"');
    const sets = keys.map((key) => new Set(this.store.findByKey(key)));
    let result: Set<number>;
    if (operator === 'and') result = new Set([...sets[0]!].filter((i) => sets.every((s) => s.has(i))));
    else result = new Set(sets.flatMap((s) => [...s]));
    return [...result]
      .sort((a, b) => a - b)
      .slice(0, MAX_RETRIEVE_RESULTS)
      .map((i) => this.store.merkle.leaf(i).toString('hex'));
  }
}
