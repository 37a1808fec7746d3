// The Merkle tree's complete subtrees, level by level, in growable buffers. Appending a leaf
// adds its hash to level 0 and every subtree it completes to the levels above, so the tree
// never has to be recomputed: proofs read it (see merkle.ts). It is rebuilt from entries.log on
// every start (see store.ts).
import { HASH_SIZE, hashChildren, type SubtreeSource } from './merkle';

class HashColumn {
  private buf: Buffer;
  count = 0;

  constructor() {
    this.buf = Buffer.alloc(1024 * HASH_SIZE);
  }

  get(index: number): Buffer {
    if (index < 0 || index >= this.count) throw new RangeError(`no stored hash at ${index}`);
    return this.buf.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
  }

  push(hash: Uint8Array): void {
    if ((this.count + 1) * HASH_SIZE > this.buf.length) {
      const bigger = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.count * HASH_SIZE);
      this.buf = bigger;
    }
    this.buf.set(hash, this.count * HASH_SIZE);
    this.count++;
  }

  bytes(from: number, to = this.count): Buffer {
    return this.buf.subarray(from * HASH_SIZE, to * HASH_SIZE);
  }
}

export class MerkleLevels implements SubtreeSource {
  private readonly levels: HashColumn[] = [];

  constructor() {
    this.levels.push(new HashColumn());
  }

  get size(): number {
    return this.levels[0]!.count;
  }

  get depth(): number {
    return this.levels.length;
  }

  node(level: number, index: number): Buffer {
    const column = this.levels[level];
    if (!column) throw new RangeError(`no level ${level}`);
    return column.get(index);
  }

  leaf(index: number): Buffer {
    return this.node(0, index);
  }

  /** Appends a leaf hash and the hash of every subtree it completes. */
  append(leafHash: Uint8Array): void {
    this.levels[0]!.push(leafHash);
    let level = 0;
    let count = this.levels[0]!.count;
    while (count % 2 === 0) {
      const column = this.levels[level]!;
      const parent = hashChildren(column.get(count - 2), column.get(count - 1));
      level++;
      if (!this.levels[level]) this.levels.push(new HashColumn());
      this.levels[level]!.push(parent);
      count = this.levels[level]!.count;
    }
  }

  levelCount(level: number): number {
    return this.levels[level]?.count ?? 0;
  }

  levelBytes(level: number, from: number): Buffer {
    return this.levels[level]!.bytes(from);
  }
}
