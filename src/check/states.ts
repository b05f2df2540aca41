/**
 * State interning.
 *
 * The search handles states only through small integer ids: each distinct
 * model state (by the model's equality) gets one id, so the memo of
 * (linearized set, state) pairs compares integers and transitions can be
 * cached in integer tables.
 *
 * Costs that matter for user models (the generic path), cheapest first:
 * - non-negative int32 states: an integer table, no hashing;
 * - strings: a `Map` (see {@link StateTable.internString}: V8 hashes a
 *   concatenated string without flattening it);
 * - Maps and plain objects derived from an interned state by `step`
 *   ({@link StateTable.internFrom}): only the entries that differ from the
 *   parent state are hashed — the structural hash is a sum over entries, so
 *   the parent's sum is adjusted instead of rehashing every value (a map of
 *   ten long strings where one key changed hashes one value, not ten);
 * - anything else: {@link hashValue}, or the model's own `hash`.
 * Every hash match is confirmed with the model's `equal` (default
 * {@link deepEqual}), and strings merge only when `===`, so interning never
 * merges states that differ.
 */
import type { Model } from './types.ts';
import { deepEqual, hashString, hashValue, mix32 } from './hash.ts';
import { giveInt32, takeInt32 } from './pool.ts';

type Primitive = string | number | bigint | boolean | undefined | null | symbol;

function isPrimitive(v: unknown): v is Primitive {
  return v === null || (typeof v !== 'object' && typeof v !== 'function');
}

// The structural hash of a Map or plain object is a sum of one term per entry
// (so it does not depend on insertion order and can be updated entry by
// entry), finished with the entry count.
const MAP_SEED = 0x2c1b3c6d;
const OBJECT_SEED = 0x6a09e667;

/** The hash term of one Map entry. */
function mapTerm(k: unknown, x: unknown): number {
  return mix32(hashValue(k) ^ Math.imul(hashValue(x), 0x9e3779b1));
}

/** The hash term of one object field (fields whose value is `undefined` have none). */
function fieldTerm(k: string, x: unknown): number {
  return mix32(hashString(k) ^ Math.imul(hashValue(x), 0x9e3779b1));
}

const hasOwn = Object.prototype.hasOwnProperty;

/** States per chunk of the id → state table, as a power of two. */
const STATE_CHUNK_BITS = 12;
const STATE_CHUNK = 1 << STATE_CHUNK_BITS;

/** String states are flattened every this many appends (see {@link StateTable.internString}). */
const FLATTEN_DEPTH = 8;

/** Plain objects: the only objects hashed field by field here. */
function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Gives each distinct state an id 0, 1, 2, … */
export class StateTable<S> {
  // States by id, in chunks of STATE_CHUNK that never move: a growing array
  // would copy itself at every growth, into fresh pages (see get).
  private chunks: S[][] = [];
  private count = 0;
  private hashes = new Int32Array(64);
  // For Map and plain-object states: the sum of entry terms and the entry
  // count (see mapTerm / fieldTerm); kind 1 = Map, 2 = plain object, 0 = other.
  // (Allocated with the first such state.)
  private sums = new Int32Array(0);
  private counts = new Int32Array(0);
  private kinds = new Uint8Array(0);
  private slots: Int32Array<ArrayBuffer> = new Int32Array(128); // id + 1, 0 = empty
  private mask = 127;
  private readonly primitives = new Map<Primitive, number>();
  private readonly strings = new Map<string, number>();
  private depths = new Uint8Array(64);
  private flattened = 0;
  /** No model `equal` and no model `hash`: `===` decides for primitives. */
  private readonly plain: boolean;
  /** The model's `hash`, if any (then structural hashing is never used). */
  private readonly modelHash: ((s: S) => number) | undefined;
  private readonly equalFn: (a: S, b: S) => boolean;

  constructor(model: Model<S, unknown, unknown>) {
    const { equal, hash } = model;
    this.plain = equal === undefined && hash === undefined;
    this.modelHash = hash !== undefined ? (s) => hash.call(model, s) : undefined;
    // Without the model's hash, a structural one. States are merged only
    // when `equal` agrees, so this is always sound; if `equal` ignores some
    // fields, states differing only there are kept apart (less merging).
    this.equalFn = equal !== undefined ? (a, b) => equal.call(model, a, b) : deepEqual;
  }

  /** Number of distinct states so far. */
  get size(): number {
    return this.released >= 0 ? this.released : this.count;
  }

  /** The state with id `id`. */
  get(id: number): S {
    return (this.chunks[id >>> STATE_CHUNK_BITS] as S[])[id & (STATE_CHUNK - 1)] as S;
  }

