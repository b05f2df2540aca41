/**
 * Guessed instructions for user models whose state is a string (a register
 * of text, e.g. one key of Porcupine's kv model: get / put / append).
 *
 * A user model has no compiler (`compiled.ts`), so its search steps it through
 * `model.step` and interns every state string it returns — on a cold start
 * that is most of the time (V8 hashes and flattens each new concatenated
 * string). When the model's initial state is a string, each operation is
 * probed with `model.step` on a few states and, if it behaves like one of the
 * compiled instructions on all of them, translated:
 *
 * | the operation, on every probe           | instruction        |
 * |------------------------------------------|--------------------|
 * | legal, state unchanged                   | `K_NOP`            |
 * | legal only in state `c` (a string found in its input or output), unchanged | `K_READ c` |
 * | legal, next state always `w`              | `K_WRITE w`        |
 * | legal, next state `state + x` (same `x`)  | `K_APPEND x`       |
 *
 * Anything else, or a `step` that throws, and the partition keeps the
 * generic path. A guess is only a guess — a model may treat states it was
 * not probed on differently — so its answers are checked: a linearization
 * found with guessed instructions is replayed through `model.step` (every
 * step must be legal), and only then reported; a guessed search that finds
 * no linearization, or whose linearization does not replay, is thrown away
 * and the partition is searched again through `model.step`. Verdicts are
 * therefore exactly the generic path's.
 */
import type { Model, Operation } from './types.ts';
import { K_APPEND, K_NOP, K_READ, K_WRITE, OpsBuilder, type CompiledOps } from './compiled.ts';
import { KvStore } from './models/kv-store.ts';

/** Strings among the own fields of `v` (and `v` itself). */
function stringsIn(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      if (typeof x === 'string') out.push(x);
    }
  }
}

/** Instructions for `ops` (sorted as the search numbers them), or undefined when the model does not look like a string register. */
export function guessStringOps<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[]): CompiledOps | undefined {
  let init: unknown;
  try {
    init = model.init();
  } catch {
    return undefined;
  }
  if (typeof init !== 'string') return undefined;
  const probes = [init, `${init}\u0001a`, `\u0002${init}zq`];
  const store = new KvStore(init);
  const out = new OpsBuilder(ops.length);
  // model.step on a probe: whether legal and the next state, or false if it threw or returned no pair.
  const legal: boolean[] = [false, false, false];
  const next: unknown[] = [undefined, undefined, undefined];
  const step = (s: string, op: Operation<I, O>, j: number): boolean => {
    try {
      const r = model.step(s as S, op.input, op.output);
      if (!Array.isArray(r)) return false;
      legal[j] = r[0] === true;
      next[j] = r[1];
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Operation<I, O>;
    let allLegal = true;
    let unchanged = true;
    let strings = true;
    for (let j = 0; j < 3; j++) {
      if (!step(probes[j] as string, op, j)) return undefined;
      if (!legal[j]) allLegal = false;
      else if (next[j] !== probes[j]) unchanged = false;
      if (typeof next[j] !== 'string') strings = false;
    }
    if (allLegal && unchanged) {
      out.set(i, K_NOP);
      continue;
    }
    if (unchanged) {
      // Legal in no probe (or only some): a read of one particular value?
      const legalOnProbes = [legal[0], legal[1], legal[2]];
      const cands: string[] = [];
      stringsIn(op.output, cands);
      stringsIn(op.input, cands);
      cands.push(init);
      let read: string | undefined;
      for (const c of cands) {
        if (!step(c, op, 0)) return undefined;
        if (legal[0] && next[0] === c) {
          read = c;
          break;
        }
      }
      if (read === undefined) return undefined;
      for (let j = 0; j < 3; j++) if (legalOnProbes[j] !== (probes[j] === read)) return undefined;
      out.set(i, K_READ, store.value(read));
      continue;
    }
    if (!allLegal || !strings) return undefined;
    const w0 = next[0] as string;
    if (next[1] === w0 && next[2] === w0) {
      out.set(i, K_WRITE, store.value(w0));
      continue;
    }
    const x = w0.slice(init.length);
    let appends = true;
    for (let j = 0; j < 3 && appends; j++) {
      const w = next[j] as string;
      const p = probes[j] as string;
      appends = w.length === p.length + x.length && w.startsWith(p) && w.endsWith(x);
    }
    if (appends) {
      out.set(i, K_APPEND, store.pieceId(x));
      continue;
    }
    return undefined;
  }
  return { kind: out.kind, a: out.a, b: out.b, key: undefined, init: store.absent, store, stateCount: () => store.values };
}

/** Does `linearization` (indices into `ops`, in order) replay legally through `model.step` from `model.init()`? */
export function replays<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], linearization: readonly number[]): boolean {
  let state = model.init();
  for (const i of linearization) {
    const op = ops[i] as Operation<I, O>;
    const r = model.step(state, op.input, op.output);
    if (!r[0]) return false;
    state = r[1];
  }
  return true;
}
