// Signed entry timestamps, remembered. A SET signs {body, integratedTime, logID, logIndex}, none of
// which changes once an entry is committed, so one signature can answer every later read of the
// entry: signing one costs ~0.1 ms of the event loop (P-256), which bounded full-entry reads at a
// few thousand entries per second.
//
// Only signatures this process made are kept, in memory, least recently used dropped first. They are
// not stored on disk: a stored SET would be a derived file, which the server never trusts, and
// checking one before serving it costs more than making a new one (a P-256 verification is slower
// than a signature). Each is kept with the entry's leaf hash and integrated time, and used only
// when both are what the entry read from entries.log says (the leaf hash is checked against the tree
// on every read), so a SET is never served for anything but the payload it signed.
import type { StoredEntry } from './store';

interface Remembered {
  leafHash: Buffer;
  integratedTime: number;
  set: string;
}

export class SetCache {
  private readonly entries = new Map<number, Remembered>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The SET signed earlier for exactly this entry, if remembered. */
  get(entry: StoredEntry): string | undefined {
    const remembered = this.entries.get(entry.index);
    if (!remembered) return undefined;
    if (remembered.integratedTime !== entry.integratedTime || !remembered.leafHash.equals(entry.leafHash)) {
      this.entries.delete(entry.index);
      return undefined;
    }
    // Most recently used last (a Map iterates in insertion order).
    this.entries.delete(entry.index);
    this.entries.set(entry.index, remembered);
    return remembered.set;
  }

  put(entry: StoredEntry, set: string): void {
    if (this.capacity <= 0) return;
    this.entries.delete(entry.index);
    // The leaf hash may be a view into the tree's level buffer, which grows by reallocation: copy it.
    this.entries.set(entry.index, {
      leafHash: Buffer.from(entry.leafHash),
      integratedTime: entry.integratedTime,
      set,
    });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as number;
      this.entries.delete(oldest);
    }
  }
}
