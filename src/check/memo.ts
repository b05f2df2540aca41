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
 * whatever the history's length; up to two are kept inline.
 *
 * Hashes are Zobrist hashes of the full set (XOR of a fixed random word per
 * set bit, updated by the caller in O(1)) mixed with the state id. A hit is
 * only declared after comparing state, window and words, so the memo is
 * exact.
 *
 * Memory layout (chosen for a cold process, where every fresh page costs a
 * fault): entries are appended to fixed-size chunks, in order, and never
 * move; a bucket array holds each chain's newest entry. Growing doubles only
 * the bucket array (4 bytes per bucket) and relinks the chains inside the
 * chunks already touched, so the memory touched is about 32 bytes per entry,
 * against 64–128 for an open-addressing table that doubles (16-byte slots,
 * at most half full, every doubling a fresh table, and windows of two words
 * in a doubling arena). Chunks all have one
 * size, so the typed-array pool hands them from one finished partition to
 * the next.
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

// Entry layout (6 ints = 24 bytes): pair hash; state + 1; window start × 4 +
// length code (0, 1, 2, or 3 for "3 or more"); payload: the window's words
// when it has one or two (the second in WORD2), otherwise the offset of its
// words in the arena (stored as [length, words…]); next entry of the chain
// (0 = end). Entry ids start at 1.
const ENTRY = 6;
const HASH = 0;
const KEY = 1;
const SHAPE = 2;
const PAYLOAD = 3;
const WORD2 = 4;
const NEXT = 5;
/** Entries per chunk, as a power of two. */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/** Visited (bitset, state) pairs. */
export class VisitedSet {
  private heads: Int32Array<ArrayBuffer>;
  private mask: number;
  private chunks: Int32Array<ArrayBuffer>[] = [];
  private arena: Int32Array<ArrayBuffer>;
  private used = 0;
  /** Number of pairs stored. */
  size = 0;

  /** `capacity`: the number of pairs expected (a hint; the set grows as needed). */
  constructor(capacity = 256) {
    let buckets = 16;
    while (buckets < capacity) buckets *= 2;
    this.heads = takeInt32(buckets);
    this.mask = buckets - 1;
    this.arena = new Int32Array(64);
  }

  /**
   * Add the pair (`bits` with its window `[lo, hi)`, `state`) whose
   * {@link pairHash} is `hash`. Returns `true` if it was not there before.
   */
  add(hash: number, state: number, bits: Int32Array, lo: number, hi: number): boolean {
    const chunks = this.chunks;
    const len = hi - lo;
    const key = state + 1;
    const shape = lo * 4 + (len < 3 ? len : 3);
    const first = len === 1 || len === 2 ? (bits[lo] as number) : 0;
    const second = len === 2 ? (bits[lo + 1] as number) : 0;
    const b = hash & this.mask;
    const head = this.heads[b] as number;
    for (let e = head; e !== 0; ) {
      const chunk = chunks[(e - 1) >>> CHUNK_BITS] as Int32Array;
      const at = ((e - 1) & CHUNK_MASK) * ENTRY;
      if (chunk[at + KEY] === key && chunk[at + HASH] === hash && chunk[at + SHAPE] === shape) {
        if (len < 3 ? chunk[at + PAYLOAD] === first && chunk[at + WORD2] === second : this.sameWords(chunk[at + PAYLOAD] as number, bits, lo, len)) return false;
      }
      e = chunk[at + NEXT] as number;
    }
    const id = this.size;
    if ((id & CHUNK_MASK) === 0) chunks.push(takeInt32(CHUNK * ENTRY));
    const chunk = chunks[id >>> CHUNK_BITS] as Int32Array;
    const at = (id & CHUNK_MASK) * ENTRY;
    chunk[at + HASH] = hash;
    chunk[at + KEY] = key;
    chunk[at + SHAPE] = shape;
    if (len < 3) {
      chunk[at + PAYLOAD] = first;
      chunk[at + WORD2] = second;
    } else {
      if (this.used + len + 1 > this.arena.length) this.growArena(len + 1);
      chunk[at + PAYLOAD] = this.used;
      const arena = this.arena;
      arena[this.used] = len;
      for (let w = 0; w < len; w++) arena[this.used + 1 + w] = bits[lo + w] as number;
      this.used += len + 1;
    }
    chunk[at + NEXT] = head;
    this.heads[b] = id + 1;
    this.size = id + 1;
    if (this.size > this.mask) this.growBuckets();
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

  /** Double the bucket array and relink every chain (entries stay where they are). */
  private growBuckets(): void {
    const size = (this.mask + 1) * 2;
    const mask = size - 1;
    giveInt32(this.heads);
    const heads = takeInt32(size);
    const chunks = this.chunks;
    // Oldest first, each pushed on its chain's front: chains stay newest first.
    for (let id = 0; id < this.size; id++) {
      const chunk = chunks[id >>> CHUNK_BITS] as Int32Array;
      const at = (id & CHUNK_MASK) * ENTRY;
      const b = (chunk[at + HASH] as number) & mask;
      chunk[at + NEXT] = heads[b] as number;
      heads[b] = id + 1;
    }
    this.heads = heads;
    this.mask = mask;
  }

  /** Give the memory back to the pool; the set must not be used afterwards. */
  release(): void {
    giveInt32(this.heads);
    giveInt32(this.arena);
    for (const chunk of this.chunks) giveInt32(chunk);
    this.chunks = [];
    this.heads = new Int32Array(0);
    this.arena = new Int32Array(0);
  }
}