  /** Store `s` under the next id and return it. */
  private push(s: S): number {
    const id = this.count;
    if ((id & (STATE_CHUNK - 1)) === 0) this.chunks.push(new Array<S>(STATE_CHUNK));
    (this.chunks[id >>> STATE_CHUNK_BITS] as S[])[id & (STATE_CHUNK - 1)] = s;
    this.count = id + 1;
    return id;
  }

  /** The number of states when {@link release} was called, or -1. */
  private released = -1;

  // Non-negative int32 states (models that number their own states): an
  // open-addressing table of (state, id) pairs.
  private ints = new Int32Array(256).fill(-1);
  private intMask = 127;
  private intCount = 0;

  private internInt(s: number): number {
    let ints = this.ints;
    let mask = this.intMask;
    let i = mix32(s) & mask;
    for (;;) {
      const k = ints[2 * i] as number;
      if (k === s) return ints[2 * i + 1] as number;
      if (k === -1) break;
      i = (i + 1) & mask;
    }
    const id = this.push(s as S);
    ints[2 * i] = s;
    ints[2 * i + 1] = id;
    if (++this.intCount * 2 > mask) {
      const old = ints;
      mask = mask * 2 + 1;
      ints = new Int32Array(2 * (mask + 1)).fill(-1);
      for (let j = 0; j < old.length; j += 2) {
        const k = old[j] as number;
        if (k === -1) continue;
        let at = mix32(k) & mask;
        while (ints[2 * at] !== -1) at = (at + 1) & mask;
        ints[2 * at] = k;
        ints[2 * at + 1] = old[j + 1] as number;
      }
      this.ints = ints;
      this.intMask = mask;
    }
    return id;
  }

  /** The id of `s`, adding it if new. */
  intern(s: S): number {
    if (this.modelHash !== undefined) return this.probe(this.modelHash(s) | 0, s, 0, 0, 0);
    if (typeof s === 'string') return this.internString(s, 0);
    if (this.plain && isPrimitive(s)) {
      if (typeof s === 'number' && (s | 0) === s && s >= 0) return this.internInt(s);
      const found = this.primitives.get(s);
      if (found !== undefined) return found;
      const id = this.push(s);
      this.primitives.set(s, id);
      return id;
    }
    if (s instanceof Map) {
      let sum = 0;
      for (const [k, x] of s as Map<unknown, unknown>) sum = (sum + mapTerm(k, x)) | 0;
      return this.probe(mix32((MAP_SEED + sum) ^ s.size), s, 1, sum, s.size);
    }
    if (typeof s === 'object' && s !== null && !Array.isArray(s) && !(s instanceof Set) && isPlainObject(s)) {
      let sum = 0;
      let n = 0;
      for (const k in s) {
        if (!hasOwn.call(s, k)) continue;
        const x = s[k];
        if (x === undefined) continue;
        sum = (sum + fieldTerm(k, x)) | 0;
        n++;
      }
      return this.probe(mix32((OBJECT_SEED + sum) ^ n), s, 2, sum, n);
    }
    return this.probe(hashValue(s), s, 0, 0, 0);
  }

  /**
   * The id of `s`, a state that `step` returned from the state with id
   * `from`. For Map and plain-object states only the entries that differ from
   * `from`'s are hashed; the result is the same as {@link intern}'s.
   */
  internFrom(s: S, from: number): number {
    if (this.modelHash !== undefined) return this.intern(s);
    if (typeof s === 'string') {
      // Longer than the parent: most likely the parent with something
      // appended, one level deeper in V8's tree of string pieces.
      const parent = this.get(from);
      let depth = 0;
      if (typeof parent === 'string' && s.length > parent.length) {
        depth = (this.depths[from] as number) + 1;
        if (depth >= FLATTEN_DEPTH) {
          this.flattened ^= s.charCodeAt(0); // reading a character flattens the string
          depth = 0;
        }
      }
      return this.internString(s, depth);
    }
    if (typeof s === 'object' && s !== null) {
      const kind = this.kinds[from] as number;
      if (kind === 1 && s instanceof Map) return this.internMapFrom(s, from);
      if (kind === 2 && !(s instanceof Map) && !Array.isArray(s) && !(s instanceof Set) && isPlainObject(s)) {
        return this.internObjectFrom(s, from);
      }
    }
    return this.intern(s);
  }

  private internMapFrom(s: Map<unknown, unknown>, from: number): number {
    const parent = this.get(from) as Map<unknown, unknown>;
    let sum = this.sums[from] as number;
    let shared = 0; // keys of `s` also in the parent
    for (const [k, x] of s) {
      const y = parent.get(k);
      if (y === undefined && !parent.has(k)) {
        sum = (sum + mapTerm(k, x)) | 0;
        continue;
      }
      shared++;
      if (x === y) continue;
      sum = (sum - mapTerm(k, y) + mapTerm(k, x)) | 0;
    }
    // A parent key missing from `s`: count again from scratch.
    if (shared !== parent.size) return this.intern(s as S);
    return this.probe(mix32((MAP_SEED + sum) ^ s.size), s as S, 1, sum, s.size);
  }

