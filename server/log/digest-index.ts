// A multimap from 32-byte digests to entry indices, in typed arrays rather than a JS Map so
// that rebuilding it for a million-entry log at startup takes milliseconds, not seconds.
// Keys are SHA-256 outputs, so their first bytes are already uniformly distributed.
const KEY_SIZE = 32;
/** Keys with more records than this get a materialised posting list the first time a page is read. */
const MATERIALISE_OVER = 2048;

class Postings {
  values = new Uint32Array(4096);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const bigger = new Uint32Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = value;
  }
}

export class DigestIndex {
  private keys = Buffer.alloc(KEY_SIZE * 1024);
  private values = new Uint32Array(1024);
  private next = new Int32Array(1024);
  /** Per record: how many records its key has up to and including it (so a key's count is its head's). */
  private counts = new Int32Array(1024);
  /** Posting lists (oldest first) of keys with many records, kept current by add(). */
  private postings = new Map<string, Postings>();
  private records = 0;
  private table = new Int32Array(2048); // record number + 1 of the newest record per key; 0 = empty
  private distinct = 0;

  get size(): number {
    return this.records;
  }

  /** Makes room for `records` records at once (a hint: the index still grows past it). */
  reserve(records: number): void {
    this.ensureRecordCapacity(records);
    let tableSize = this.table.length;
    while (tableSize < records * 2) tableSize *= 2;
    if (tableSize > this.table.length) this.rehash(tableSize);
  }

  add(key: Uint8Array, value: number): void {
    if (key.length !== KEY_SIZE) throw new RangeError('digest index keys are 32 bytes');
    if ((this.distinct + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    this.ensureRecordCapacity(this.records + 1);
    const record = this.records++;
    this.keys.set(key, record * KEY_SIZE);
    this.values[record] = value;
    const slot = this.findSlot(key);
    const head = this.table[slot]!;
    if (head === 0) this.distinct++;
    this.next[record] = head - 1;
    this.counts[record] = head === 0 ? 1 : this.counts[head - 1]! + 1;
    this.table[slot] = record + 1;
    if (this.postings.size > 0) this.postings.get(Buffer.from(key).toString('hex'))?.push(value);
  }

  /** How many values are stored under key. */
  count(key: Uint8Array): number {
    if (key.length !== KEY_SIZE) return 0;
    const head = this.table[this.findSlot(key)]!;
    return head === 0 ? 0 : this.counts[head - 1]!;
  }

  /**
   * Values stored under key, newest first, skipping the `skip` newest, at most `limit`. Reads only
   * the records it returns (a key with many records is read from its posting list, made once).
   */
  newest(key: Uint8Array, skip: number, limit: number): number[] {
    const total = this.count(key);
    const out: number[] = [];
    if (total === 0 || skip >= total) return out;
    if (total > MATERIALISE_OVER && skip + limit > 64) {
      const postings = this.postingsOf(key);
      for (let i = postings.length - 1 - skip; i >= 0 && out.length < limit; i--)
        out.push(postings.values[i]!);
      return out;
    }
    let seen = 0;
    for (
      let r = this.table[this.findSlot(key)]! - 1;
      r >= 0 && out.length < limit;
      r = this.next[r]!, seen++
    ) {
      if (seen >= skip) out.push(this.values[r]!);
    }
    return out;
  }

  private postingsOf(key: Uint8Array): Postings {
    const hex = Buffer.from(key).toString('hex');
    let postings = this.postings.get(hex);
    if (!postings) {
      postings = new Postings();
      for (const value of this.get(key)) postings.push(value);
      this.postings.set(hex, postings);
    }
    return postings;
  }

  /** Values stored under key, oldest first. */
  get(key: Uint8Array): number[] {
    if (key.length !== KEY_SIZE) return [];
    const out: number[] = [];
    for (let r = this.table[this.findSlot(key)]! - 1; r >= 0; r = this.next[r]!) out.push(this.values[r]!);
    return out.reverse();
  }

  private findSlot(key: Uint8Array): number {
    const mask = this.table.length - 1;
    let slot = (key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24)) & mask;
    while (true) {
      const head = this.table[slot]!;
      if (head === 0 || this.keyEquals(head - 1, key)) return slot;
      slot = (slot + 1) & mask;
    }
  }

  private keyEquals(record: number, key: Uint8Array): boolean {
    return this.keys.compare(key, 0, KEY_SIZE, record * KEY_SIZE, (record + 1) * KEY_SIZE) === 0;
  }

  private ensureRecordCapacity(n: number): void {
    if (n <= this.values.length) return;
    const capacity = Math.max(n, this.values.length * 2);
    const keys = Buffer.alloc(capacity * KEY_SIZE);
    this.keys.copy(keys);
    this.keys = keys;
    const values = new Uint32Array(capacity);
    values.set(this.values);
    this.values = values;
    const next = new Int32Array(capacity);
    next.set(this.next);
    this.next = next;
    const counts = new Int32Array(capacity);
    counts.set(this.counts);
    this.counts = counts;
  }

  private rehash(tableSize: number): void {
    const old = this.table;
    this.table = new Int32Array(tableSize);
    for (const head of old) {
      if (head === 0) continue;
      const key = this.keys.subarray((head - 1) * KEY_SIZE, head * KEY_SIZE);
      this.table[this.findSlot(key)] = head;
    }
  }
}
