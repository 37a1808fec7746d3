import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  consistencyProof,
  hashChildren,
  hashLeaf,
  inclusionProof,
  rootFromInclusionProof,
  rootHash,
  verifyConsistency,
} from '../../server/log/merkle';
import { MerkleLevels } from '../../server/log/tree';

// RFC 6962 section 2.1 as written: the reference the stored-level implementation must equal.
function referenceRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return hashLeaf(leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return hashChildren(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

const leaves = Array.from({ length: 70 }, (_, i) => Buffer.from(`leaf ${i}`));

test('root hashes from stored levels equal the RFC 6962 definition for every size', () => {
  const tree = new MerkleLevels();
  for (let n = 1; n <= leaves.length; n++) {
    tree.append(hashLeaf(leaves[n - 1]!));
    assert.deepEqual(rootHash(tree, n), referenceRoot(leaves.slice(0, n)), `size ${n}`);
  }
});

test('every inclusion proof verifies, for every earlier tree size too, and fails for another leaf', () => {
  const tree = new MerkleLevels();
  for (const leaf of leaves) tree.append(hashLeaf(leaf));
  for (let size = 1; size <= leaves.length; size++) {
    const root = referenceRoot(leaves.slice(0, size));
    for (let index = 0; index < size; index++) {
      const proof = inclusionProof(tree, index, size);
      assert.deepEqual(rootFromInclusionProof(hashLeaf(leaves[index]!), index, size, proof), root);
      if (size > 1) {
        const other = hashLeaf(leaves[(index + 1) % size]!);
        assert.notDeepEqual(rootFromInclusionProof(other, index, size, proof), root);
      }
    }
  }
});

test('every consistency proof verifies and a tampered one does not', () => {
  const tree = new MerkleLevels();
  for (const leaf of leaves) tree.append(hashLeaf(leaf));
  for (let size = 1; size <= leaves.length; size += 3) {
    for (let first = 1; first <= size; first++) {
      const proof = consistencyProof(tree, first, size);
      const oldRoot = referenceRoot(leaves.slice(0, first));
      const newRoot = referenceRoot(leaves.slice(0, size));
      assert.ok(verifyConsistency(first, size, oldRoot, newRoot, proof), `${first} -> ${size}`);
      if (proof.length > 0) {
        const tampered = proof.map((h, i) => (i === 0 ? hashLeaf(h) : h));
        assert.equal(verifyConsistency(first, size, oldRoot, newRoot, tampered), false);
      }
    }
  }
});
