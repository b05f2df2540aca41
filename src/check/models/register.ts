/**
 * A single read/write/compare-and-set register (Porcupine's etcd model).
 * The register starts with no value; values are primitives compared with `===`.
 */
import type { Model, Operation } from '../types.ts';
import { K_CAS, K_CAS_ANY, K_NOP, K_NOT, K_READ, K_WRITE, OpsBuilder, registerCompiler, type CompiledOps } from '../compiled.ts';

/** A register value, which may be any primitive (compared with `===`). */
export type RegisterValue = string | number | bigint | boolean;

/** What a client asks a register. */
export type RegisterInput<V extends RegisterValue = number> =
  | { readonly type: 'read' }
  | { readonly type: 'write'; readonly value: V }
  | { readonly type: 'cas'; readonly expected: V; readonly value: V };

/**
 * What a client saw. Read: `value` (`undefined` = the register had no value).
 * Write: nothing to check (`{}`). CAS: `ok` (whether it swapped). An output
 * of `undefined` means unknown, and every answer is accepted.
 */
export interface RegisterOutput<V extends RegisterValue = number> {
  readonly value?: V | undefined;
  readonly ok?: boolean;
}

/**
 * Build a register model. The state is the current value, or `undefined` when
 * the register has none (a CAS on an empty register fails).
 */
export function createRegisterModel<V extends RegisterValue = number>(): Model<
  V | undefined,
  RegisterInput<V>,
  RegisterOutput<V>
> {
  const model: Model<V | undefined, RegisterInput<V>, RegisterOutput<V>> = {
    init: () => undefined,
    step(state, input, output) {
      switch (input.type) {
        case 'read':
          return [output === undefined || output.value === state, state];
        case 'write':
          return [true, input.value];
        case 'cas': {
          const swaps = state !== undefined && state === input.expected;
          const ok = output === undefined || output.ok === undefined || output.ok === swaps;
          return [ok, swaps ? input.value : state];
        }
      }
    },
    readOnly: (input) => input.type === 'read',
    describe(input, output) {
      const show = (v: V | undefined): string => (v === undefined ? 'nil' : String(v));
      switch (input.type) {
        case 'read':
          return output === undefined ? 'read() → ?' : `read() → ${show(output.value)}`;
        case 'write':
          return `write(${show(input.value)})${output === undefined ? ' ?' : ''}`;
        case 'cas':
          return `cas(${show(input.expected)}, ${show(input.value)}) → ${
            output === undefined || output.ok === undefined ? '?' : output.ok ? 'ok' : 'fail'
          }`;
      }
    },
    describeState: (state) => (state === undefined ? 'nil' : String(state)),
  };
  registerCompiler(model, (ops) => compileRegister(ops as readonly Operation<RegisterInput<V>, RegisterOutput<V>>[]));
  return model;
}

/** Value ids: 0 is "no value", 1 is NaN (equal to nothing, so no read or CAS can match it). */
const NO_VALUE = 0;
const NAN = 1;
const NEVER = -3;

/** Register operations as instructions over value ids (see `compiled.ts`). */
function compileRegister<V extends RegisterValue>(ops: readonly Operation<RegisterInput<V>, RegisterOutput<V>>[]): CompiledOps | undefined {
  const ids = new Map<unknown, number>([[undefined, NO_VALUE]]);
  let next = 2;
  /** Id of a value a write stores. */
  const store = (v: unknown): number => {
    if (v !== v) return NAN;
    let id = ids.get(v);
    if (id === undefined) ids.set(v, (id = next++));
    return id;
  };
  /** Id a state must have to equal `v` (=== semantics: nothing equals NaN). */
  const expect = (v: unknown): number => (v !== v ? NEVER : store(v));
  const out = new OpsBuilder(ops.length);
  for (let i = 0; i < ops.length; i++) {
    const { input, output } = ops[i] as Operation<RegisterInput<V>, RegisterOutput<V>>;
    switch (input.type) {
      case 'read':
        if (output === undefined) out.set(i, K_NOP);
        else out.set(i, K_READ, expect(output.value));
        break;
      case 'write':
        out.set(i, K_WRITE, store(input.value));
        break;
      case 'cas': {
        // A CAS never swaps on an empty register.
        const e = input.expected === undefined ? NEVER : expect(input.expected);
        const ok = output === undefined ? undefined : output.ok;
        if (ok === undefined) out.set(i, K_CAS_ANY, e, store(input.value));
        else if (ok) out.set(i, K_CAS, e, store(input.value));
        else out.set(i, K_NOT, e);
        break;
      }
      default:
        return undefined;
    }
  }
  const values = next;
  return { kind: out.kind, a: out.a, b: out.b, key: undefined, init: NO_VALUE, store: undefined, stateCount: () => values };
}

/** The register model over numbers (as in Jepsen's etcd tests). */
export const registerModel = createRegisterModel<number>();
