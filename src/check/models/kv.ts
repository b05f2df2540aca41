/**
 * A key-value store: get / put / append / delete / compare-and-set per key.
 * Keys are independent, so the model partitions histories by key; without
 * partitioning the state is the whole map, kept as an immutable
 * {@link KvState} with incrementally updated hashes.
 */
import type { Model, Operation } from '../types.ts';
import { mix32 } from '../hash.ts';

/** What a client asks the store. */
export type KvInput =
  | { readonly type: 'get'; readonly key: string }
  | { readonly type: 'put'; readonly key: string; readonly value: string }
  | { readonly type: 'append'; readonly key: string; readonly value: string }
  | { readonly type: 'delete'; readonly key: string }
  /** Swap in `value` if the key holds `expected` (`undefined`: if the key is absent). */
  | { readonly type: 'cas'; readonly key: string; readonly expected: string | undefined; readonly value: string };

/**
 * What a client saw. Get: `value` (`undefined` = absent). Put / append:
 * nothing to check. Delete: `ok` = a key was there (optional). CAS: `ok` =
 * swapped. An output of `undefined` (or a missing field) accepts any answer.
 */
export interface KvOutput {
  readonly value?: string | undefined;
  readonly ok?: boolean;
}

/** Base of the polynomial string hash (odd, so powers never vanish). */
const BASE = 0x01000193;
/**
 * Hashes are kept to 30 bits so V8 stores them as small integers (no heap
 * numbers per state); arithmetic mod 2^30 is consistent with mod 2^32.
 */
const MASK = 0x3fffffff;

/**
 * Polynomial hash of a string, mod 2^30: `h(a + b) = h(a) * BASE^|b| + h(b)`,
 * so an append updates a value's hash without reading the old value.
 */
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

function entryHash(keyId: number, valueHash: number): number {
  return mix32(Math.imul(keyId + 1, 0x9e3779b1) ^ mix32(valueHash)) & MASK;
}

/**
 * An immutable map state. Keys are small ids handed out by the model that
 * made the state (its key registry); the entries sit in one flat array
 * `[id, valueHash, value, id, valueHash, value, …]` sorted by id, and the
 * state's hash is the sum of its entry hashes. Appending, comparing and
 * hashing never read a whole value unless two hashes agree.
 */
export class KvState {
  private constructor(
    /** Model-wide key registry (key → id, id → key). */
    private readonly registry: KeyRegistry,
    /** Flat entries: id, polynomial hash of the value, value. */
    private readonly entries: readonly (number | string)[],
    /** Order-independent hash of the entries. */
    readonly hash: number,
  ) {}

  /** The empty store of a model. */
  static empty(registry: KeyRegistry): KvState {
    return new KvState(registry, [], 0);
  }

  /** Position of key id `id` in the entries, or -1. */
  slot(id: number): number {
    const e = this.entries;
    for (let i = 0; i < e.length; i += 3) if (e[i] === id) return i;
    return -1;
  }

  /** Value at a position from {@link KvState.slot}. */
  valueAt(i: number): string {
    return this.entries[i + 2] as string;
  }

  /** Hash of the value at a position from {@link KvState.slot}. */
  hashAt(i: number): number {
    return this.entries[i + 1] as number;
  }

  /** Value of `key`, or `undefined`. */
  get(key: string): string | undefined {
    const id = this.registry.ids.get(key);
    const i = id === undefined ? -1 : this.slot(id);
    return i < 0 ? undefined : this.valueAt(i);
  }

  /** A new state with key id `id` set to `value` (hash `vh`), or removed when `value` is undefined. */
  with(id: number, value: string | undefined, vh: number): KvState {
    const i = this.slot(id);
    let hash = this.hash;
    if (i >= 0) {
      if (value !== undefined && this.hashAt(i) === vh && this.valueAt(i) === value) return this;
      hash = (hash - entryHash(id, this.hashAt(i))) & MASK;
    } else if (value === undefined) return this;
    const entries = this.entries.slice();
    if (value === undefined) entries.splice(i, 3);
    else {
      hash = (hash + entryHash(id, vh)) & MASK;
      if (i >= 0) {
        entries[i + 1] = vh;
        entries[i + 2] = value;
      } else {
        let at = 0;
        while (at < entries.length && (entries[at] as number) < id) at += 3;
        entries.splice(at, 0, id, vh, value);
      }
    }
    return new KvState(this.registry, entries, hash);
  }

  /** Same entries? */
  equals(other: KvState): boolean {
    if (this === other) return true;
    const a = this.entries;
    const b = other.entries;
    if (this.hash !== other.hash || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i += 3) if (a[i] !== b[i] || a[i + 1] !== b[i + 1]) return false;
    for (let i = 2; i < a.length; i += 3) if (a[i] !== b[i]) return false;
    return true;
  }

  /** The entries as a plain Map (a copy). */
  toMap(): Map<string, string> {
    const m = new Map<string, string>();
    const e = this.entries;
    for (let i = 0; i < e.length; i += 3) m.set(this.registry.keys[e[i] as number] as string, e[i + 2] as string);
    return m;
  }
}

