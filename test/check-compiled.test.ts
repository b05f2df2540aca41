// Issue #7: the built-in models' compiled instructions (src/check/compiled.ts)
// give the same verdicts as the generic path (model.step) and as a brute-force
// search over every order, on random small KV histories with get / put /
// append / delete / cas, pending operations, both `absent` settings, with and
// without partitioning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinearizability, createKvModel, type KvInput, type KvOutput, type Model } from '../src/check/index.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { bruteForce, randomKvHistory, type KvOp } from './check-histories.ts';




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
      const h = randomKvHistory(rng, 2 + rng.int(6), { span: 16, keys: ['x', 'x', 'y'], allOps: true, pendingOneIn: 8, appendValue: (r) => (r.int(2) === 0 ? 'a' : 'b') });
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
