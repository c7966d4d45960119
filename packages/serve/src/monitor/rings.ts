/**
 * Fixed-size typed-array structures behind the feedback store: a 64-bit id hash, an
 * open-addressing hash index, and a ring of predictions with their values. Nothing here keeps a
 * JavaScript object or string per prediction, so a monitored server's memory stays flat whatever
 * the traffic: the arrays grow (doubling) up to their bound while the store fills, then are reused.
 */

/** The last `hashId` result: two 32-bit halves of a 64-bit hash. */
export const ID_HASH = new Int32Array(2);

/** A per-process seed, so ids cannot be chosen to collide on purpose. */
const SEED = (() => {
  const seed = new Uint32Array(1);
  globalThis.crypto.getRandomValues(seed);
  return seed[0] | 0;
})();

/**
 * Hashes an id to 64 bits (`ID_HASH[0]`, `ID_HASH[1]`), from its UTF-16 code units: two
 * multiplicative 32-bit lanes mixed into each other at the end (cyrb53's construction, both
 * lanes kept). With 100,000 ids kept the chance that two of them share a hash is ~3·10⁻¹⁰.
 */
export function hashId(id: string): void {
  let high = 0xdeadbeef ^ SEED;
  let low = 0x41c6ce57 ^ SEED;
  for (let i = 0; i < id.length; i++) {
    const code = id.charCodeAt(i);
    high = Math.imul(high ^ code, 2654435761);
    low = Math.imul(low ^ code, 1597334677);
  }
  high = Math.imul(high ^ (high >>> 16), 2246822507);
  high ^= Math.imul(low ^ (low >>> 13), 3266489909);
  low = Math.imul(low ^ (low >>> 16), 2246822507);
  low ^= Math.imul(high ^ (high >>> 13), 3266489909);
  ID_HASH[0] = high;
  ID_HASH[1] = low;
}

const EMPTY = -1;

/**
 * A map from a 64-bit hash to a number ≥ 0, by open addressing with linear probing (at most
 * half full; deletion shifts the probe chain back, so there are no tombstones). It grows by
 * doubling; its size is bounded by what the caller keeps in it.
 */
export class HashIndex {
  #high: Int32Array;
  #low: Int32Array;
  #values: Float64Array;
  #mask: number;
  #count = 0;

  constructor(slots = 64) {
    let size = 16;
    while (size < slots) size *= 2;
    this.#high = new Int32Array(size);
    this.#low = new Int32Array(size);
    this.#values = new Float64Array(size).fill(EMPTY);
    this.#mask = size - 1;
  }

  /** Entries held. */
  get size(): number {
    return this.#count;
  }

  /** Slots allocated (for tests of the bound). */
  get slots(): number {
    return this.#mask + 1;
  }

  #find(high: number, low: number): number {
    const mask = this.#mask;
    const values = this.#values;
    let slot = low & mask;
    while (values[slot] !== EMPTY) {
      if (this.#low[slot] === low && this.#high[slot] === high) return slot;
      slot = (slot + 1) & mask;
    }
    return ~slot;
  }

  /** The value kept for the hash, or -1. */
  get(high: number, low: number): number {
    const slot = this.#find(high, low);
    return slot < 0 ? EMPTY : this.#values[slot];
  }

  set(high: number, low: number, value: number): void {
    let slot = this.#find(high, low);
    if (slot >= 0) {
      this.#values[slot] = value;
      return;
    }
    if ((this.#count + 1) * 2 > this.#mask + 1) {
      this.#grow();
      slot = this.#find(high, low);
    }
    slot = ~slot;
    this.#high[slot] = high;
    this.#low[slot] = low;
    this.#values[slot] = value;
    this.#count++;
  }

  /** Removes the hash; true when it was there. */
  delete(high: number, low: number): boolean {
    let hole = this.#find(high, low);
    if (hole < 0) return false;
    const mask = this.#mask;
    const values = this.#values;
    const highs = this.#high;
    const lows = this.#low;
    // Backward shift: move later members of the probe chain into the hole when their home slot
    // is not between the hole and where they sit.
    let next = hole;
    while (true) {
      next = (next + 1) & mask;
      if (values[next] === EMPTY) break;
      const home = lows[next] & mask;
      const between = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (between) continue;
      highs[hole] = highs[next];
      lows[hole] = lows[next];
      values[hole] = values[next];
      hole = next;
    }
    values[hole] = EMPTY;
    this.#count--;
    return true;
  }

  #grow(): void {
    const highs = this.#high;
    const lows = this.#low;
    const values = this.#values;
    const size = (this.#mask + 1) * 2;
    this.#high = new Int32Array(size);
    this.#low = new Int32Array(size);
    this.#values = new Float64Array(size).fill(EMPTY);
    this.#mask = size - 1;
    this.#count = 0;
    for (let slot = 0; slot < values.length; slot++) {
      if (values[slot] !== EMPTY) this.set(highs[slot], lows[slot], values[slot]);
    }
  }
}

/**
 * A first-in first-out ring of predictions, each addressed by a sequence number that only grows:
 * per entry an id hash, an owner index, a time, a link (another sequence number, or -1) and a flag,
 * and its rows' values with a "joined" mark each in a second ring. At most `maxEntries` entries
 * and `maxRows` rows; `fits(rows)` says whether one more entry fits (growing the arrays when
 * they are below their bound), else the caller drops the oldest with `shift()`.
 */
export class PredictionRing {
  readonly maxEntries: number;
  readonly maxRows: number;
  /** Sequence number of the oldest entry kept, and of the next entry. */
  head = 0;
  tail = 0;
  /** Row sequence numbers of the oldest row kept, and of the next row. */
  rowHead = 0;
  rowTail = 0;
  high: Int32Array;
  low: Int32Array;
  owner: Int32Array;
  flags: Uint8Array;
  time: Float64Array;
  link: Float64Array;
  rowStart: Float64Array;
  rowCount: Int32Array;
  values: Float64Array;
  joined: Uint8Array;

