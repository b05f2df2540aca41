/**
 * A key-value store: get / put / append / delete / compare-and-set per key.
 * Keys are independent, so the model partitions histories by key; without
 * partitioning the state is the whole map. States are integers naming
 * hash-consed maps in a {@link KvStore} (see `kv-store.ts`): stepping costs a
 * few table lookups and leaves almost nothing for the garbage collector.
 */
import type { Model, Operation } from '../types.ts';
import { KvStore } from './kv-store.ts';

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

/**
 * A state of a KV model: an opaque id of an immutable map, meaningful only to
 * the model that made it (read it with {@link KvModel.entries}).
 */
export type KvState = number;

/** A KV model: a {@link Model} that can also show its states. */
export interface KvModel extends Model<KvState, KvInput, KvOutput> {
  /** The entries of a state of this model (a copy). */
  entries(state: KvState): Map<string, string>;
}

/** Build a key-value model (partitioned by key). */
export function createKvModel(options: KvModelOptions = {}): KvModel {
  const absent = options.absent;
  const store = new KvStore();
  /** Does a key holding value `v` (-1: absent) read as `expected`? */
  const reads = (v: number, expected: string | undefined): boolean => {
    if (v < 0) return expected === absent;
    return expected !== undefined && store.spells(v, expected);
  };
  /** Set key `k` to value `v`, normalising the absent value away. */
  const write = (m: number, k: number, v: number): number =>
    store.set(m, k, absent !== undefined && store.spells(v, absent) ? -1 : v);
  const show = (v: string | undefined): string => (v === undefined ? 'nil' : JSON.stringify(v));
  return {
    init: () => KvStore.EMPTY,
    step(state, input, output) {
      const k = store.keyId(input.key);
      const current = store.lookup(state, k);
      switch (input.type) {
        case 'get':
          return [output === undefined || reads(current, output.value), state];
        case 'put':
          return [true, write(state, k, store.append(KvStore.ROOT, input.value))];
        case 'append': {
          const base = current >= 0 ? current : store.append(KvStore.ROOT, absent ?? '');
          return [true, write(state, k, store.append(base, input.value))];
        }
        case 'delete':
          return [output?.ok === undefined || output.ok === current >= 0, store.set(state, k, -1)];
        case 'cas': {
          const swaps = reads(current, input.expected);
          return [
            output?.ok === undefined || output.ok === swaps,
            swaps ? write(state, k, store.append(KvStore.ROOT, input.value)) : state,
          ];
        }
      }
    },
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
      const m = store.entries(state);
      const keys = [...m.keys()].sort();
      return '{' + keys.map((key) => `${JSON.stringify(key)}: ${show(m.get(key))}`).join(', ') + '}';
    },
    entries: (state) => store.entries(state),
  };
}

/** The KV model where an absent key reads as `undefined` (etcd semantics). */
export const kvModel = createKvModel();
