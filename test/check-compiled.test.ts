// Issue #7: the built-in models' compiled instructions (src/check/compiled.ts)
// give the same verdicts as the generic path (model.step) and as a brute-force
// search over every order, on random small KV histories with get / put /
// append / delete / cas, pending operations, both `absent` settings, with and
// without partitioning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinearizability, createKvModel, type KvInput, type KvOutput, type Model, type Operation } from '../src/check/index.ts';
import { SeededRandom } from '../src/util/rng.ts';

type KvOp = Operation<KvInput, KvOutput>;

/** Linearizable iff some order of the operations respects real time and the model (pending ones may be left out). */
function bruteForce<S>(model: Model<S, KvInput, KvOutput>, h: readonly KvOp[]): boolean {
  const used = new Array<boolean>(h.length).fill(false);
  const go = (state: S, placed: number): boolean => {
    if (h.every((op, i) => used[i] || op.return === Infinity)) return true;
    for (let i = 0; i < h.length; i++) {
      if (used[i]) continue;
      const op = h[i] as KvOp;
      // Every unplaced operation that returned before op's call must come first.
      if (h.some((o, j) => !used[j] && j !== i && o.return < op.call)) continue;
      const [ok, next] = model.step(state, op.input, op.output);
      if (!ok) continue;
      used[i] = true;
      const done = go(next, placed + 1);
      used[i] = false;
      if (done) return true;
    }
    return false;
  };
  return go(model.init(), 0);
}

function randomKvHistory(rng: SeededRandom, n: number): KvOp[] {
  const values = ['', 'a', 'b', 'ab'];
  const pick = (): string => values[rng.int(values.length)] as string;
  const h: KvOp[] = [];
  for (let i = 0; i < n; i++) {
    const call = rng.int(16);
    const pending = rng.int(8) === 0;
    const ret = pending ? Infinity : call + rng.int(6);
    const key = rng.int(3) === 0 ? 'y' : 'x';
    const kind = rng.int(5);
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
      input = { type: 'append', key, value: rng.int(2) === 0 ? 'a' : 'b' };
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

test('issue #7: compiled KV instructions agree with the generic path and a brute-force checker', (t) => {
  const seed = Number(process.env.SEED ?? 23);
  t.diagnostic(`seed=${seed}`);
  const rng = new SeededRandom(seed);
  const counts = { lin: 0, not: 0 };
  for (const absent of [undefined, '']) {
    const compiled = createKvModel(absent === undefined ? {} : { absent });
    // A copy has no compiler: it takes the generic path through model.step.
    const generic: Model<number, KvInput, KvOutput> = { ...compiled };
    for (let k = 0; k < 400; k++) {
      const h = randomKvHistory(rng, 2 + rng.int(6));
      const want = bruteForce(generic, h) ? 'linearizable' : 'not-linearizable';
      for (const partition of [true, false]) {
        const fast = checkLinearizability(compiled, h, { partition });
        const slow = checkLinearizability(generic, h, { partition });
        const what = `absent=${String(absent)} case ${k} partition=${partition}: ${JSON.stringify(h)}`;
        assert.equal(fast.result, want, `compiled, ${what}`);
        assert.equal(slow.result, want, `generic, ${what}`);
      }
      counts[want === 'linearizable' ? 'lin' : 'not']++;
    }
  }
  t.diagnostic(`${counts.lin} linearizable, ${counts.not} not`);
  assert.ok(counts.lin > 80 && counts.not > 80, 'the generator should produce both verdicts');
});