  private internObjectFrom(s: Record<string, unknown>, from: number): number {
    const parent = this.get(from) as Record<string, unknown>;
    let sum = this.sums[from] as number;
    let n = this.counts[from] as number;
    let shared = 0; // defined fields of the parent also present in `s`
    for (const k in s) {
      if (!hasOwn.call(s, k)) continue;
      const x = s[k];
      const y = hasOwn.call(parent, k) ? parent[k] : undefined;
      if (y !== undefined) shared++;
      if (x === y) continue;
      if (y !== undefined) {
        sum = (sum - fieldTerm(k, y)) | 0;
        n--;
      }
      if (x !== undefined) {
        sum = (sum + fieldTerm(k, x)) | 0;
        n++;
      }
    }
    // A defined parent field missing from `s`: count again from scratch.
    if (shared !== (this.counts[from] as number)) return this.intern(s as S);
    return this.probe(mix32((OBJECT_SEED + sum) ^ n), s as S, 2, sum, n);
  }

  /**
   * Strings: a `Map`. V8 hashes a string built by concatenation (a tree of
   * pieces, a "cons" string) without copying it into one flat buffer, and
   * keeps the hash in the string; hashing it here would flatten it, and flat
   * copies of every state (megabytes for long appended values) cost more in
   * fresh memory and garbage collection than the `Map` costs. But walking a
   * deep tree is slow too, so a state {@link FLATTEN_DEPTH} appends below the
   * last flat one is flattened (`depth`: appends since then). `===` implies
   * the model's `equal`, so merging only equal strings is sound with one.
   */
  private internString(s: string, depth: number): number {
    const strings = this.strings;
    const found = strings.get(s);
    if (found !== undefined) return found;
    const id = this.push(s as S);
    strings.set(s, id);
    if (id >= this.depths.length) {
      const bigger = new Uint8Array(Math.max(2 * this.depths.length, id + 1));
      bigger.set(this.depths);
      this.depths = bigger;
    }
    this.depths[id] = depth;
    return id;
  }

  /** Find `s` (hash `h`) or add it; `kind`, `sum`, `count` as in `sums`. */
  private probe(h: number, s: S, kind: number, sum: number, count: number): number {
    const mask = this.mask;
    const slots = this.slots;
    const hashes = this.hashes;
    let i = mix32(h) & mask;
    for (;;) {
      const slot = slots[i] as number;
      if (slot === 0) break;
      const id = slot - 1;
      if (hashes[id] === h && this.equalFn(this.get(id), s)) return id;
      i = (i + 1) & mask;
    }
    const id = this.push(s);
    if (id >= hashes.length) this.growIds();
    this.hashes[id] = h;
    if (kind !== 0) {
      if (this.kinds.length <= id) this.growKinds();
      this.kinds[id] = kind;
      this.sums[id] = sum;
      this.counts[id] = count;
    }
    slots[i] = id + 1;
    if (id * 2 >= mask) this.grow();
    return id;
  }

  private growIds(): void {
    let cap = this.hashes.length * 2;
    while (cap <= this.count) cap *= 2;
    const hashes = new Int32Array(cap);
    hashes.set(this.hashes);
    this.hashes = hashes;
  }

  private growKinds(): void {
    const cap = this.hashes.length;
    const sums = new Int32Array(cap);
    sums.set(this.sums);
    this.sums = sums;
    const counts = new Int32Array(cap);
    counts.set(this.counts);
    this.counts = counts;
    const kinds = new Uint8Array(cap);
    kinds.set(this.kinds);
    this.kinds = kinds;
  }

  private grow(): void {
    const old = this.slots;
    const size = old.length * 2;
    const mask = size - 1;
    const slots = takeInt32(size);
    const hashes = this.hashes;
    for (let j = 0; j < old.length; j++) {
      const slot = old[j] as number;
      if (slot === 0) continue;
      let i = mix32(hashes[slot - 1] as number) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = slot;
    }
    giveInt32(old);
    this.slots = slots;
    this.mask = mask;
  }

  /**
   * Drop the states and give the lookup table's memory back to the pool once
   * the search is over (only {@link size} stays readable): a check's
   * partitions finish at different times, and the memory of finished ones can
   * then serve the others.
   */
  release(): void {
    this.released = this.count;
    giveInt32(this.slots);
    this.slots = new Int32Array(0);
    this.chunks = [];
    this.strings.clear();
    this.primitives.clear();
    this.ints = new Int32Array(0);
  }
}

/** A transition not computed yet. */
export const UNKNOWN = -2;
/** A cached illegal transition. */
export const ILLEGAL = -1;
