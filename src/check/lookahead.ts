/**
 * Look-ahead for histories with appends: dead ends the search can see
 * before it walks into them.
 *
 * Between two operations that replace a value (a put, a delete, a CAS), the
 * value only grows, by appends. Take a read with a definite result that the
 * search has not linearized yet. If no operation that could replace the value
 * is left among those called before that read returns, then everything
 * linearized before the read is an append or leaves the value alone, so the
 * read will see the current value with some pieces appended: the current
 * value must be a prefix of what the read returned. If such operations are
 * left, the read may instead see what one of them leaves (a put's value, a
 * swapped CAS's new value, a delete's absent value) with pieces appended.
 * When no candidate is a prefix, no completion exists
 * and the search backtracks at once. Wing & Gong's search alone only finds
 * that out when it reaches the read, after trying every order of the appends
 * in between; on Porcupine's kv histories, where each append adds a distinct
 * piece, the look-ahead cuts the search about 25-fold (c50-ok: 342 k steps →
 * 13 k; c50-bad: 63 k → 2 k).
 *
 * The test is exact in the direction that matters: a value is only declared
 * a dead end when it provably is (a hash mismatch proves two texts differ; a
 * match, even by collision, declares nothing). It depends only on the
 * linearized set and the value, so it agrees with the memo. Used for
 * compiled operations with both appends and reads: one key of a KV model, a
 * user model's guessed string instructions, or a KV history checked without
 * partitioning, where the state is a map and each read is held against its
 * own key's value and its own key's replacing operations (other keys cannot
 * touch it); c10-bad unpartitioned: 902 k → 29 k steps.
 */
import { K_APPEND, K_NOP, K_NOT, K_READ, K_TAKE, K_WRITE, type CompiledOps } from './compiled.ts';
import { KvStore, prefixHashes } from './models/kv-store.ts';

/**
 * Unlinearized reads looked at per test: one value (measured on c50-ok: 1 →
 * 86 k steps, 2 → 25 k, 4 → 16 k, 8 → 13.4 k, 16 → 13.4 k; cold kv set
 * ~135 → ~113 ms from 4 to 8), several keys (unpartitioned c10-bad: 4 →
 * 100 k, 8 → 54 k, 16 → 29 k; cold c01 + c10 ~155 → ~115 ms from 4 to 16).
 */
const READS_AHEAD_ONE_KEY = 8;
const READS_AHEAD_KEYS = 16;
/** Replacing operations looked at per read before it is taken to be satisfiable. */
const BASES_LOOKED = 32;
/** Largest per-key start table (ints) built. */
const MAX_TABLE = 1 << 22;
/** A read nothing can satisfy (its expected value no operation writes). */
const IMPOSSIBLE = -2;
/** A read whose value got no prefix table (the tables' size limit was reached): it never declares a dead end. */
const UNTABLED = -3;
/** Most prefix hashes kept (ints) for one partition: long values read many times stop being tabled there. */
const MAX_PREFIXES = 1 << 22;

/** The look-ahead of one partition's compiled operations (see the file comment). */
export class ReadLookahead {
  /** Reads with a definite result, in call order (operation ids). */
  private readonly reads: Int32Array;
  /** For each bitset word w: the index in `reads` of the first read ≥ 32·w. */
  private readonly readFrom: Int32Array;
  /**
   * Operations that can replace a value (not NOP, READ, NOT or APPEND),
   * grouped by key, each group in call order; `resetFrom[k · (words + 1) + w]`
   * is the index of key k's first such operation ≥ 32·w, and
   * `resetFrom[k · (words + 1) + words]` the end of its group.
   */
  private readonly resets: Int32Array;
  private readonly resetFrom: Int32Array;
  private readonly stride: number;
  /** Reads looked at per test. */
  private readonly ahead: number;
  /** Key id of each operation when the state is a map (several keys), else undefined. */
  private readonly key: Int32Array | undefined;
  /** Instruction and arguments of each operation. */
  private readonly kind: Uint8Array;
  private readonly argA: Int32Array;
  private readonly argB: Int32Array;
  private readonly calls: Float64Array;
  private readonly returns: Float64Array;
  /** Length of the value each read expects (its `argA`; -1: NIL, {@link IMPOSSIBLE}, {@link UNTABLED}) and where its prefix hashes start. */
  private readonly wantLen: Int32Array;
  private readonly prefixAt: Int32Array;
  /** Prefix hashes of the expected values, one run of `length + 1` per distinct value. */
  private readonly prefix: Int32Array;
  private readonly store: KvStore;