  constructor(maxEntries: number, maxRows: number) {
    this.maxEntries = maxEntries;
    this.maxRows = maxRows;
    const entries = Math.min(maxEntries, 64);
    this.high = new Int32Array(entries);
    this.low = new Int32Array(entries);
    this.owner = new Int32Array(entries);
    this.flags = new Uint8Array(entries);
    this.time = new Float64Array(entries);
    this.link = new Float64Array(entries);
    this.rowStart = new Float64Array(entries);
    this.rowCount = new Int32Array(entries);
    const rows = Math.min(maxRows, 64);
    this.values = new Float64Array(rows);
    this.joined = new Uint8Array(rows);
  }

  /** Entries kept. */
  get count(): number {
    return this.tail - this.head;
  }

  /** Whether `seq` is still in the ring. */
  has(seq: number): boolean {
    return seq >= this.head && seq < this.tail;
  }

  /** Where entry `seq` sits in the entry arrays. */
  slot(seq: number): number {
    return seq % this.high.length;
  }

  /** Where row `row` of the entry in `slot` sits in the row arrays. */
  rowSlot(slot: number, row: number): number {
    return (this.rowStart[slot] + row) % this.values.length;
  }

  /**
   * True when an entry of `rows` rows fits without dropping one (growing the arrays if they are
   * below their bounds). Never true for `rows > maxRows`.
   */
  fits(rows: number): boolean {
    if (rows > this.maxRows) return false;
    if (this.count >= this.high.length) {
      if (this.high.length >= this.maxEntries) return false;
      this.#growEntries();
    }
    const needed = this.rowTail - this.rowHead + rows;
    if (needed > this.values.length) {
      if (this.values.length < this.maxRows) this.#growRows(needed);
      if (needed > this.values.length) return false;
    }
    return true;
  }

  /** Drops the oldest entry (its fields stay readable until the next `push`). */
  shift(): number {
    const seq = this.head++;
    this.rowHead = this.head < this.tail ? this.rowStart[this.slot(this.head)] : this.rowTail;
    return seq;
  }

  /** Adds an entry (after `fits` said it does); its rows are written with `setValue`. */
  push(high: number, low: number, owner: number, time: number, rows: number): number {
    const seq = this.tail++;
    const slot = this.slot(seq);
    this.high[slot] = high;
    this.low[slot] = low;
    this.owner[slot] = owner;
    this.time[slot] = time;
    this.flags[slot] = 1;
    this.link[slot] = -1;
    this.rowStart[slot] = this.rowTail;
    this.rowCount[slot] = rows;
    const length = this.values.length;
    for (let row = 0; row < rows; row++) this.joined[(this.rowTail + row) % length] = 0;
    this.rowTail += rows;
    return seq;
  }

  setValue(slot: number, row: number, value: number): void {
    this.values[this.rowSlot(slot, row)] = value;
  }

  /** Forgets every entry (the arrays are kept). */
  clear(): void {
    this.head = this.tail;
    this.rowHead = this.rowTail;
  }

  #growEntries(): void {
    const length = Math.min(this.maxEntries, this.high.length * 2);
    const old = {
      high: this.high,
      low: this.low,
      owner: this.owner,
      flags: this.flags,
      time: this.time,
      link: this.link,
      rowStart: this.rowStart,
      rowCount: this.rowCount,
    };
    this.high = new Int32Array(length);
    this.low = new Int32Array(length);
    this.owner = new Int32Array(length);
    this.flags = new Uint8Array(length);
    this.time = new Float64Array(length);
    this.link = new Float64Array(length);
    this.rowStart = new Float64Array(length);
    this.rowCount = new Int32Array(length);
    const oldLength = old.high.length;
    for (let seq = this.head; seq < this.tail; seq++) {
      const from = seq % oldLength;
      const to = seq % length;
      this.high[to] = old.high[from];
      this.low[to] = old.low[from];
      this.owner[to] = old.owner[from];
      this.flags[to] = old.flags[from];
      this.time[to] = old.time[from];
      this.link[to] = old.link[from];
      this.rowStart[to] = old.rowStart[from];
      this.rowCount[to] = old.rowCount[from];
    }
  }

  #growRows(needed: number): void {
    let length = this.values.length * 2;
    while (length < needed) length *= 2;
    length = Math.min(this.maxRows, length);
    const values = this.values;
    const joined = this.joined;
    this.values = new Float64Array(length);
    this.joined = new Uint8Array(length);
    for (let row = this.rowHead; row < this.rowTail; row++) {
      this.values[row % length] = values[row % values.length];
      this.joined[row % length] = joined[row % values.length];
    }
  }
}
