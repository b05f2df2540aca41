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
  const step = (s: string, op: Operation<I, O>): [boolean, unknown] | undefined => {
    try {
      const r = model.step(s as S, op.input, op.output);
      return Array.isArray(r) ? [r[0] === true, r[1]] : undefined;
    } catch {
      return undefined;
    }
  };
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Operation<I, O>;
    const rs: [boolean, unknown][] = [];
    for (const p of probes) {
      const r = step(p, op);
      if (r === undefined) return undefined;
      rs.push(r);
    }
    const allLegal = rs.every((r) => r[0]);
    const unchanged = rs.every((r, j) => !r[0] || r[1] === probes[j]);
    if (allLegal && unchanged) {
      out.set(i, K_NOP);
      continue;
    }
    if (unchanged) {
      // Legal in no probe (or only some): a read of one particular value?
      const cands: string[] = [];
      stringsIn(op.output, cands);
      stringsIn(op.input, cands);
      cands.push(init);
      let read: string | undefined;
      for (const c of cands) {
        const r = step(c, op);
        if (r === undefined) return undefined;
        if (r[0] && r[1] === c) {
          read = c;
          break;
        }
      }
      if (read === undefined || rs.some((r, j) => r[0] !== (probes[j] === read))) return undefined;
      out.set(i, K_READ, store.value(read));
      continue;
    }
    if (!allLegal || !rs.every((r) => typeof r[1] === 'string')) return undefined;
    const next = rs.map((r) => r[1] as string);
    if (next.every((w) => w === next[0])) {
      out.set(i, K_WRITE, store.value(next[0] as string));
      continue;
    }
    const x = (next[0] as string).slice(init.length);
    if (next.every((w, j) => w.length === (probes[j] as string).length + x.length && w.startsWith(probes[j] as string) && w.endsWith(x))) {
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
    const [ok, next] = model.step(state, op.input, op.output);
    if (!ok) return false;
    state = next;
  }
  return true;
}
