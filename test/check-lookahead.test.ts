// Issue #7: the look-ahead (src/check/lookahead.ts) cuts dead ends in
// histories with appends without changing a verdict, and a failing
// partition's counterexample still reaches the operation that cannot be
// placed (the partition is searched again without the look-ahead for it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkLinearizability, createKvModel, parseKvLog, porcupineKvModel, partitionByKey, type KvInput, type KvOutput, type Model } from '../src/check/index.ts';
import { PartitionSearch } from '../src/check/search.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { bruteForce, type KvOp } from './check-histories.ts';

/** Verdict of one partition, with or without the look-ahead. */
function search(model: Model<number, KvInput, KvOutput>, h: readonly KvOp[], lookahead: boolean): { ok: boolean | undefined; steps: number; looks: boolean } {
  const s = new PartitionSearch(model, h, false, lookahead);
  return { ok: s.run(Number.POSITIVE_INFINITY), steps: s.steps, looks: s.looksAhead };
}

/**
 * `n` operations on one key, mostly appends of distinct pieces, some puts,
 * deletes and CASes, gets; each takes effect at a random instant inside its
 * interval and gets see that sequential run, so the history is linearizable
 * until `corrupt` changes one get's value (to another value some get saw, or
 * to a piece's text). Some operations are pending.
 */
function appendHistory(rng: SeededRandom, n: number, corrupt: boolean, keys: readonly string[] = ['k']): KvOp[] {
  const h: KvOp[] = [];
  const at: { t: number; i: number }[] = [];
  for (let i = 0; i < n; i++) {
    const call = rng.int(3 * n);
    const pending = rng.int(12) === 0;
    const ret = pending ? Infinity : call + 1 + rng.int(8);
    const r = rng.int(20);
    const key = keys[rng.int(keys.length)] as string;
    const input: KvInput =
      r < 9 ? { type: 'append', key, value: String.fromCharCode(97 + (i % 26)) + (i >= 26 ? String(i) : '') }
      : r < 15 ? { type: 'get', key }
      : r < 17 ? { type: 'put', key, value: rng.int(2) === 0 ? '' : 'p' }
      : r < 18 ? { type: 'delete', key }
      : { type: 'cas', key, expected: rng.int(3) === 0 ? undefined : 'p', value: 'q' };
    h.push({ clientId: i, input, call, output: undefined, return: ret });
    // A pending operation takes effect (at some time after its call) or, one time in three, never.
    if (!pending || rng.int(3) !== 0) at.push({ t: call + rng.next() * (pending ? 8 : ret - call), i });
  }
  at.sort((a, b) => a.t - b.t);
  const values = new Map<string, string | undefined>();
  const seen: (string | undefined)[] = [];
  for (const { i } of at) {
    const op = h[i] as KvOp;
    const input = op.input;
    let value = values.get(input.key);
    let output: KvOutput;
    if (input.type === 'get') {
      output = { value };
      seen.push(value);
    } else if (input.type === 'put') {
      value = input.value;
      output = {};
    } else if (input.type === 'append') {
      value = (value ?? '') + input.value;
      output = {};
    } else if (input.type === 'delete') {
      output = { ok: value !== undefined };
      value = undefined;
    } else {
      const swap = value === input.expected;
      if (swap) value = input.value;
      output = { ok: swap };
    }
    values.set(input.key, value);
    // A pending operation's result stays unknown; only its effect counts.
    if (op.return !== Infinity) h[i] = { ...op, output };
  }
  if (corrupt) {
    const gets = h.map((op, i) => (op.input.type === 'get' && op.output !== undefined ? i : -1)).filter((i) => i >= 0);
    if (gets.length > 0) {
      const g = gets[rng.int(gets.length)] as number;
      const choices = [...seen, 'b', 'ab', undefined];
      h[g] = { ...(h[g] as KvOp), output: { value: choices[rng.int(choices.length)] } };
    }
  }
  return h;
}

/**
 * Random histories over `keys` (checked as one piece) with and without the
 * look-ahead, and against brute force when short; both models' `absent`
 * settings. Returns what it saw.
 */
