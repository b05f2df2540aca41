// Issue #7: instructions guessed for user models with string states
// (src/check/infer.ts). The guess makes Porcupine-style models fast, and it
// must never change a verdict: models that act like a register on the probed
// states but differently elsewhere (traps) get the verdicts of a brute-force
// search, and a model that really is a register is stepped through
// model.step only for probing and for the final replay. `SEED=n` reruns with
// another seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinearizability, parseKvLog, partitionByKey, type KvInput, type KvOutput, type Model } from '../src/check/index.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { readFileSync } from 'node:fs';
import { bruteForce, randomKvHistory, type KvOp } from './check-histories.ts';

const seed = Number(process.env.SEED ?? 11);

/** Porcupine's kv model as a user writes it: state '' per key; get / put / append. */
function stringModel(calls: { n: number }): Model<string, KvInput, KvOutput> {
  return {
    init: () => '',
    partition: partitionByKey,
    step(s, input, output) {
      calls.n++;
      if (input.type === 'get') return [output === undefined || output.value === undefined || output.value === s, s];
      if (input.type === 'put') return [true, input.value];
      if (input.type === 'append') return [true, s + input.value];
      return [false, s];
    },
  };
}

/**
 * Acts like `stringModel` on short states, but an append to a state of 3 or
 * more characters doubles it instead, or a get of a 4-character state is
 * always legal: nothing the three probes of a guess can see.
 */
const traps: Record<string, Model<string, KvInput, KvOutput>> = {
  'append doubles long states': {
    init: () => '',
    step(s, input, output) {
      if (input.type === 'get') return [output === undefined || output.value === undefined || output.value === s, s];
      if (input.type === 'put') return [true, input.value];
      if (input.type === 'append') return [true, s.length >= 3 && !s.includes('\u0001') && !s.includes('\u0002') ? s + s : s + input.value];
      return [false, s];
    },
  },
  'get of a 4-character state reads anything': {
    init: () => '',
    step(s, input, output) {
      if (input.type === 'get') return [output === undefined || output.value === undefined || output.value === s || s.length === 4, s];
      if (input.type === 'put') return [true, input.value];
      if (input.type === 'append') return [true, s + input.value];
      return [false, s];
    },
  },
};

test('issue #7: guessed instructions never change a verdict, even for models that differ from a register off the probed states', (t) => {
  t.diagnostic(`seed=${seed}`);
  const rng = new SeededRandom(seed);
  const seen: Record<string, { lin: number; not: number }> = {};
  for (const [name, model] of [...Object.entries(traps), ['a real register', stringModel({ n: 0 })] as const]) {
    seen[name] = { lin: 0, not: 0 };
    for (let k = 0; k < 400; k++) {
      const h = randomKvHistory(rng, 2 + rng.int(6), {
        span: 12,
        keys: ['x'],
        allOps: false,
        pendingOneIn: 10,
        appendValue: (r) => (r.int(2) === 0 ? 'a' : 'bc'),
      });
      const want = bruteForce(model, h) ? 'linearizable' : 'not-linearizable';
      const got = checkLinearizability(model, h).result;
      assert.equal(got, want, `${name}, seed ${seed}, case ${k}: ${JSON.stringify(h)}`);
      seen[name]![want === 'linearizable' ? 'lin' : 'not']++;
    }
  }
  t.diagnostic(JSON.stringify(seen));
  for (const [name, c] of Object.entries(seen)) assert.ok(c.lin > 20 && c.not > 20, `${name}: both verdicts occur (${JSON.stringify(c)})`);
});

test('issue #7: a trap whose guessed linearization does not replay is searched again through model.step', () => {
  // Appends "a", "b", "c" one after another, then a get that sees "abc" + "abc"
  // under the trap (which doubles a state of 3+ characters on the next append).
  const h: KvOp[] = [
    { clientId: 0, input: { type: 'append', key: 'x', value: 'a' }, call: 0, output: {}, return: 1 },
    { clientId: 0, input: { type: 'append', key: 'x', value: 'b' }, call: 2, output: {}, return: 3 },
    { clientId: 0, input: { type: 'append', key: 'x', value: 'c' }, call: 4, output: {}, return: 5 },
    { clientId: 0, input: { type: 'append', key: 'x', value: 'd' }, call: 6, output: {}, return: 7 },
    { clientId: 1, input: { type: 'get', key: 'x' }, call: 8, output: { value: 'abcabc' }, return: 9 },
  ];
  const trap = traps['append doubles long states']!;
  assert.equal(checkLinearizability(trap, h).result, 'linearizable');
  assert.equal(checkLinearizability(stringModel({ n: 0 }), h).result, 'not-linearizable');
  const abcd = h.map((op, i) => (i === 4 ? { ...op, output: { value: 'abcd' } } : op));
  assert.equal(checkLinearizability(trap, abcd).result, 'not-linearizable');
  assert.equal(checkLinearizability(stringModel({ n: 0 }), abcd).result, 'linearizable');
});

test("issue #7: a Porcupine-style user model is stepped only to probe and to replay (c50-ok: a few calls per operation, whatever the search takes)", () => {
  const h = parseKvLog(readFileSync(new URL('../../shared/testdata/porcupine/kv/c50-ok.txt', import.meta.url), 'utf8'));
  const calls = { n: 0 };
  const r = checkLinearizability(stringModel(calls), h);
  assert.equal(r.result, 'linearizable');
  // Three probes per operation (a get may try a few more states), one replay step each.
  assert.ok(calls.n < 5 * h.length, `model.step called ${calls.n} times for ${h.length} operations (${r.steps} steps)`);
});
