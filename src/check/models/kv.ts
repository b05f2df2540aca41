/**
 * A key-value store: get / put / append / delete / compare-and-set per key.
 * Keys are independent, so the model partitions histories by key; without
 * partitioning the state is the whole map. States are integers naming
 * hash-consed maps in a {@link KvStore} (see `kv-store.ts`): stepping costs a
 * few table lookups and leaves almost nothing for the garbage collector.
 */
import type { Model, Operation } from '../types.ts';
import { KvStore } from './kv-store.ts';
import { K_APPEND, K_CAS, K_CAS_ANY, K_NOP, K_NOT, K_READ, K_TAKE, K_WRITE, OpsBuilder, registerCompiler, type CompiledOps } from '../compiled.ts';

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
  const store = new KvStore(absent);
  const show = (v: string | undefined): string => (v === undefined ? 'nil' : JSON.stringify(v));
  const model: KvModel = {
    init: () => KvStore.EMPTY,
    step(state, input, output) {
      const k = store.keyId(input.key);
      const current = store.lookup(state, k);
      switch (input.type) {
        case 'get':
          return [output === undefined || current === store.expect(output.value), state];
        case 'put':
          return [true, store.set(state, k, store.value(input.value))];
        case 'append':
          return [true, store.set(state, k, store.appendText(current, input.value))];
        case 'delete':
          return [output?.ok === undefined || output.ok === (current !== store.absent), store.set(state, k, store.absent)];
        case 'cas': {
          const swaps = current === store.expect(input.expected);
          return [output?.ok === undefined || output.ok === swaps, swaps ? store.set(state, k, store.value(input.value)) : state];
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
  registerCompiler(model, (ops) => compileKv(ops as readonly Operation<KvInput, KvOutput>[], absent));
  return model;
}

/**
 * KV operations as instructions (see `compiled.ts`) over a fresh store: when
 * every operation has the same key (a partition) the state is that key's value
 * id; otherwise it is a map id and each instruction acts on its key's value.
 */
function compileKv(ops: readonly Operation<KvInput, KvOutput>[], absent: string | undefined): CompiledOps | undefined {
  const store = new KvStore(absent);
  const n = ops.length;
  const out = new OpsBuilder(n);
  const keys = new Int32Array(n);
  let single = true;
  for (let i = 0; i < n; i++) {
    const { input, output } = ops[i] as Operation<KvInput, KvOutput>;
    keys[i] = store.keyId(input.key);
    if (keys[i] !== keys[0]) single = false;
    switch (input.type) {
      case 'get':
        if (output === undefined) out.set(i, K_NOP);
        else out.set(i, K_READ, store.expect(output.value));
        break;
      case 'put':
        out.set(i, K_WRITE, store.value(input.value));
        break;
      case 'append':
        out.set(i, K_APPEND, store.pieceId(input.value));
        break;
      case 'delete': {
        const ok = output?.ok;
        out.set(i, ok === undefined ? K_WRITE : ok ? K_TAKE : K_READ, store.absent);
        break;
      }
      case 'cas': {
        const ok = output?.ok;
        const e = store.expect(input.expected);
        if (ok === undefined) out.set(i, K_CAS_ANY, e, store.value(input.value));
        else if (ok) out.set(i, K_CAS, e, store.value(input.value));
        else out.set(i, K_NOT, e);
        break;
      }
      default:
        return undefined;
    }
  }
  return single
    ? { kind: out.kind, a: out.a, b: out.b, key: undefined, init: store.absent, store, stateCount: () => store.values }
    : { kind: out.kind, a: out.a, b: out.b, key: keys, init: KvStore.EMPTY, store, stateCount: () => store.mapCount };
}

/** The KV model where an absent key reads as `undefined` (etcd semantics). */
export const kvModel = createKvModel();
