// RFC 6962 / RFC 9162 Merkle tree verification, written from RFC 9162 section 2.1: no JavaScript
// library verifies consistency proofs (sigstore-js checks inclusion only, internally), and the
// algorithms are short. test/monitor/merkle.test.ts checks them against the Certificate
// Transparency reference vectors and against tollgate-server's proof generator.
//
// A CompactRange is the right edge of a tree prefix [0, size): one perfect-subtree hash per set bit
// of size, largest first. Appending leaves to it and comparing its root with a signed checkpoint
// proves every appended leaf is in that tree, at about two hashes per leaf (an inclusion proof per
// entry would cost log2(size) hashes each).
import { createHash } from 'node:crypto';

export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

export function hashLeaf(leaf: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest();
}

export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

const LEAF_PREFIX = Buffer.of(0);
const NODE_PREFIX = Buffer.of(1);

const isOdd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);

/** RFC 9162 2.1.3.2: the root an inclusion proof leads to, or undefined when the proof is malformed. */
export function rootFromInclusionProof(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Buffer | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size)
    return undefined;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : undefined;
}

export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const computed = rootFromInclusionProof(leafHash, index, size, proof);
  return computed?.equals(root) === true;
}

/**
 * The proof hashes that lie left of the leaf's path (the RFC 9162 branch that hashes `p || r`),
 * leaf-to-root order. They are exactly the perfect subtrees covering [0, index), whatever the
 * tree size, which is what lets a monitor start at any index from one verified inclusion proof.
 */
export function leftSiblings(index: number, size: number, proof: readonly Uint8Array[]): Buffer[] {
  const left: Buffer[] = [];
  let fn = index;
  let sn = size - 1;
  for (const p of proof) {
    if (sn === 0) break;
    if (isOdd(fn) || fn === sn) {
      left.push(Buffer.from(p));
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    }
    fn = half(fn);
    sn = half(sn);
  }
  return left;
}

/** RFC 9162 2.1.4.2: whether `proof` shows the tree of size `first` is a prefix of the one of size `second`. */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second)
    return false;
  if (first === 0) return proof.length === 0 && Buffer.from(firstRoot).equals(EMPTY_ROOT);
  if (first === second) return proof.length === 0 && Buffer.from(firstRoot).equals(secondRoot);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}

function isPowerOfTwo(n: number): boolean {
  let v = n;
  while (v > 1 && !isOdd(v)) v = half(v);
  return v === 1;
}

function popcount(n: number): number {
  let count = 0;
  for (let v = n; v > 0; v = half(v)) if (isOdd(v)) count++;
  return count;
}

/** The right edge of the tree prefix [0, size): enough to append leaves and compute every later root. */
export class CompactRange {
  private constructor(
    private count: number,
    /** perfect-subtree hashes, largest (leftmost) first */
    private readonly nodes: Buffer[],
  ) {}

  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /** From stored hashes; undefined when their number does not fit the size. */
  static of(size: number, nodes: readonly Uint8Array[]): CompactRange | undefined {
    if (!Number.isSafeInteger(size) || size < 0 || popcount(size) !== nodes.length) return undefined;
    if (nodes.some((n) => n.length !== 32)) return undefined;
    return new CompactRange(
      size,
      nodes.map((n) => Buffer.from(n)),
    );
  }

  /**
   * The range [0, index + 1) from a leaf and its inclusion proof in a tree of any size. Callers must
   * first verify the proof against a signed root: only then are the left siblings authentic.
   */
  static fromInclusionProof(
    leafHash: Uint8Array,
    index: number,
    size: number,
    proof: readonly Uint8Array[],
  ): CompactRange | undefined {
    const left = leftSiblings(index, size, proof).reverse();
    const range = CompactRange.of(index, left);
    range?.append(leafHash);
    return range;
  }

  get size(): number {
    return this.count;
  }

  get hashes(): readonly Buffer[] {
    return this.nodes;
  }

  append(leafHash: Uint8Array): void {
    let node: Buffer = Buffer.from(leafHash);
    // Each trailing 1 bit of the old size is a subtree of the new leaf's size to merge with.
    for (let n = this.count; isOdd(n); n = half(n)) node = hashChildren(this.nodes.pop()!, node);
    this.nodes.push(node);
    this.count++;
  }

  root(): Buffer {
    if (this.nodes.length === 0) return EMPTY_ROOT;
    let acc = this.nodes[this.nodes.length - 1]!;
    for (let i = this.nodes.length - 2; i >= 0; i--) acc = hashChildren(this.nodes[i]!, acc);
    return acc;
  }

  clone(): CompactRange {
    return new CompactRange(this.count, [...this.nodes]);
  }
}
