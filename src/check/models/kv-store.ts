/**
 * The storage behind the KV model's states: hash-consed values and maps in
 * typed arrays, so a state is a small integer and stepping allocates nothing
 * the garbage collector has to keep.
 *
 * - A value is a rope node (parent value + appended piece) with its length and
 *   polynomial hash; the root is the empty string. Values are **canonical**:
 *   each string has exactly one id, however it was built (`put "ab"` and
 *   `append "a"` then `append "b"` give the same id), so comparing values is
 *   comparing integers. Appending looks up (value, piece) in a cache first;
 *   on a miss the new string's length and hash are computed from its parent's
 *   in O(1) and looked up among the existing values (texts are compared only
 *   when both match).
 * - A map is a persistent list of (key id, value id) cells sorted by key id,
 *   newest key first (adding a key is O(1); changing one costs its position),
 *   each cell hash-consed, so equal maps have equal ids.
 * - A missing key reads as {@link KvStore.absent}: the id of the store's
 *   `absent` string, or the special value {@link KvStore.NIL} (distinct from
 *   every string) when there is none. Setting a key to `absent` removes it.
 */
import { mix32 } from '../hash.ts';
import { giveInt32, takeInt32 } from '../pool.ts';

/** Base of the polynomial string hash (odd, so powers never vanish). */
const BASE = 0x01000193;
/** Hashes are kept to 30 bits (small integers in V8); mod 2^30 arithmetic is consistent. */
const MASK = 0x3fffffff;
/** Append cache sizes (slot masks): grown freely up to CACHE_TRIAL, never past CACHE_MAX. */
const CACHE_TRIAL = (1 << 12) - 1;
const CACHE_MAX = (1 << 20) - 1;

/** Polynomial hash of a string, mod 2^30: `h(a + b) = h(a) * BASE^|b| + h(b)`. */
export function polyHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, BASE) + s.charCodeAt(i)) & MASK;
  return h;
}

/**
 * Write the {@link polyHash} of every prefix of `s` (lengths 0 … |s|) into
 * `out` from index `at`; `out` needs `s.length + 1` free slots.
 */
export function prefixHashes(s: string, out: Int32Array, at: number): void {
  let h = 0;
  out[at] = 0;
  for (let i = 0; i < s.length; i++) {
    h = (Math.imul(h, BASE) + s.charCodeAt(i)) & MASK;
    out[at + i + 1] = h;
  }
}

function polyPow(len: number): number {
  let r = 1;
  let b = BASE;
  while (len > 0) {
    if (len & 1) r = Math.imul(r, b) & MASK;
    b = Math.imul(b, b) & MASK;
    len >>>= 1;
  }
  return r;
}

function grown(a: Int32Array<ArrayBuffer>, size: number): Int32Array<ArrayBuffer> {
  const b = takeInt32(size);
  b.set(a);
  giveInt32(a);
  return b;
}

function hash3(a: number, b: number, c: number): number {
  return mix32(Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77) ^ Math.imul(c + 0x165667b1, 0xc2b2ae3d));
}

/** Hash-consing of integer triples: each distinct (a, b, c) gets an id 0, 1, 2, … */
class TripleTable {
  a = new Int32Array(64);
  b = new Int32Array(64);
  c = new Int32Array(64);
  size = 0;
  private slots = new Int32Array(128); // id + 1; 0 = empty
  private mask = 127;

  /** The id of (a, b, c), added if new. */
  intern(a: number, b: number, c: number): number {
    const mask = this.mask;
    const slots = this.slots;
    let i = hash3(a, b, c) & mask;
    for (;;) {
      const slot = slots[i] as number;
      if (slot === 0) break;
      const id = slot - 1;
      if (this.a[id] === a && this.b[id] === b && this.c[id] === c) return id;
      i = (i + 1) & mask;
    }
    const id = this.size++;
    if (id >= this.a.length) {
      const size = this.a.length * 2;
      this.a = grown(this.a, size);
      this.b = grown(this.b, size);
      this.c = grown(this.c, size);
    }
    this.a[id] = a;
    this.b[id] = b;
    this.c[id] = c;
    slots[i] = id + 1;
    if (this.size * 2 > mask) this.rehash();
    return id;
  }

