/**
 * Hashing and structural equality for model states. All hashes are 32-bit
 * integers (signed, as `Math.imul` gives them); only equality of hashes
 * matters.
 */

/** Finaliser of MurmurHash3: spreads every input bit over the output. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** FNV-1a over UTF-16 code units, then {@link mix32}. */
export function hashString(s: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h ^ s.length);
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Hash of a number (equal numbers, including -0 and 0, hash alike). */
export function hashNumber(x: number): number {
  if ((x | 0) === x) return mix32(x ^ 0x2545f491);
  f64[0] = x === 0 ? 0 : x;
  return mix32((u32[0] as number) ^ mix32(u32[1] as number));
}

/**
 * Structural hash: primitives by value; arrays in order; plain objects, Maps
 * and Sets independently of insertion order. Consistent with
 * {@link deepEqual}. Other objects hash by their own enumerable fields.
 */
export function hashValue(v: unknown): number {
  switch (typeof v) {
    case 'number':
      return hashNumber(v);
    case 'string':
      return hashString(v);
    case 'boolean':
      return v ? 0x1b873593 : 0x0e6546b6;
    case 'undefined':
      return 0x5bd1e995;
    case 'bigint':
      return hashString(v.toString()) ^ 0x3c6ef372;
    case 'symbol':
    case 'function':
      return 0x7f4a7c15;
    default:
      break;
  }
  if (v === null) return 0x68e31da4;
  if (Array.isArray(v)) {
    let h = 0x12345678 ^ v.length;
    for (const x of v) h = Math.imul(h ^ hashValue(x), 0x01000193);
    return mix32(h);
  }
  if (v instanceof Map) {
    let h = 0x2c1b3c6d;
    for (const [k, x] of v) h = (h + mix32(hashValue(k) ^ Math.imul(hashValue(x), 0x9e3779b1))) | 0;
    return mix32(h ^ v.size);
  }
  if (v instanceof Set) {
    let h = 0x297a2d39;
    for (const x of v) h = (h + hashValue(x)) | 0;
    return mix32(h ^ v.size);
  }
  let h = 0x6a09e667;
  let n = 0;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    const x = o[k];
    if (x === undefined) continue;
    h = (h + mix32(hashString(k) ^ Math.imul(hashValue(x), 0x9e3779b1))) | 0;
    n++;
  }
  return mix32(h ^ n);
}

/**
 * Structural equality matching {@link hashValue}: `Object.is`-like for
 * primitives (but `0` equals `-0`), element-wise for arrays, entry-wise for
 * Maps, Sets and objects of the same prototype (own enumerable fields; an
 * `undefined` field equals a missing one). Data it cannot see — private
 * `#fields`, closures — is not compared: such states need the model's `equal`.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return a !== a && b !== b; // NaN
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, x] of a) {
      if (!b.has(k) || !deepEqual(x, b.get(k))) return false;
    }
    return true;
  }
  if (a instanceof Set) {
    if (!(b instanceof Set) || a.size !== b.size) return false;
    for (const x of a) if (!b.has(x)) return false;
    return true;
  }
  if (b instanceof Map || b instanceof Set || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let n = 0;
  for (const k in ra) {
    if (!Object.prototype.hasOwnProperty.call(ra, k) || ra[k] === undefined) continue;
    if (!Object.prototype.hasOwnProperty.call(rb, k) || !deepEqual(ra[k], rb[k])) return false;
    n++;
  }
  for (const k in rb) if (Object.prototype.hasOwnProperty.call(rb, k) && rb[k] !== undefined) n--;
  return n === 0;
}
