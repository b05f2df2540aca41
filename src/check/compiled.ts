/**
 * Compiled operations: the built-in models translate a partition's
 * operations into tiny instructions over integer states (value ids), so the
 * search steps them inline — no call into the model, no `[ok, state]` pair,
 * no state interning — and the hot loop stays small and monomorphic.
 *
 * Instructions act on a value `cur` (the register's value, or one key's value
 * in a KV state) with two integer arguments `a`, `b`:
 *
 * | kind        | legal when   | next value             | used for |
 * |-------------|--------------|------------------------|----------|
 * | `K_NOP`     | always       | `cur`                  | reads with unknown result |
 * | `K_READ`    | `cur === a`  | `cur`                  | reads; a delete that found nothing |
 * | `K_NOT`     | `cur !== a`  | `cur`                  | a CAS that did not swap |
 * | `K_WRITE`   | always       | `a`                    | writes, puts, deletes with unknown result |
 * | `K_TAKE`    | `cur !== a`  | `a`                    | a delete that removed a key (`a` = absent) |
 * | `K_CAS`     | `cur === a`  | `b`                    | a CAS that swapped |
 * | `K_CAS_ANY` | always       | `cur === a ? b : cur`  | a CAS with unknown result |
 * | `K_APPEND`  | always       | `cur + piece a`        | KV appends (needs the store) |
 *
 * Value ids are canonical (equal ids ⇔ equal values), so these comparisons
 * are exactly the model's. An expectation nothing can meet is
 * {@link KvStore.NEVER}. `K_NOP`, `K_READ` and `K_NOT` never change the
 * state: the search may take one that fits at once (see `search.ts`).
 *
 * Compilers are kept in a registry keyed by the model object, so a copy of a
 * built-in model (`{ ...kvModel }`) takes the generic path (`model.step`),
 * which gives the same verdicts.
 */
import type { Model, Operation } from './types.ts';
import type { KvStore } from './models/kv-store.ts';
import { ILLEGAL } from './states.ts';

/** Any state; unchanged. */
export const K_NOP = 0;
/** Legal iff `cur === a`; unchanged. */
export const K_READ = 1;
/** Legal iff `cur !== a`; unchanged. */
export const K_NOT = 2;
/** Next value `a`. */
export const K_WRITE = 3;
/** Legal iff `cur !== a`; next value `a`. */
export const K_TAKE = 4;
/** Legal iff `cur === a`; next value `b`. */
export const K_CAS = 5;
/** Next value `cur === a ? b : cur`. */
export const K_CAS_ANY = 6;
/** Next value: `cur` with piece `a` appended (in the store). */
export const K_APPEND = 7;

/** A partition's operations as instructions (indexed like the operations given to the compiler). */
export interface CompiledOps {
  /** Instruction of each operation (`K_*`). */
  readonly kind: Uint8Array;
  /** First argument of each operation. */
  readonly a: Int32Array;
  /** Second argument of each operation. */
  readonly b: Int32Array;
  /**
   * Key id of each operation when the state is a map of `store` (several
   * keys); `undefined` when the state is the value itself.
   */
  readonly key: Int32Array | undefined;
  /** The initial state. */
  readonly init: number;
  /** Values and maps (KV models); `undefined` for registers. */
  readonly store: KvStore | undefined;
  /** Distinct states created so far (for statistics). */
  stateCount(): number;
}

/** Translates operations of one model; `undefined` if it cannot (the generic path is used). */
export type Compiler = (ops: readonly Operation<unknown, unknown>[]) => CompiledOps | undefined;

const compilers = new WeakMap<object, Compiler>();

/** Attach a compiler to a model object (built-in models only). */
export function registerCompiler<S, I, O>(model: Model<S, I, O>, compiler: Compiler): void {
  compilers.set(model, compiler);
}

/** Does `model` have a compiler (is it a built-in model object)? */
export function hasCompiler<S, I, O>(model: Model<S, I, O>): boolean {
  return compilers.has(model);
}

/** Compile `ops` for `model`, or `undefined` if the model has no compiler. */
export function compileOps<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[]): CompiledOps | undefined {
  const compiler = compilers.get(model);
  return compiler === undefined ? undefined : compiler(ops as readonly Operation<unknown, unknown>[]);
}

/** Does an instruction of this kind leave the state unchanged whenever it is legal? */
export function preservesState(kind: number): boolean {
  return kind === K_NOP || kind === K_READ || kind === K_NOT;
}

/** The value after an instruction from value `cur`, or ILLEGAL. */
export function stepValue(kind: number, a: number, b: number, cur: number, store: KvStore | undefined): number {
  switch (kind) {
    case K_NOP:
      return cur;
    case K_READ:
      return cur === a ? cur : ILLEGAL;
    case K_NOT:
      return cur !== a ? cur : ILLEGAL;
    case K_WRITE:
      return a;
    case K_TAKE:
      return cur !== a ? a : ILLEGAL;
    case K_CAS:
      return cur === a ? b : ILLEGAL;
    case K_CAS_ANY:
      return cur === a ? b : cur;
    default:
      return (store as KvStore).append(cur, a);
  }
}

/** Builder for {@link CompiledOps} of `n` operations. */
export class OpsBuilder {
  readonly kind: Uint8Array;
  readonly a: Int32Array;
  readonly b: Int32Array;

  constructor(n: number) {
    this.kind = new Uint8Array(n);
    this.a = new Int32Array(n);
    this.b = new Int32Array(n);
  }

  /** Set operation `i` to instruction `kind` with arguments `a`, `b`. */
  set(i: number, kind: number, a = 0, b = 0): void {
    this.kind[i] = kind;
    this.a[i] = a;
    this.b[i] = b;
  }
}
