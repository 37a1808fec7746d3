// The monitor's RFC 9162 verifiers against the Certificate Transparency reference vectors, and
// against tollgate-server's proof generator on every (index, size) and (first, second) pair of
// trees up to 70 leaves, with every single-hash mutation refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CompactRange,
  EMPTY_ROOT,
  hashLeaf,
  leftSiblings,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../monitor/log/merkle';
import { consistencyProof, inclusionProof, rootHash, type SubtreeSource } from '../../server/log/merkle';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => Buffer.from(s, 'hex');

const CT_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
]
  .map(unhex)
  .map(hashLeaf);
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
// From the Certificate Transparency reference implementation's tests.
const CT_INCLUSION = [
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    index: 2,
    size: 3,
    proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'],
  },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];
const CT_CONSISTENCY = [
  { first: 1, second: 1, proof: [] as string[] },
  {
    first: 1,
    second: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    first: 6,
    second: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    first: 2,
    second: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

/** A SubtreeSource over leaf hashes, for tollgate-server's generator. */
function sourceOf(leaves: Buffer[]): SubtreeSource {
  const memo = new Map<string, Buffer>();
  const node = (level: number, index: number): Buffer => {
    if (level === 0) return leaves[index]!;
    const key = `${level}:${index}`;
    let hash = memo.get(key);
    if (!hash) {
      const range = CompactRange.empty();
      for (let i = index * 2 ** level; i < (index + 1) * 2 ** level; i++) range.append(leaves[i]!);
      hash = range.root();
      memo.set(key, hash);
    }
    return hash;
  };
  return { node };
}

function rootOf(leaves: Buffer[]): Buffer {
  const range = CompactRange.empty();
  for (const leaf of leaves) range.append(leaf);
  return range.root();
}

function mutations(proof: Buffer[]): Buffer[][] {
  const out: Buffer[][] = [];
  proof.forEach((_, i) => {
    const changed = proof.map((p) => Buffer.from(p));
    changed[i]![0]! ^= 1;
    out.push(changed);
  });
  if (proof.length > 0) out.push(proof.slice(0, -1), proof.slice(1));
  out.push([...proof, Buffer.alloc(32)]);
  return out;
}

describe('merkle (RFC 9162)', () => {
  it('computes the reference roots for every size 0..8 by appending leaves', () => {
    assert.equal(hex(EMPTY_ROOT), CT_ROOTS[0]);
    for (let n = 0; n <= 8; n++) assert.equal(hex(rootOf(CT_LEAVES.slice(0, n))), CT_ROOTS[n], `size ${n}`);
  });

  it('verifies the reference inclusion proofs and refuses altered ones', () => {
    for (const v of CT_INCLUSION) {
      const proof = v.proof.map(unhex);
      const root = unhex(CT_ROOTS[v.size]!);
      assert.ok(verifyInclusion(CT_LEAVES[v.index]!, v.index, v.size, proof, root), `${v.index}/${v.size}`);
      for (const bad of mutations(proof))
        assert.equal(verifyInclusion(CT_LEAVES[v.index]!, v.index, v.size, bad, root), false);
      assert.equal(verifyInclusion(CT_LEAVES[v.index]!, v.index + 1, v.size, proof, root), false);
      // (The tree size is not bound by the proof alone: the signed checkpoint binds it to the root.)
    }
  });

  it('verifies the reference consistency proofs and refuses altered ones', () => {
    for (const v of CT_CONSISTENCY) {
      const proof = v.proof.map(unhex);
      const a = unhex(CT_ROOTS[v.first]!);
      const b = unhex(CT_ROOTS[v.second]!);
      assert.ok(verifyConsistency(v.first, v.second, a, b, proof), `${v.first}->${v.second}`);
      for (const bad of mutations(proof))
        assert.equal(verifyConsistency(v.first, v.second, a, b, bad), false);
      if (v.first !== v.second) {
        assert.equal(verifyConsistency(v.first, v.second, b, b, proof), false, 'wrong old root');
        assert.equal(verifyConsistency(v.first, v.second, a, a, proof), false, 'wrong new root');
      }
    }
  });

  it("agrees with tollgate-server's proofs on every pair up to 70 leaves", () => {
    const leaves = Array.from({ length: 70 }, (_, i) => hashLeaf(Buffer.from(`entry ${i}`)));
    const source = sourceOf(leaves);
    for (let size = 1; size <= leaves.length; size++) {
      const root = rootHash(source, size);
      assert.ok(rootOf(leaves.slice(0, size)).equals(root), `root ${size}`);
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(source, index, size);
        assert.ok(
          rootFromInclusionProof(leaves[index]!, index, size, proof)?.equals(root),
          `${index}/${size}`,
        );
        // The left siblings are the compact range of [0, index): the start of a monitor at any index.
        const fromProof = CompactRange.fromInclusionProof(leaves[index]!, index, size, proof)!;
        assert.equal(fromProof.size, index + 1);
        assert.ok(
          fromProof.root().equals(rootHash(source, index + 1)),
          `range ${index + 1} from proof in ${size}`,
        );
        assert.equal(
          leftSiblings(index, size, proof).length,
          fromProof.hashes.length - 1 + countMerges(index),
        );
      }
      for (let first = 1; first <= size; first++) {
        const proof = consistencyProof(source, first, size);
        assert.ok(verifyConsistency(first, size, rootHash(source, first), root, proof), `${first}->${size}`);
        if (first < size) {
          const forked = rootHash(
            sourceOf(leaves.map((l, i) => (i === first - 1 ? hashLeaf(Buffer.from('fork')) : l))),
            size,
          );
          assert.equal(verifyConsistency(first, size, rootHash(source, first), forked, proof), false);
        }
      }
    }
  });

  it('restores a compact range only when the number of hashes fits the size', () => {
    const range = CompactRange.empty();
    for (const leaf of CT_LEAVES.slice(0, 7)) range.append(leaf);
    assert.equal(range.hashes.length, 3);
    assert.ok(CompactRange.of(7, range.hashes)?.root().equals(range.root()));
    assert.equal(CompactRange.of(6, range.hashes), undefined);
    assert.equal(CompactRange.of(7, range.hashes.slice(1)), undefined);
  });
});

/** Merges when appending leaf `index` to a range of size `index` (trailing 1 bits). */
function countMerges(index: number): number {
  let merges = 0;
  for (let n = index; n % 2 === 1; n = Math.floor(n / 2)) merges++;
  return merges;
}
