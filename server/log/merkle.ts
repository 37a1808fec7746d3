// RFC 6962 / RFC 9162 Merkle tree hashing and proofs over a tree whose complete subtrees are
// stored by level: level k holds the hashes of the aligned subtrees of 2^k leaves. Every proof
// reads O(log n) stored hashes and hashes O(log n) incomplete right-edge subtrees, so its cost
// does not grow with the size of the log.
import { createHash, hash } from 'node:crypto';

export const HASH_SIZE = 32;

// One-shot crypto.hash over one buffer costs half of a createHash object with several updates,
// which matters when a restart rehashes every leaf and node of the log.
// The prefixed input is assembled in a reused scratch buffer (hashing is synchronous).
let scratch = Buffer.alloc(4096);

function prefixed(prefix: number, first: Uint8Array, second?: Uint8Array): Buffer {
  const length = 1 + first.length + (second?.length ?? 0);
  if (length > scratch.length) scratch = Buffer.alloc(Math.max(length, scratch.length * 2));
  scratch[0] = prefix;
  scratch.set(first, 1);
  if (second) scratch.set(second, 1 + first.length);
  return scratch.subarray(0, length);
}

export function hashLeaf(leaf: Uint8Array): Buffer {
  return hash('sha256', prefixed(0, leaf), 'buffer');
}

export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return hash('sha256', prefixed(1, left, right), 'buffer');
}

export const EMPTY_ROOT = createHash('sha256').digest();

/** Read access to the stored complete subtrees. */
export interface SubtreeSource {
  /** Hash of the complete subtree covering leaves [index * 2^level, (index + 1) * 2^level). */
  node(level: number, index: number): Buffer;
}

// Largest power of two strictly smaller than n (n > 1).
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function log2(n: number): number {
  return 31 - Math.clz32(n);
}

/** MTH(D[start:end]) for the leaves of a tree; start is always aligned as RFC 6962 recursion makes it. */
export function subtreeHash(source: SubtreeSource, start: number, end: number): Buffer {
  const size = end - start;
  if (size <= 0) return EMPTY_ROOT;
  if ((size & (size - 1)) === 0 && start % size === 0) return source.node(log2(size), start / size);
  const k = splitPoint(size);
  return hashChildren(subtreeHash(source, start, start + k), subtreeHash(source, start + k, end));
}

export function rootHash(source: SubtreeSource, size: number): Buffer {
  return subtreeHash(source, 0, size);
}

/** PATH(m, D[0:n]) of RFC 6962 section 2.1.1, leaf-to-root order as sigstore-js expects. */
export function inclusionProof(source: SubtreeSource, index: number, size: number): Buffer[] {
  if (index < 0 || index >= size) throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
  const path: Buffer[] = [];
  let start = 0;
  let end = size;
  let m = index;
  // Walk from the root down, collecting siblings; reversed at the end to go leaf-to-root.
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      path.push(subtreeHash(source, start + k, end));
      end = start + k;
    } else {
      path.push(subtreeHash(source, start, start + k));
      start += k;
      m -= k;
    }
  }
  return path.reverse();
}

/** PROOF(m, D[0:n]) of RFC 6962 section 2.1.2. */
export function consistencyProof(source: SubtreeSource, first: number, size: number): Buffer[] {
  if (first < 1 || first > size) throw new RangeError(`cannot prove size ${first} consistent with ${size}`);
  if (first === size) return [];
  const proof: Buffer[] = [];
  // SUBPROOF(m, D[start:end], b) unrolled; entries are pushed root-side first and reversed.
  let start = 0;
  let end = size;
  let m = first;
  let completeSubtree = true;
  while (true) {
    const n = end - start;
    if (m === n) {
      if (!completeSubtree) proof.push(subtreeHash(source, start, end));
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      proof.push(subtreeHash(source, start + k, end));
      end = start + k;
    } else {
      proof.push(subtreeHash(source, start, start + k));
      start += k;
      m -= k;
      completeSubtree = false;
    }
  }
  return proof.reverse();
}

// Verifiers (used by the server on its own output in tests and by recovery checks).

export function rootFromInclusionProof(
  leafHash: Buffer,
  index: number,
  size: number,
  proof: Buffer[],
): Buffer {
  if (index >= size) throw new RangeError('index beyond tree size');
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw new RangeError('inclusion proof too long');
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new RangeError('inclusion proof too short');
  return r;
}

/** RFC 9162 section 2.1.4.2: true when proof shows oldRoot (size first) is a prefix of newRoot. */
export function verifyConsistency(
  first: number,
  size: number,
  oldRoot: Buffer,
  newRoot: Buffer,
  proof: Buffer[],
): boolean {
  if (first === size) return proof.length === 0 && oldRoot.equals(newRoot);
  if (first === 0 || first > size || proof.length === 0) return false;
  const path = [...proof];
  if ((first & (first - 1)) === 0) path.unshift(oldRoot);
  let fn = first - 1;
  let sn = size - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
}
