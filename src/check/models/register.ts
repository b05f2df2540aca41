/**
 * A single read/write/compare-and-set register (Porcupine's etcd model).
 * The register starts with no value; values are primitives compared with `===`.
 */
import type { Model } from '../types.ts';

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
  return {
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
}

/** The register model over numbers (as in Jepsen's etcd tests). */
export const registerModel = createRegisterModel<number>();
