// A multimap from 32-byte digests to entry indices, in typed arrays rather than a JS Map so
// that rebuilding it for a million-entry log at startup takes milliseconds, not seconds.
// Keys are SHA-256 outputs, so their first bytes are already uniformly distributed.
const KEY_SIZE = 32;

export class DigestIndex {
  private keys = Buffer.alloc(KEY_SIZE * 1024);
  private values = new Uint32Array(1024);
  private next = new Int32Array(1024);
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
    this.table[slot] = record + 1;
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
