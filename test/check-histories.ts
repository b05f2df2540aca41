// Shared by the checker tests: a brute-force linearizability oracle and a
// random KV history generator (get / put / append / delete / cas, pending
// operations).
import type { KvInput, KvOutput, Model, Operation } from '../src/check/index.ts';
import type { SeededRandom } from '../src/util/rng.ts';

/** A KV operation. */
export type KvOp = Operation<KvInput, KvOutput>;

/** Linearizable iff some order of the operations respects real time and the model (pending ones may be left out). */
export function bruteForce<S>(model: Model<S, KvInput, KvOutput>, h: readonly KvOp[]): boolean {
  const used = new Array<boolean>(h.length).fill(false);
  const go = (state: S): boolean => {
    if (h.every((op, i) => used[i] || op.return === Infinity)) return true;
    for (let i = 0; i < h.length; i++) {
      if (used[i]) continue;
      const op = h[i] as KvOp;
      // Every unplaced operation that returned before op's call must come first.
      if (h.some((o, j) => !used[j] && j !== i && o.return < op.call)) continue;
      const [ok, next] = model.step(state, op.input, op.output);
      if (!ok) continue;
      used[i] = true;
      const done = go(next);
      used[i] = false;
      if (done) return true;
    }
    return false;
  };
  return go(model.init());
}

/** Shape of {@link randomKvHistory}'s histories. */
export interface RandomKvOptions {
  /** Calls are at 0 … span-1; an operation lasts 0–5 time units. */
  readonly span: number;
  /** Keys, drawn uniformly (repeat one to make it likelier). */
  readonly keys: readonly string[];
  /** Also deletes and CASes (else get / put / append only). */
  readonly allOps: boolean;
  /** One operation in this many is pending. */
  readonly pendingOneIn: number;
  /** What an append appends. */
  readonly appendValue: (rng: SeededRandom) => string;
}

/** `n` random operations on a few keys with small values ('', 'a', 'b', 'ab'); outputs are random too, so many histories are not linearizable. */
export function randomKvHistory(rng: SeededRandom, n: number, o: RandomKvOptions): KvOp[] {
  const values = ['', 'a', 'b', 'ab'];
  const pick = (): string => values[rng.int(values.length)] as string;
  const h: KvOp[] = [];
  for (let i = 0; i < n; i++) {
    const call = rng.int(o.span);
    const pending = rng.int(o.pendingOneIn) === 0;
    const ret = pending ? Infinity : call + rng.int(6);
    const key = o.keys[rng.int(o.keys.length)] as string;
    const kind = rng.int(o.allOps ? 5 : 3);
    let input: KvInput;
    let output: KvOutput | undefined;
    if (kind === 0) {
      input = { type: 'get', key };
      const r = rng.int(5);
      output = r === 0 ? undefined : { value: r === 1 ? undefined : pick() };
    } else if (kind === 1) {
      input = { type: 'put', key, value: pick() };
      output = {};
    } else if (kind === 2) {
      input = { type: 'append', key, value: o.appendValue(rng) };
      output = {};
    } else if (kind === 3) {
      input = { type: 'delete', key };
      const r = rng.int(3);
      output = r === 0 ? {} : { ok: r === 1 };
    } else {
      input = { type: 'cas', key, expected: rng.int(4) === 0 ? undefined : pick(), value: pick() };
      const r = rng.int(3);
      output = r === 0 ? {} : { ok: r === 1 };
    }
    h.push({ clientId: i, input, call, output: pending ? undefined : output, return: ret });
  }
  return h;
}