function compareOnRandom(seed: number, keys: readonly string[], cases: number, longest: number, bruteUpTo: number): { lin: number; not: number; brute: number; fewer: number } {
  const rng = new SeededRandom(seed);
  const counts = { lin: 0, not: 0, brute: 0, fewer: 0 };
  for (const model of [createKvModel(), createKvModel({ absent: '' })]) {
    for (let k = 0; k < cases; k++) {
      const n = 4 + rng.int(k < cases / 2 ? 6 : longest);
      const h = appendHistory(rng, n, rng.int(2) === 0, keys);
      const what = `case ${k}, seed ${seed}: ${JSON.stringify(h)}`;
      const fast = search(model, h, true);
      const slow = search(model, h, false);
      assert.equal(fast.ok, slow.ok, what);
      if (n <= bruteUpTo) {
        assert.equal(fast.ok, bruteForce(model, h), `brute force, ${what}`);
        counts.brute++;
      }
      if (fast.looks && fast.steps < slow.steps) counts.fewer++;
      counts[fast.ok === true ? 'lin' : 'not']++;
    }
  }
  return counts;
}

test('issue #7: the look-ahead gives the same verdicts as the plain search and a brute-force checker (appends, puts, deletes, CAS, pending)', (t) => {
  const seed = Number(process.env.SEED ?? 31);
  t.diagnostic(`seed=${seed}`);
  const c = compareOnRandom(seed, ['k'], 600, 18, 9);
  t.diagnostic(`${c.lin} linearizable, ${c.not} not, ${c.brute} against brute force, look-ahead took fewer steps in ${c.fewer}`);
  assert.ok(c.lin > 200 && c.not > 200, 'the generator should produce both verdicts');
  assert.ok(c.fewer > 50, 'the look-ahead should cut some searches');
});

test('issue #7: with several keys in one state (no partitioning) the look-ahead follows each key apart, with the same verdicts', (t) => {
  const seed = Number(process.env.SEED ?? 37);
  t.diagnostic(`seed=${seed}`);
  const c = compareOnRandom(seed, ['x', 'y', 'z'], 400, 16, 8);
  t.diagnostic(`${c.lin} linearizable, ${c.not} not, ${c.brute} against brute force, look-ahead took fewer steps in ${c.fewer}`);
  assert.ok(c.lin > 100 && c.not > 100, 'the generator should produce both verdicts');
  assert.ok(c.fewer > 50, 'the look-ahead should cut some searches');
});

test('issue #7: the look-ahead lets a put called when a read returns come first (equal times overlap)', () => {
  const h: KvOp[] = [
    { clientId: 0, input: { type: 'append', key: 'k', value: 'a' }, call: 0, output: {}, return: 1 },
    { clientId: 1, input: { type: 'get', key: 'k' }, call: 2, output: { value: 'x' }, return: 5 },
    { clientId: 2, input: { type: 'put', key: 'k', value: 'x' }, call: 5, output: {}, return: 6 },
  ];
  for (const model of [porcupineKvModel, createKvModel()]) {
    assert.equal(search(model, h, true).ok, true);
    assert.equal(checkLinearizability(model, h).result, 'linearizable');
    // One time unit later the put no longer overlaps the read.
    const later = h.map((op, i) => (i === 2 ? { ...op, call: 6, return: 7 } : op));
    assert.equal(checkLinearizability(model, later).result, 'not-linearizable');
  }
});

