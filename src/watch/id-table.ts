// An open-addressing hash table of the watch model's node ids (model.ts): a key is never stored, since the
// model tells it from the id (a wd, or a parent and a name), so a slot is one Int32. Linear probing; a removal
// shifts the entries behind it back (no tombstones, so a table with churn never fills with them).

/**
 * Smallest table: slots, a power of two (256 KiB, given pages only where written). Growing while a walk is
 * young costs more than the hashing again: each growth makes the JIT's code for the table's users start over
 * (arming 20,000 directories: 140 ms of user CPU instead of 170 from 16,384 slots, and 1.7 MiB less RSS).
 */
const FIRST_SLOTS = 65536;
/**
 * A full table doubles. Fourfold would rehash less (each growth hashes every name again), but holds up to 8
 * slots an id: a million directories' two tables took 32 MiB instead of 16.
 */
const GROWTH = 2;

const slotsOf = (size: number): Int32Array => new Int32Array(size);

export class IdTable {
  private slots = slotsOf(FIRST_SLOTS);
  private shift = 32 - Math.log2(FIRST_SLOTS);
  private count = 0;

  /** `hashOf(id)`: the hash of a stored id's key, as callers give it to find and remove. */
  constructor(private readonly hashOf: (id: number) => number) {}

  /** The id with this hash whose key `matches` `key`, or 0 (`matches` is made once: no closure a call). */
  find<K>(hash: number, key: K, matches: (id: number, key: K) => boolean): number {
    const mask = this.slots.length - 1;
    for (let i = hash >>> this.shift; ; i = (i + 1) & mask) {
      const id = this.slots[i] as number;
      if (id === 0 || matches(id, key)) return id;
    }
  }

  /** Stores an id; `hash` is its key's hash. */
  insert(id: number, hash: number): void {
    // At most half full: probes stay short.
    if (2 * (this.count + 1) > this.slots.length) this.resize(this.slots.length * GROWTH);
    this.put(id, hash);
    this.count++;
  }

  /** Removes a stored id; `hash` is its key's hash. */
  remove(id: number, hash: number): void {
    const mask = this.slots.length - 1;
    let i = hash >>> this.shift;
    while (this.slots[i] !== id) {
      if (this.slots[i] === 0) return;
      i = (i + 1) & mask;
    }
    // Backward shift: an entry after the gap moves into it unless its home lies (cyclically) after the gap.
    for (let j = (i + 1) & mask; this.slots[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashOf(this.slots[j] as number) >>> this.shift;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        this.slots[i] = this.slots[j] as number;
        i = j;
      }
    }
    this.slots[i] = 0;
    this.count--;
    if (this.slots.length > FIRST_SLOTS && 4 * GROWTH * this.count < this.slots.length) this.resize(this.slots.length / GROWTH);
  }

  clear(): void {
    this.slots = slotsOf(FIRST_SLOTS);
    this.shift = 32 - Math.log2(FIRST_SLOTS);
    this.count = 0;
  }

  private put(id: number, hash: number): void {
    const mask = this.slots.length - 1;
    let i = hash >>> this.shift;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.slots[i] = id;
  }

  private resize(size: number): void {
    const old = this.slots;
    this.slots = slotsOf(size);
    this.shift = 32 - Math.log2(size);
    for (let i = 0; i < old.length; i++) {
      const id = old[i] as number;
      if (id !== 0) this.put(id, this.hashOf(id));
    }
  }
}
