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
 * value must be a prefix of what the read returned. When it is not, no
 * completion exists and the search backtracks at once. Wing & Gong's search
 * alone only finds that out when it reaches the read, after trying every
 * order of the appends in between; on Porcupine's kv histories, where each
 * append adds a distinct piece, the look-ahead cuts the search about
 * fourteen-fold (c50-ok: 342 k steps → 25 k).
 *
 * The test is exact in the direction that matters: a value is only declared
 * a dead end when it provably is (a hash mismatch proves two texts differ; a
 * match, even by collision, declares nothing). It depends only on the
 * linearized set and the value, so it agrees with the memo. Used for
 * compiled single-value partitions (one key of a KV model, or a user model's
 * guessed string instructions) that have both appends and reads.
 */
import { K_APPEND, K_NOP, K_NOT, K_READ, type CompiledOps } from './compiled.ts';
import { KvStore, prefixHashes } from './models/kv-store.ts';

/** Unlinearized reads looked at per test (measured: 1 → 90 k steps on c50-ok, 4 → 25 k, 8 → 22 k, at more cost per step). */
const READS_AHEAD = 4;
/** A read nothing can satisfy (its expected value no operation writes). */
const IMPOSSIBLE = -2;

/** The look-ahead of one partition's compiled operations (see the file comment). */
export class ReadLookahead {
  /** Reads with a definite result, in call order (operation ids). */
  private readonly reads: Int32Array;
  /** Operations that can replace the value (not NOP, READ, NOT or APPEND), in call order. */
  private readonly resets: Int32Array;
  /** For each bitset word w: the index in `reads` / `resets` of the first operation ≥ 32·w. */
  private readonly readFrom: Int32Array;
  private readonly resetFrom: Int32Array;
  private readonly calls: Float64Array;
  private readonly returns: Float64Array;
  /** Value each read expects, its length (-1: NIL, {@link IMPOSSIBLE}) and where its prefix hashes start. */
  private readonly want: Int32Array;
  private readonly wantLen: Int32Array;
  private readonly prefixAt: Int32Array;
  /** Prefix hashes of the expected values, one run of `length + 1` per distinct value. */
  private readonly prefix: Int32Array;
  private readonly store: KvStore;

  private constructor(ops: CompiledOps, store: KvStore, reads: number[], resets: number[], calls: Float64Array, returns: Float64Array) {
    this.store = store;
    this.calls = calls;
    this.returns = returns;
    this.reads = Int32Array.from(reads);
    this.resets = Int32Array.from(resets);
    const words = ((ops.kind.length + 31) >>> 5) + 1;
    this.readFrom = startIndices(this.reads, words);
    this.resetFrom = startIndices(this.resets, words);
    const count = reads.length;
    this.want = new Int32Array(count);
    this.wantLen = new Int32Array(count);
    this.prefixAt = new Int32Array(count);
    // Distinct expected values and their texts, then one table of prefix hashes.
    const at = new Map<number, number>();
    const texts: string[] = [];
    let size = 0;
    for (let i = 0; i < count; i++) {
      const v = ops.a[reads[i] as number] as number;
      this.want[i] = v;
      if (v === KvStore.NIL || v < 0) {
        this.wantLen[i] = v === KvStore.NIL ? -1 : IMPOSSIBLE;
        continue;
      }
      let offset = at.get(v);
      if (offset === undefined) {
        const text = store.text(v);
        offset = size;
        at.set(v, offset);
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
   * (registers), several keys, or no appends or no definite reads.
   */
  static of(ops: CompiledOps, calls: Float64Array, returns: Float64Array): ReadLookahead | undefined {
    const store = ops.store;
    if (store === undefined || ops.key !== undefined) return undefined;
    const reads: number[] = [];
    const resets: number[] = [];
    let appends = false;
    for (let i = 0; i < ops.kind.length; i++) {
      const kind = ops.kind[i] as number;
      if (kind === K_READ) reads.push(i);
      else if (kind === K_APPEND) appends = true;
      else if (kind !== K_NOP && kind !== K_NOT) resets.push(i);
    }
    return appends && reads.length > 0 ? new ReadLookahead(ops, store, reads, resets, calls, returns) : undefined;
  }

  /**
   * Is `value` a dead end, with the operations in `bits` linearized (every
   * operation below word `lo` is)? True only if no completion can exist.
   */
  dead(value: number, bits: Int32Array, lo: number): boolean {
    // Call time of the first replacing operation not linearized yet.
    const resets = this.resets;
    let replaceFrom = Infinity;
    for (let i = this.resetFrom[lo] as number; i < resets.length; i++) {
      const op = resets[i] as number;
      if (((bits[op >>> 5] as number) & (1 << (op & 31))) === 0) {
        replaceFrom = this.calls[op] as number;
        break;
      }
    }
    const reads = this.reads;
    let length = -2;
    for (let i = this.readFrom[lo] as number, seen = 0; i < reads.length && seen < READS_AHEAD; i++) {
      const r = reads[i] as number;
      if (((bits[r >>> 5] as number) & (1 << (r & 31))) !== 0) continue;
      seen++;
      // A replacing operation may come first: this read says nothing about `value`.
      if (replaceFrom <= (this.returns[r] as number)) continue;
      if (value === this.want[i] || value === KvStore.NIL) continue;
      const want = this.wantLen[i] as number;
      if (want < 0) return true;
      if (length === -2) length = this.store.lengthOf(value);
      if (length >= want || this.prefix[(this.prefixAt[i] as number) + length] !== this.store.hashOf(value)) return true;
    }
    return false;
  }
}

/** For each of `words` bitset words w, the first index in `ops` (ascending) of an operation ≥ 32·w. */
function startIndices(ops: Int32Array, words: number): Int32Array {
  const from = new Int32Array(words + 1);
  for (let w = 0, i = 0; w <= words; w++) {
    while (i < ops.length && (ops[i] as number) < w * 32) i++;
    from[w] = i;
  }
  return from;
}
