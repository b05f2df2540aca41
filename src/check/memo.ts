/**
 * Lowe's memoisation: the set of (linearized operations, state) pairs the
 * search has already been in. Reaching a pair again cannot lead anywhere new,
 * so the search skips it.
 *
 * Bitsets are stored as windows: with operations numbered by call time, the
 * search's linearized set is always "every operation below some point, none
 * above some later point, anything in between" (an operation can only be
 * linearized once everything that returned before its call has been). So an
 * entry keeps the word range `[lo, hi)` outside which the words are all ones
 * (below) or all zeros (above), and only those words — usually one or two,
 * whatever the history's length.
 *
 * Hashes are Zobrist hashes of the full set (XOR of a fixed random word per
 * set bit, updated by the caller in O(1)) mixed with the state id. A hit is
 * only declared after comparing state, window and words, so the memo is
 * exact.
 */
import { mix32 } from './hash.ts';
import { giveInt32, takeInt32 } from './pool.ts';

/** Fixed pseudo-random word for bit `i` (deterministic, well spread). */
export function zobrist(i: number): number {
  return mix32(Math.imul(i + 1, 0x9e3779b1) ^ 0x7feb352d);
}

/** Hash of a (bitset hash, state id) pair. */
export function pairHash(bitsHash: number, state: number): number {
  return mix32(bitsHash ^ Math.imul(state + 1, 0x85ebca77));
}

// Slot layout (one interleaved Int32Array, 4 ints = 16 bytes per slot): pair
// hash; state + 1 (0 = empty); window start × 4 + length code (0, 1, or 2 for
// "2 or more"); payload: the window's only word (length 1) or the offset of
// its words in the arena (length 2+, stored as [length, words…]).
const SLOT = 4;

/** Visited (bitset, state) pairs. */
export class VisitedSet {
  private table: Int32Array<ArrayBuffer>;
  private mask: number;
  private arena: Int32Array<ArrayBuffer>;
  private used = 0;
  /** Number of pairs stored. */
  size = 0;

  constructor(capacity = 256) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.table = takeInt32(slots * SLOT);
    this.mask = slots - 1;
    this.arena = new Int32Array(64);
  }

  /**
   * Add the pair (`bits` with its window `[lo, hi)`, `state`) whose
   * {@link pairHash} is `hash`. Returns `true` if it was not there before.
   */
  add(hash: number, state: number, bits: Int32Array, lo: number, hi: number): boolean {
    const mask = this.mask;
    const table = this.table;
    const len = hi - lo;
    const key = state + 1;
    const shape = lo * 4 + (len < 2 ? len : 2);
    const first = len === 1 ? (bits[lo] as number) : 0;
    let i = hash & mask;
    for (;;) {
      const at = i * SLOT;
      const k = table[at + 1] as number;
      if (k === 0) break;
      if (k === key && table[at] === hash && table[at + 2] === shape) {
        if (len < 2 ? table[at + 3] === first : this.sameWords(table[at + 3] as number, bits, lo, len)) return false;
      }
      i = (i + 1) & mask;
    }
    const at = i * SLOT;
    table[at] = hash;
    table[at + 1] = key;
    table[at + 2] = shape;
    if (len < 2) table[at + 3] = first;
    else {
      if (this.used + len + 1 > this.arena.length) this.growArena(len + 1);
      table[at + 3] = this.used;
      const arena = this.arena;
      arena[this.used] = len;
      for (let w = 0; w < len; w++) arena[this.used + 1 + w] = bits[lo + w] as number;
      this.used += len + 1;
    }
    this.size++;
    if (this.size * 2 > mask) this.growSlots();
    return true;
  }

  /** Do the arena words at `off` equal `bits[lo .. lo + len)`? */
  private sameWords(off: number, bits: Int32Array, lo: number, len: number): boolean {
    const arena = this.arena;
    if (arena[off] !== len) return false;
    for (let w = 0; w < len; w++) if (arena[off + 1 + w] !== bits[lo + w]) return false;
    return true;
  }

  private growArena(need: number): void {
    let cap = this.arena.length * 2;
    while (cap < this.used + need) cap *= 2;
    const b = takeInt32(cap);
    b.set(this.arena.subarray(0, this.used));
    giveInt32(this.arena);
    this.arena = b;
  }

  private growSlots(): void {
    const old = this.table;
    const size = (this.mask + 1) * 2;
    const mask = size - 1;
    const table = takeInt32(size * SLOT);
    for (let from = 0; from < old.length; from += SLOT) {
      if (old[from + 1] === 0) continue;
      let i = (old[from] as number) & mask;
      while (table[i * SLOT + 1] !== 0) i = (i + 1) & mask;
      const to = i * SLOT;
      table[to] = old[from] as number;
      table[to + 1] = old[from + 1] as number;
      table[to + 2] = old[from + 2] as number;
      table[to + 3] = old[from + 3] as number;
    }
    giveInt32(old);
    this.table = table;
    this.mask = mask;
  }

  /** Give the memory back to the pool; the set must not be used afterwards. */
  release(): void {
    giveInt32(this.table);
    giveInt32(this.arena);
    this.table = new Int32Array(0);
    this.arena = new Int32Array(0);
  }
}
