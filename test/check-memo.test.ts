// The memo (`VisitedSet`, src/check/memo.ts) against a plain Set of string
// keys under random operations: same answer for every add, same size, across
// bucket growth, chunk boundaries, windows of 0, 1, 2 and more words (inline
// and in the arena), and deliberately colliding hashes (the memo must compare
// state, window and words, not trust the hash). `SEED=n` reruns with another
// seed; the seed is printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VisitedSet, pairHash } from '../src/check/memo.ts';
import { SeededRandom } from '../src/util/rng.ts';

const seed = Number(process.env.SEED ?? 5);

function run(label: string, ops: number, hashBits: number, states: number, maxWords: number, r: SeededRandom): void {
  const memo = new VisitedSet(16);
  const model = new Set<string>();
  const words = 8;
  const bits = new Int32Array(words);
  // A small pool of word values so that equal windows recur.
  const values = [0, -1, 1, 2, 0x55555555, -0x80000000, 0x7fffffff, 3];
  for (let k = 0; k < ops; k++) {
    const lo = r.int(words - maxWords + 1);
    const len = r.int(maxWords + 1);
    const hi = lo + len;
    bits.fill(0x1234);
    for (let w = lo; w < hi; w++) bits[w] = values[r.int(values.length)] as number;
    const state = r.int(states);
    const key = `${state}|${lo}|${Array.from(bits.subarray(lo, hi)).join(',')}`;
    // The hash only has to be a function of the pair: truncate it to force collisions.
    let h = 0;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    const hash = pairHash(h, state) & ((1 << hashBits) - 1);
    const want = !model.has(key);
    model.add(key);
    const got = memo.add(hash, state, bits, lo, hi);
    assert.equal(got, want, `${label}, seed ${seed}, op ${k}: ${key}`);
  }
  assert.equal(memo.size, model.size, `${label}, seed ${seed}: size`);
  memo.release();
}

test(`memo agrees with a Set of keys (seed ${seed})`, () => {
  console.log(`check-memo seed ${seed} (SEED=n to change)`);
  const r = new SeededRandom(seed);
  run('well spread hashes', 60_000, 32, 50, 4, r);
  run('8-bit hashes', 20_000, 8, 20, 3, r);
  run('one hash for all', 3_000, 0, 10, 3, r);
  run('one-word windows, many states', 30_000, 32, 5_000, 1, r);
});

test(`memo: a released set's memory is reused by the next one (seed ${seed})`, () => {
  const r = new SeededRandom(seed + 1);
  for (let round = 0; round < 3; round++) run(`round ${round}`, 10_000, 32, 30, 3, r);
});
