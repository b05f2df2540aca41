/**
 * State interning and the transition cache.
 *
 * The search handles states only through small integer ids: each distinct
 * model state (by the model's equality) gets one id, so the memo of
 * (linearized set, state) pairs compares integers and transitions can be
 * cached in integer tables.
 */
import type { Model } from './types.ts';
import { deepEqual, hashValue, mix32 } from './hash.ts';

type Primitive = string | number | bigint | boolean | undefined | null | symbol;

function isPrimitive(v: unknown): v is Primitive {
  return v === null || (typeof v !== 'object' && typeof v !== 'function');
}

/** Gives each distinct state an id 0, 1, 2, … */
export class StateTable<S> {
  /** State by id. */
  readonly states: S[] = [];
  private hashes = new Int32Array(64);
  private slots = new Int32Array(128); // id + 1, 0 = empty
  private mask = 127;
  private readonly primitives = new Map<Primitive, number>();
  private readonly usePrimitiveMap: boolean;
  private readonly hashFn: (s: S) => number;
  private readonly equalFn: (a: S, b: S) => boolean;

  constructor(model: Model<S, unknown, unknown>) {
    const { equal, hash } = model;
    this.usePrimitiveMap = equal === undefined && hash === undefined;
    if (equal !== undefined) {
      this.equalFn = (a, b) => equal.call(model, a, b);
      // Without the model's hash, a structural one. States are merged only
      // when `equal` agrees, so this is always sound; if `equal` ignores some
      // fields, states differing only there are kept apart (less merging).
      this.hashFn = hash !== undefined ? (s) => hash.call(model, s) : hashValue;
    } else {
      this.equalFn = deepEqual;
      this.hashFn = hash !== undefined ? (s) => hash.call(model, s) : hashValue;
    }
  }

  /** Number of distinct states so far. */
  get size(): number {
    return this.states.length;
  }

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
    const id = this.states.length;
    this.states.push(s as S);
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
    if (this.usePrimitiveMap && typeof s === 'number' && (s | 0) === s && s >= 0) return this.internInt(s);
    if (this.usePrimitiveMap && isPrimitive(s)) {
      const found = this.primitives.get(s);
      if (found !== undefined) return found;
      const id = this.states.length;
      this.states.push(s);
      this.primitives.set(s, id);
      return id;
    }
    const h = this.hashFn(s) | 0;
    const mask = this.mask;
    let i = mix32(h) & mask;
    for (;;) {
      const slot = this.slots[i] as number;
      if (slot === 0) break;
      const id = slot - 1;
      if (this.hashes[id] === h && this.equalFn(this.states[id] as S, s)) return id;
      i = (i + 1) & mask;
    }
    const id = this.states.length;
    this.states.push(s);
    if (id >= this.hashes.length) {
      const bigger = new Int32Array(this.hashes.length * 2);
      bigger.set(this.hashes);
      this.hashes = bigger;
    }
    this.hashes[id] = h;
    this.slots[i] = id + 1;
    if (id * 2 >= mask) this.grow();
    return id;
  }

  private grow(): void {
    const size = this.slots.length * 2;
    const mask = size - 1;
    const slots = new Int32Array(size);
    for (const slot of this.slots) {
      if (slot === 0) continue;
      let i = mix32(this.hashes[slot - 1] as number) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = slot;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** A transition not computed yet. */
export const UNKNOWN = -2;
/** A cached illegal transition. */
export const ILLEGAL = -1;