test('issue #7: with the look-ahead, a failing partition still reports the longest prefix: all appends, then the impossible read', () => {
  const h: KvOp[] = [];
  for (let i = 0; i < 12; i++) h.push({ clientId: 0, input: { type: 'append', key: 'k', value: `x${i}` }, call: 2 * i, output: {}, return: 2 * i + 1 });
  h.push({ clientId: 1, input: { type: 'get', key: 'k' }, call: 30, output: { value: 'x0x1' }, return: 31 });
  // The look-ahead alone sees the dead end at the second append.
  const s = new PartitionSearch(porcupineKvModel, h);
  assert.equal(s.looksAhead, true);
  assert.equal(s.run(Number.POSITIVE_INFINITY), false);
  assert.ok(s.prefixLength < 12, `prefix ${s.prefixLength}`);
  // The check reports the longest prefix: every append, and the read is stuck.
  const r = checkLinearizability(porcupineKvModel, h);
  assert.equal(r.result, 'not-linearizable');
  assert.deepEqual(r.counterexample?.[0]?.prefix, [...Array(12).keys()]);
  assert.equal(r.counterexample?.[0]?.stuck, 12);
  // That prefix is searched when first read; the result is still plain data.
  const fresh = checkLinearizability(porcupineKvModel, h);
  const copy = JSON.parse(JSON.stringify(fresh)) as typeof fresh;
  assert.deepEqual(copy.partitions[0]?.linearization, [...Array(12).keys()]);
  assert.equal(copy.counterexample?.[0]?.stuck, 12);
  assert.deepEqual(fresh.counterexample, r.counterexample);
  // A frozen result still answers (the value is computed once).
  const frozen = Object.freeze(checkLinearizability(porcupineKvModel, h));
  assert.equal(frozen.counterexample?.[0]?.stuck, 12);
  assert.equal(frozen.counterexample, frozen.counterexample);
});

test('issue #7: the look-ahead cuts the search on c50-ok (Porcupine kv: appends of distinct pieces) more than ten-fold', () => {
  const h = parseKvLog(readFileSync(new URL('../../shared/testdata/porcupine/kv/c50-ok.txt', import.meta.url), 'utf8'));
  let fast = 0;
  let slow = 0;
  for (const part of partitionByKey(h)) {
    const a = search(porcupineKvModel, part, true);
    const b = search(porcupineKvModel, part, false);
    assert.equal(a.ok, true);
    assert.equal(b.ok, true);
    fast += a.steps;
    slow += b.steps;
  }
  assert.ok(fast * 10 < slow, `steps with the look-ahead ${fast}, without ${slow}`);
  // Whole-check step counts are deterministic: this is the figure the docs quote.
  assert.equal(checkLinearizability(porcupineKvModel, h).steps, fast);
});

test('issue #7: values too long to table (over 4 M characters read) are looked at no further; verdicts hold', () => {
  const big = 'x'.repeat((1 << 22) + 10);
  const h: KvOp[] = [
    { clientId: 0, input: { type: 'append', key: 'k', value: 'a' }, call: 0, output: {}, return: 1 },
    { clientId: 1, input: { type: 'append', key: 'k', value: big }, call: 0, output: {}, return: 3 },
    { clientId: 2, input: { type: 'get', key: 'k' }, call: 4, output: { value: `a${big}` }, return: 5 },
  ];
  assert.equal(checkLinearizability(porcupineKvModel, h).result, 'linearizable');
  const other = h.map((op, i) => (i === 2 ? { ...op, output: { value: `${big}a` } } : op));
  assert.equal(checkLinearizability(porcupineKvModel, other).result, 'linearizable');
  const wrong = h.map((op, i) => (i === 2 ? { ...op, output: { value: `b${big}` } } : op));
  assert.equal(checkLinearizability(porcupineKvModel, wrong).result, 'not-linearizable');
});

test('issue #7: a look-ahead counterexample reaches as far as the plain search would (c10-bad unpartitioned)', () => {
  const h = parseKvLog(readFileSync(new URL('../../shared/testdata/porcupine/kv/c10-bad.txt', import.meta.url), 'utf8'));
  const r = checkLinearizability(porcupineKvModel, h, { partition: false });
  assert.equal(r.result, 'not-linearizable');
  // The plain search, to the end (~900 k steps): its longest prefix.
  const plain = new PartitionSearch(porcupineKvModel, h, false, false);
  assert.equal(plain.run(Number.POSITIVE_INFINITY), false);
  const longest = plain.linearization();
  // The look-ahead's own search stopped earlier; the reported prefix is searched along its path.
  assert.ok(r.steps < plain.steps / 10, `look-ahead ${r.steps} steps, plain ${plain.steps}`);
  assert.equal(r.counterexample?.[0]?.prefix.length, longest.length);
});
