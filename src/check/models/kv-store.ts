/**
 * The storage behind the KV model's states: hash-consed values and maps in
 * typed arrays, so a state is a small integer and stepping allocates nothing
 * the garbage collector has to keep.
 *
 * - A value is a rope: (parent value, appended piece), the root being the
 *   empty string, each with its length and polynomial hash. `put v` is the
 *   rope (root, v); `append` adds one node.
 * - A map ("version") is a persistent list of (key id, value id) sorted by
 *   key id, newest key first (so adding a key is O(1); changing one costs its
 *   position), each cell hash-consed, so building the same list twice gives
 *   the same id.
 *
 * Equal ids mean equal contents. Equal contents built differently (`put "ab"`
 * versus appending "a" then "b") may get different ids: the checker then
 * merely merges fewer situations, it never merges unequal ones.
 */
import { mix32 } from '../hash.ts';

/** Base of the polynomial string hash (odd, so powers never vanish). */
const BASE = 0x01000193;
/** Hashes are kept to 30 bits (small integers in V8); mod 2^30 arithmetic is consistent. */
const MASK = 0x3fffffff;

/** Polynomial hash of a string, mod 2^30: `h(a + b) = h(a) * BASE^|b| + h(b)`. */
export function polyHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, BASE) + s.charCodeAt(i)) & MASK;
  return h;
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

function grown(a: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** Hash-consing of integer triples: each distinct (a, b, c) gets an id 0, 1, 2, … */
class TripleTable {
  a = new Int32Array(256);
  b = new Int32Array(256);
  c = new Int32Array(256);
  size = 0;
  private slots = new Int32Array(512); // id + 1; 0 = empty
  private mask = 511;

  private static hash(a: number, b: number, c: number): number {
    return mix32(Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77) ^ Math.imul(c + 0x165667b1, 0xc2b2ae3d));
  }

  /** The id of (a, b, c), added if new. */
  intern(a: number, b: number, c: number): number {
    const mask = this.mask;
    let i = TripleTable.hash(a, b, c) & mask;
    for (;;) {
      const slot = this.slots[i] as number;
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
    this.slots[i] = id + 1;
    if (this.size * 2 > mask) this.rehash();
    return id;
  }

  private rehash(): void {
    const size = this.slots.length * 2;
    const mask = size - 1;
    const slots = new Int32Array(size);
    for (let id = 0; id < this.size; id++) {
      let i = TripleTable.hash(this.a[id] as number, this.b[id] as number, this.c[id] as number) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = id + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** Values, maps and keys of one KV model. */
export class KvStore {
  /** The empty string. */
  static readonly ROOT = 0;
  /** The empty map. */
  static readonly EMPTY = 0;

  private readonly pieceIds = new Map<string, number>();
  private readonly pieces: string[] = [];
  private pieceHash = new Int32Array(64);
  private piecePow = new Int32Array(64);
  private readonly values = new TripleTable(); // (parent, piece, 0)
  private valueHash = new Int32Array(256);
  private valueLen = new Int32Array(256);
  private readonly maps = new TripleTable(); // (key id, value id, rest)
  private readonly keyIds = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly stringHashes = new Map<string, number>();
  private lastKey = '';
  private lastKeyId = -1;

  constructor() {
    this.values.intern(-1, -1, 0); // ROOT
    this.maps.intern(-1, -1, -1); // EMPTY
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

  private piece(s: string): number {
    let id = this.pieceIds.get(s);
    if (id === undefined) {
      id = this.pieces.length;
      this.pieces.push(s);
      this.pieceIds.set(s, id);
      if (id >= this.pieceHash.length) {
        this.pieceHash = grown(this.pieceHash, id * 2);
        this.piecePow = grown(this.piecePow, id * 2);
      }
      this.pieceHash[id] = polyHash(s);
      this.piecePow[id] = polyPow(s.length);
    }
    return id;
  }

  /** The value `parent + s`. */
  append(parent: number, s: string): number {
    if (s.length === 0) return parent;
    const p = this.piece(s);
    const before = this.values.size;
    const id = this.values.intern(parent, p, 0);
    if (id === before) {
      if (id >= this.valueHash.length) {
        this.valueHash = grown(this.valueHash, id * 2);
        this.valueLen = grown(this.valueLen, id * 2);
      }
      this.valueHash[id] = (Math.imul(this.valueHash[parent] as number, this.piecePow[p] as number) + (this.pieceHash[p] as number)) & MASK;
      this.valueLen[id] = (this.valueLen[parent] as number) + s.length;
    }
    return id;
  }

  /** Does value `v` spell `s`? (Length and hash first; then the pieces, without building strings.) */
  spells(v: number, s: string): boolean {
    if (this.valueLen[v] !== s.length) return false;
    let h = this.stringHashes.get(s);
    if (h === undefined) {
      h = polyHash(s);
      this.stringHashes.set(s, h);
    }
    if (this.valueHash[v] !== h) return false;
    let end = s.length;
    const { a: parent, b: piece } = this.values;
    while (v !== KvStore.ROOT) {
      const p = this.pieces[piece[v] as number] as string;
      end -= p.length;
      if (!s.startsWith(p, end)) return false;
      v = parent[v] as number;
    }
    return end === 0;
  }

  /** The text of value `v`. */
  text(v: number): string {
    const parts: string[] = [];
    const { a: parent, b: piece } = this.values;
    while (v !== KvStore.ROOT) {
      parts.push(this.pieces[piece[v] as number] as string);
      v = parent[v] as number;
    }
    return parts.reverse().join('');
  }

  /** Value id of key id `k` in map `m`, or -1. */
  lookup(m: number, k: number): number {
    const { a: key, b: value, c: rest } = this.maps;
    while (m !== KvStore.EMPTY) {
      const mk = key[m] as number;
      if (mk === k) return value[m] as number;
      if (mk < k) return -1;
      m = rest[m] as number;
    }
    return -1;
  }

  /** Map `m` with key id `k` set to value `v` (or removed when `v` is -1). */
  set(m: number, k: number, v: number): number {
    // Walk to the cell for k (cells before it are copied onto the new tail).
    const before: number[] = [];
    let cell = m;
    while (cell !== KvStore.EMPTY && (this.maps.a[cell] as number) > k) {
      before.push(cell);
      cell = this.maps.c[cell] as number;
    }
    let tail: number;
    if (cell !== KvStore.EMPTY && this.maps.a[cell] === k) {
      if (v >= 0 && this.maps.b[cell] === v) return m;
      tail = v < 0 ? (this.maps.c[cell] as number) : this.maps.intern(k, v, this.maps.c[cell] as number);
    } else {
      if (v < 0) return m;
      tail = this.maps.intern(k, v, cell);
    }
    for (let i = before.length - 1; i >= 0; i--) {
      const b = before[i] as number;
      tail = this.maps.intern(this.maps.a[b] as number, this.maps.b[b] as number, tail);
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