  private rehash(): void {
    const size = this.slots.length * 2;
    const mask = size - 1;
    const slots = takeInt32(size);
    giveInt32(this.slots);
    for (let id = 0; id < this.size; id++) {
      let i = hash3(this.a[id] as number, this.b[id] as number, this.c[id] as number) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = id + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** Values, maps and keys of one KV model (or of one check). */
export class KvStore {
  /** The empty string. */
  static readonly ROOT = 0;
  /** "No value": what a missing key reads as when the store has no `absent` string. */
  static readonly NIL = 1;
  /** The empty map. */
  static readonly EMPTY = 0;
  /** An id no value has (an expectation nothing meets). */
  static readonly NEVER = -3;

  /** What a missing key reads as: {@link KvStore.NIL}, or the id of the `absent` string. */
  readonly absent: number;
  private readonly absentText: string | undefined;

  // Pieces: the distinct strings appended, put or compared.
  private readonly pieceIds = new Map<string, number>();
  private readonly pieces: string[] = [];
  private pieceHash = new Int32Array(64);
  private piecePow = new Int32Array(64);
  private pieceLen = new Int32Array(64);

  // Values: rope nodes, canonical by content.
  private parent = new Int32Array(256);
  private piece = new Int32Array(256);
  private len = new Int32Array(256);
  private hash = new Int32Array(256);
  private count = 0;
  private canon = new Int32Array(512); // value id + 1, by (len, hash); 0 = empty
  private canonMask = 511;
  // Append cache: (value, piece) → value, 3 ints per slot (value + 1, piece,
  // result), direct-mapped and lossy (a miss only costs a canonical lookup).
  // Past CACHE_TRIAL slots it grows only while a quarter of its lookups hit:
  // histories whose appends rarely repeat from the same value (a partitioned
  // kv history: one in ten) would otherwise fill megabytes of fresh memory
  // that cost more, in page faults, than the lookups they save.
  private cache = new Int32Array(3 * 512);
  private cacheMask = 511;
  private cached = 0;
  /** Filled slots at which {@link growCache} is asked to grow (it decides). */
  private cacheGrowAt = 256;
  private cacheLookups = 0;
  private cacheHits = 0;

  private readonly maps = new TripleTable(); // (key id, value id, rest)
  private readonly keyIds = new Map<string, number>();
  private readonly keys: string[] = [];
  private lastKey = '';
  private lastKeyId = -1;
  private scratch = new Int32Array(16);

  /** `absent`: what a missing key reads as and appends start from (default: no value). */
  constructor(absent?: string) {
    this.node(-1, this.pieceId(''), 0, 0); // ROOT
    this.node(-1, 0, -1, -1); // NIL (not in the canonical table)
    this.maps.intern(-1, -1, -1); // EMPTY
    this.absentText = absent;
    this.absent = absent === undefined ? KvStore.NIL : this.value(absent);
  }

  /** Number of distinct values so far (including the root and NIL). */
  get values(): number {
    return this.count;
  }

  /** Number of distinct maps so far. */
  get mapCount(): number {
    return this.maps.size;
  }

  /** Id of a key (registered on first sight). */
  keyId(key: string): number {
    if (key === this.lastKey && this.lastKeyId >= 0) return this.lastKeyId;
    let id = this.keyIds.get(key);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push(key);
      this.keyIds.set(key, id);
    }
    this.lastKey = key;
    this.lastKeyId = id;
    return id;
  }

  /** Id of a piece (a string that can be appended). */
  pieceId(s: string): number {
    let id = this.pieceIds.get(s);
    if (id === undefined) {
      id = this.pieces.length;
      this.pieces.push(s);
      this.pieceIds.set(s, id);
      if (id >= this.pieceHash.length) {
        this.pieceHash = grown(this.pieceHash, id * 2);
        this.piecePow = grown(this.piecePow, id * 2);
        this.pieceLen = grown(this.pieceLen, id * 2);
      }
      this.pieceHash[id] = polyHash(s);
      this.piecePow[id] = polyPow(s.length);
      this.pieceLen[id] = s.length;
    }
    return id;
  }

  private node(parent: number, piece: number, len: number, hash: number): number {
    const id = this.count++;
    if (id >= this.parent.length) {
      const size = this.parent.length * 2;
      this.parent = grown(this.parent, size);
      this.piece = grown(this.piece, size);
      this.len = grown(this.len, size);
      this.hash = grown(this.hash, size);
    }
    this.parent[id] = parent;
    this.piece[id] = piece;
    this.len[id] = len;
    this.hash[id] = hash;
    return id;
  }

  /**
   * Slot of the canonical table holding the value of (len, hash) that spells
   * `s` (or, when `s` is undefined, value `v` + piece `p`), or the empty slot
   * to put it in.
   */
  private findCanon(len: number, hash: number, s: string | undefined, v: number, p: number): number {
    const canon = this.canon;
    const mask = this.canonMask;
    let i = mix32(hash ^ Math.imul(len, 0x9e3779b1)) & mask;
    let want: string | undefined;
    for (;;) {
      const slot = canon[i] as number;
      if (slot === 0) return i;
      const id = slot - 1;
      if (this.len[id] === len && this.hash[id] === hash) {
        if (s === undefined && this.piece[id] === p) {
          // Same last piece: the texts are equal iff the parents' are, and
          // values are canonical, so iff the parents are the same id (no
          // text is built: this is the common case of an append met again).
          if (this.parent[id] === v) return i;
        } else {
          want ??= s ?? this.text(v) + (this.pieces[p] as string);
          if (this.text(id) === want) return i;
        }
      }
      i = (i + 1) & mask;
    }
  }

  private addCanon(slot: number, id: number): void {
    this.canon[slot] = id + 1;
    if (this.count * 2 > this.canonMask) this.growCanon();
  }

  /** Double the canonical table: every value but the root and NIL is in it. */
  private growCanon(): void {
    const size = this.canon.length * 2;
    const mask = size - 1;
    const canon = takeInt32(size);
    const { hash, len } = this;
    for (let id = 2; id < this.count; id++) {
      let i = mix32((hash[id] as number) ^ Math.imul(len[id] as number, 0x9e3779b1)) & mask;
      while (canon[i] !== 0) i = (i + 1) & mask;
      canon[i] = id + 1;
    }
    giveInt32(this.canon);
    this.canon = canon;
    this.canonMask = mask;
  }

  /** The id of string `s` (added if new). */
  value(s: string): number {
    if (s.length === 0) return KvStore.ROOT;
    const p = this.pieceId(s);
    const len = this.pieceLen[p] as number;
    const hash = this.pieceHash[p] as number;
    const slot = this.findCanon(len, hash, s, 0, 0);
    const found = this.canon[slot] as number;
    if (found !== 0) return found - 1;
    const id = this.node(KvStore.ROOT, p, len, hash);
    this.addCanon(slot, id);
    return id;
  }

  /** The id of string `s` if some value spells it, else -1 (adds nothing). */
  find(s: string): number {
    if (s.length === 0) return KvStore.ROOT;
    const slot = this.findCanon(s.length, polyHash(s), s, 0, 0);
    return (this.canon[slot] as number) - 1;
  }

  /** What an expectation means: `undefined` → the absent value if it is NIL, else {@link KvStore.NEVER}; a string → its id. */
  expect(s: string | undefined): number {
    if (s === undefined) return this.absentText === undefined ? KvStore.NIL : KvStore.NEVER;
    return this.value(s);
  }

  /** The value `v + piece` (appending to NIL starts from the empty string). */
  append(v: number, piece: number): number {
    if (v === KvStore.NIL) v = KvStore.ROOT;
    const plen = this.pieceLen[piece] as number;
    if (plen === 0) return v;
    const cache = this.cache;
    const at = 3 * (hash3(v, piece, 0) & this.cacheMask);
    this.cacheLookups++;
    if (cache[at] === v + 1 && cache[at + 1] === piece) {
      this.cacheHits++;
      return cache[at + 2] as number;
    }
    const len = (this.len[v] as number) + plen;
    const hash = (Math.imul(this.hash[v] as number, this.piecePow[piece] as number) + (this.pieceHash[piece] as number)) & MASK;
    const slot = this.findCanon(len, hash, undefined, v, piece);
    let id = (this.canon[slot] as number) - 1;
    if (id < 0) {
      id = this.node(v, piece, len, hash);
      this.addCanon(slot, id);
    }
    const fresh = cache[at] === 0;
    cache[at] = v + 1;
    cache[at + 1] = piece;
    cache[at + 2] = id;
    // One comparison here; the policy lives in growCache (a path V8 has rarely seen).
    if (fresh && ++this.cached >= this.cacheGrowAt) this.growCache();
    return id;
  }

  /** The value `v + s`. */
  appendText(v: number, s: string): number {
    return this.append(v, this.pieceId(s));
  }

  /** Double the append cache when it is half full, if it may grow (see the fields). */
  private growCache(): void {
    const pays = this.cacheHits * 4 >= this.cacheLookups || this.cacheMask < CACHE_TRIAL;
    if (this.cacheMask >= CACHE_MAX || !pays) {
      // Not now: ask again once another eighth of the slots has filled.
      this.cacheGrowAt = this.cached + (this.cacheMask + 1) / 8;
      return;
    }
    const old = this.cache;
    const size = (this.cacheMask + 1) * 2;
    const mask = size - 1;
    const cache = takeInt32(3 * size);
    let fill = 0;
    for (let at = 0; at < old.length; at += 3) {
      const k = old[at] as number;
      if (k === 0) continue;
      const i = hash3(k - 1, old[at + 1] as number, 0) & mask;
      if (cache[3 * i] === 0) fill++;
      cache[3 * i] = k;
      cache[3 * i + 1] = old[at + 1] as number;
      cache[3 * i + 2] = old[at + 2] as number;
    }
    giveInt32(old);
    this.cache = cache;
    this.cacheMask = mask;
    this.cached = fill;
    this.cacheGrowAt = (mask + 1) / 2;
  }

  /** Give the value tables' memory back to the pool; only counts may be read afterwards. */
  release(): void {
    for (const a of [this.parent, this.piece, this.len, this.hash, this.canon, this.cache]) giveInt32(a);
    this.parent = this.piece = this.len = this.hash = this.canon = this.cache = new Int32Array(0);
  }

  /** Does value `v` spell `s`? */
  spells(v: number, s: string): boolean {
    return v !== KvStore.NIL && v === this.find(s);
  }

  /** Length of value `v` (-1 for NIL). */
  lengthOf(v: number): number {
    return this.len[v] as number;
  }

  /** {@link polyHash} of value `v`'s text (-1 for NIL). */
  hashOf(v: number): number {
    return this.hash[v] as number;
  }

  /** The text of value `v` (NIL, which no map holds, gives `''`). */
  text(v: number): string {
    if (v === KvStore.NIL) return '';
    const parts: string[] = [];
    while (v !== KvStore.ROOT) {
      parts.push(this.pieces[this.piece[v] as number] as string);
      v = this.parent[v] as number;
    }
    return parts.length === 1 ? (parts[0] as string) : parts.reverse().join('');
  }

  /** Value id of key id `k` in map `m`, or {@link absent}. */
  lookup(m: number, k: number): number {
    const { a: key, b: value, c: rest } = this.maps;
    while (m !== KvStore.EMPTY) {
      const mk = key[m] as number;
      if (mk === k) return value[m] as number;
      if (mk < k) return this.absent;
      m = rest[m] as number;
    }
    return this.absent;
  }

  /** Map `m` with key id `k` set to value `v` (removed when `v` is {@link absent}). */
  set(m: number, k: number, v: number): number {
    const maps = this.maps;
    // Walk to the cell for k (cells before it are copied onto the new tail).
    let depth = 0;
    let cell = m;
    while (cell !== KvStore.EMPTY && (maps.a[cell] as number) > k) {
      if (depth === this.scratch.length) this.scratch = grown(this.scratch, depth * 2);
      this.scratch[depth++] = cell;
      cell = maps.c[cell] as number;
    }
    const remove = v === this.absent;
    let tail: number;
    if (cell !== KvStore.EMPTY && maps.a[cell] === k) {
      if (!remove && maps.b[cell] === v) return m;
      tail = remove ? (maps.c[cell] as number) : maps.intern(k, v, maps.c[cell] as number);
    } else {
      if (remove) return m;
      tail = maps.intern(k, v, cell);
    }
    const scratch = this.scratch;
    for (let i = depth - 1; i >= 0; i--) {
      const b = scratch[i] as number;
      tail = maps.intern(maps.a[b] as number, maps.b[b] as number, tail);
    }
    return tail;
  }

  /** The entries of map `m` as a plain Map (a copy). */
  entries(m: number): Map<string, string> {
    const out = new Map<string, string>();
    const { a: key, b: value, c: rest } = this.maps;
    while (m !== KvStore.EMPTY) {
      out.set(this.keys[key[m] as number] as string, this.text(value[m] as number));
      m = rest[m] as number;
    }
    return out;
  }
}