  private constructor(ops: CompiledOps, store: KvStore, reads: number[], resets: number[][], calls: Float64Array, returns: Float64Array) {
    this.store = store;
    this.key = ops.key;
    this.ahead = ops.key === undefined ? READS_AHEAD_ONE_KEY : READS_AHEAD_KEYS;
    this.kind = ops.kind;
    this.argA = ops.a;
    this.argB = ops.b;
    this.calls = calls;
    this.returns = returns;
    const words = (ops.kind.length + 31) >>> 5;
    this.reads = Int32Array.from(reads);
    this.readFrom = new Int32Array(words + 1);
    startIndices(this.reads, 0, this.reads.length, words, this.readFrom, 0);
    this.stride = words + 1;
    this.resets = new Int32Array(resets.reduce((sum, group) => sum + group.length, 0));
    this.resetFrom = new Int32Array(resets.length * this.stride);
    let at = 0;
    resets.forEach((group, k) => {
      this.resets.set(group, at);
      startIndices(this.resets, at, at + group.length, words, this.resetFrom, k * this.stride);
      at += group.length;
    });
    const count = reads.length;
    this.wantLen = new Int32Array(count);
    this.prefixAt = new Int32Array(count);
    // Distinct expected values and their texts, then one table of prefix hashes.
    const offsets = new Map<number, number>();
    const texts: string[] = [];
    let size = 0;
    for (let i = 0; i < count; i++) {
      const v = ops.a[reads[i] as number] as number;
      if (v === KvStore.NIL || v < 0) {
        this.wantLen[i] = v === KvStore.NIL ? -1 : IMPOSSIBLE;
        continue;
      }
      let offset = offsets.get(v);
      if (offset === undefined) {
        if (size + store.lengthOf(v) + 1 > MAX_PREFIXES) {
          this.wantLen[i] = UNTABLED;
          continue;
        }
        const text = store.text(v);
        offset = size;
        offsets.set(v, offset);
        texts.push(text);
        size += text.length + 1;
      }
      this.wantLen[i] = store.lengthOf(v);
      this.prefixAt[i] = offset;
    }
    this.prefix = new Int32Array(size);
    let offset = 0;
    for (const text of texts) {
      prefixHashes(text, this.prefix, offset);
      offset += text.length + 1;
    }
  }

  /**
   * The look-ahead for `ops` (operations numbered by call time, with these
   * call and return times), or `undefined` when it cannot help: no store
   * (registers), or no appends or no definite reads.
   */
  static of(ops: CompiledOps, calls: Float64Array, returns: Float64Array): ReadLookahead | undefined {
    const store = ops.store;
    const key = ops.key;
    const reads: number[] = [];
    const resets: number[][] = [];
    let appends = false;
    for (let i = 0; i < ops.kind.length; i++) {
      const kind = ops.kind[i] as number;
      if (kind === K_READ) reads.push(i);
      else if (kind === K_APPEND) appends = true;
      else if (kind !== K_NOP && kind !== K_NOT) {
        const k = key === undefined ? 0 : (key[i] as number);
        while (resets.length <= k) resets.push([]);
        (resets[k] as number[]).push(i);
      }
    }
    if (store === undefined || !appends || reads.length === 0) return undefined;
    // Every key a read names needs a (maybe empty) group.
    for (const r of reads) {
      const k = key === undefined ? 0 : (key[r] as number);
      while (resets.length <= k) resets.push([]);
    }
    // (A table of start indices per key and word: not for histories with very many keys.)
    if (resets.length * ((ops.kind.length >>> 5) + 2) > MAX_TABLE) return undefined;
    return new ReadLookahead(ops, store, reads, resets, calls, returns);
  }

  /**
   * Is `state` (a value, or a map of values when there are several keys) a
   * dead end, with the operations in `bits` linearized (every operation below
   * word `lo` is)? True only if no completion can exist.
   */
  dead(state: number, bits: Int32Array, lo: number): boolean {
    const { reads, resets, resetFrom, key, ahead } = this;
    for (let i = this.readFrom[lo] as number, seen = 0; i < reads.length && seen < ahead; i++) {
      const r = reads[i] as number;
      if (((bits[r >>> 5] as number) & (1 << (r & 31))) !== 0) continue;
      seen++;
      // The read sees, with pieces appended, either the current value or
      // what one of the replacing operations that may come before it (on its
      // key, not linearized, called before it returns) leaves.
      const k = key === undefined ? 0 : (key[r] as number);
      const ret = this.returns[r] as number;
      let reachable = this.grows(key === undefined ? state : this.store.lookup(state, k), i);
      for (let j = resetFrom[k * this.stride + lo] as number, end = resetFrom[k * this.stride + this.stride - 1] as number, looked = 0; j < end && !reachable; j++) {
        const op = resets[j] as number;
        if ((this.calls[op] as number) > ret) break;
        if (((bits[op >>> 5] as number) & (1 << (op & 31))) !== 0) continue;
        // Past a few candidates (many pending puts), assume the read is fine.
        if (++looked > BASES_LOOKED) reachable = true;
        else {
          const kind = this.kind[op];
          reachable = this.grows(kind === K_WRITE || kind === K_TAKE ? (this.argA[op] as number) : (this.argB[op] as number), i);
        }
      }
      if (!reachable) return true;
    }
    return false;
  }

  /** Can `value` become what read number `i` expects by appends alone? (False only if provably not.) */
  private grows(value: number, i: number): boolean {
    if (value === this.argA[this.reads[i] as number] || value === KvStore.NIL) return true;
    const want = this.wantLen[i] as number;
    if (want < 0) return want === UNTABLED;
    const length = this.store.lengthOf(value);
    return length < want && this.prefix[(this.prefixAt[i] as number) + length] === this.store.hashOf(value);
  }
}

/**
 * For each bitset word w ≤ `words`: the index in `ops[from … to)` (ascending)
 * of the first operation ≥ 32·w (`to` if none), written to `out[at + w]`.
 */
function startIndices(ops: Int32Array, from: number, to: number, words: number, out: Int32Array, at: number): void {
  for (let w = 0, i = from; w <= words; w++) {
    while (i < to && (ops[i] as number) < w * 32) i++;
    out[at + w] = i;
  }
}