/** Key ↔ id registry shared by the states of one KV model. */
export class KeyRegistry {
  /** key → id */
  readonly ids = new Map<string, number>();
  /** id → key */
  readonly keys: string[] = [];

  /** The id of `key`, registering it if new. */
  id(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push(key);
      this.ids.set(key, id);
    }
    return id;
  }
}

/** Options of {@link createKvModel}. */
export interface KvModelOptions {
  /**
   * What a get of an absent key returns and what an append to it starts from.
   * Default `undefined` (absent is distinct from every value). Porcupine's kv
   * histories use `''`. A key set to this value counts as absent.
   */
  absent?: string;
}

/** Group operations by key, keeping history order within each key. */
export function partitionByKey<I extends { readonly key: string }, O>(history: readonly Operation<I, O>[]): Operation<I, O>[][] {
  const byKey = new Map<string, Operation<I, O>[]>();
  for (const op of history) {
    const list = byKey.get(op.input.key);
    if (list === undefined) byKey.set(op.input.key, [op]);
    else list.push(op);
  }
  return [...byKey.values()];
}

/** Build a key-value model (partitioned by key). */
export function createKvModel(options: KvModelOptions = {}): Model<KvState, KvInput, KvOutput> {
  const absent = options.absent;
  const absentHash = absent === undefined ? 0 : polyHash(absent);
  const registry = new KeyRegistry();
  const empty = KvState.empty(registry);
  // Polynomial hashes (and BASE^length) of the strings met in inputs and
  // outputs; V8 caches each string's own hash, so a lookup is cheap.
  const hashes = new Map<string, number>();
  const powers = new Map<string, number>();
  const hashOf = (s: string): number => {
    let h = hashes.get(s);
    if (h === undefined) {
      h = polyHash(s);
      hashes.set(s, h);
    }
    return h;
  };
  const powOf = (s: string): number => {
    let p = powers.get(s);
    if (p === undefined) {
      p = polyPow(s.length);
      powers.set(s, p);
    }
    return p;
  };
  /** The state with key id `id` set to `v`, normalising the absent value away. */
  const write = (s: KvState, id: number, v: string, vh: number): KvState =>
    v === absent ? s.with(id, undefined, 0) : s.with(id, v, vh);
  /** Does the key read as `expected`? */
  const reads = (s: KvState, id: number, expected: string | undefined): boolean => {
    const i = s.slot(id);
    if (i < 0) return expected === absent;
    if (expected === undefined) return false;
    return s.hashAt(i) === hashOf(expected) && s.valueAt(i) === expected;
  };
  const show = (v: string | undefined): string => (v === undefined ? 'nil' : JSON.stringify(v));
  return {
    init: () => empty,
    step(state, input, output) {
      const id = registry.id(input.key);
      switch (input.type) {
        case 'get':
          return [output === undefined || reads(state, id, output.value), state];
        case 'put':
          return [true, write(state, id, input.value, hashOf(input.value))];
        case 'append': {
          const i = state.slot(id);
          const old = i >= 0 ? state.valueAt(i) : (absent ?? '');
          const oldHash = i >= 0 ? state.hashAt(i) : absentHash;
          const vh = (Math.imul(oldHash, powOf(input.value)) + hashOf(input.value)) & MASK;
          return [true, write(state, id, old + input.value, vh)];
        }
        case 'delete': {
          const had = state.slot(id) >= 0;
          return [output?.ok === undefined || output.ok === had, state.with(id, undefined, 0)];
        }
        case 'cas': {
          const swaps = reads(state, id, input.expected);
          return [
            output?.ok === undefined || output.ok === swaps,
            swaps ? write(state, id, input.value, hashOf(input.value)) : state,
          ];
        }
      }
    },
    equal: (a, b) => a.equals(b),
    hash: (s) => s.hash,
    partition: partitionByKey,
    readOnly: (input) => input.type === 'get',
    describe(input, output) {
      const k = JSON.stringify(input.key);
      switch (input.type) {
        case 'get':
          return `get(${k}) → ${output === undefined ? '?' : show(output.value)}`;
        case 'put':
          return `put(${k}, ${show(input.value)})`;
        case 'append':
          return `append(${k}, ${show(input.value)})`;
        case 'delete':
          return `delete(${k})${output?.ok === undefined ? '' : output.ok ? ' → ok' : ' → none'}`;
        case 'cas':
          return `cas(${k}, ${show(input.expected)}, ${show(input.value)}) → ${
            output?.ok === undefined ? '?' : output.ok ? 'ok' : 'fail'
          }`;
      }
    },
    describeState(state) {
      const m = state.toMap();
      const keys = [...m.keys()].sort();
      return '{' + keys.map((k) => `${JSON.stringify(k)}: ${show(m.get(k))}`).join(', ') + '}';
    },
  };
}

/** The KV model where an absent key reads as `undefined` (etcd semantics). */
export const kvModel = createKvModel();
