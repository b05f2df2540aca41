// Unit tests of the MVCC key index (generations, tombstones, compaction) and the ordered tree index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyIndex } from '../src/mvcc/key-index.ts';
import { TreeIndex } from '../src/mvcc/tree-index.ts';
import type { Revision } from '../src/mvcc/revision.ts';
import { SeededRandom } from '../src/util/rng.ts';

const rv = (main: number, sub = 0): Revision => ({ main, sub });

/** put@2, put@4, tomb@6 | put@8, put@10, tomb@12 | put@14 */
function sample(): KeyIndex {
  const ki = new KeyIndex('k');
  ki.put(rv(2), 2, 1);
  ki.put(rv(4), 2, 2);
  ki.tombstone(rv(6));
  ki.put(rv(8), 8, 1);
  ki.put(rv(10), 8, 2);
  ki.tombstone(rv(12));
  ki.put(rv(14), 14, 1);
  return ki;
}

test('R1.6/R1.7/R1.8: get at a revision returns the record, create revision and version of that time', () => {
  const ki = sample();
  assert.equal(ki.get(1), undefined);
  assert.deepEqual(ki.get(2), { rev: rv(2), createRevision: 2, version: 1 });
  assert.deepEqual(ki.get(3), { rev: rv(2), createRevision: 2, version: 1 });
  assert.deepEqual(ki.get(5), { rev: rv(4), createRevision: 2, version: 2 });
  assert.equal(ki.get(6), undefined, 'deleted at its tombstone');
  assert.equal(ki.get(7), undefined);
  assert.deepEqual(ki.get(9), { rev: rv(8), createRevision: 8, version: 1 }, 'a new generation restarts version at 1');
  assert.deepEqual(ki.get(11), { rev: rv(10), createRevision: 8, version: 2 });
  assert.equal(ki.get(13), undefined);
  assert.deepEqual(ki.get(100), { rev: rv(14), createRevision: 14, version: 1 });
  assert.equal(ki.isLive(), true);
});

test('R1.7: tombstone on a deleted key is refused; the key is not live after a tombstone', () => {
  const ki = new KeyIndex('k');
  assert.equal(ki.tombstone(rv(2)), false);
  ki.put(rv(2), 2, 1);
  assert.equal(ki.tombstone(rv(3)), true);
  assert.equal(ki.isLive(), false);
  assert.equal(ki.tombstone(rv(4)), false);
  assert.deepEqual(ki.modified(), rv(3));
});

function compactKeep(ki: KeyIndex, at: number): Revision[] {
  const kept: Revision[] = [];
  ki.compact(at, (r) => kept.push(r));
  return kept;
}

test('R5.3: compaction keeps the newest record <= R per generation and everything after', () => {
  const cases: Array<{ at: number; kept: Revision[]; gens: number; reads: Array<[number, number | undefined]> }> = [
    { at: 1, kept: [], gens: 3, reads: [[2, 2]] },
    { at: 2, kept: [rv(2)], gens: 3, reads: [[2, 2], [5, 4]] },
    { at: 3, kept: [rv(2)], gens: 3, reads: [[3, 2], [4, 4]] },
    { at: 5, kept: [rv(4)], gens: 3, reads: [[5, 4], [9, 8]] },
    // R5.4: a tombstone at exactly R leaves the index (the store keeps records at R physically).
    { at: 6, kept: [], gens: 2, reads: [[6, undefined], [8, 8]] },
    { at: 7, kept: [], gens: 2, reads: [[7, undefined], [9, 8]] },
    { at: 12, kept: [], gens: 1, reads: [[12, undefined], [14, 14]] },
    { at: 13, kept: [], gens: 1, reads: [[14, 14]] },
    { at: 20, kept: [rv(14)], gens: 1, reads: [[20, 14]] },
  ];
  for (const c of cases) {
    const ki = sample();
    assert.deepEqual(compactKeep(ki, c.at), c.kept, `compact(${c.at}) keeps`);
    assert.equal(ki.generations.length, c.gens, `compact(${c.at}) generations`);
    for (const [at, main] of c.reads) assert.equal(ki.get(at)?.rev.main, main, `compact(${c.at}) then get(${at})`);
  }
});

test('R5.5: reads at revisions >= R are unchanged by compaction (exhaustive over R)', () => {
  for (let at = 1; at <= 16; at++) {
    const before = sample();
    const after = sample();
    after.compact(at, () => undefined);
    for (let r = at; r <= 16; r++) assert.deepEqual(after.get(r), before.get(r), `compact(${at}) get(${r})`);
  }
});

test('R5.3: a key deleted and re-put in one revision keeps the put when compacted at that revision', () => {
  // A Txn [deleteRange from "a" (range end "\\0"), put "b"] passes the duplicate check (R4.9 quirk).
  const ki = new KeyIndex('b');
  ki.put(rv(2), 2, 1);
  ki.tombstone(rv(5, 0));
  ki.put(rv(5, 1), 5, 1);
  assert.deepEqual(compactKeep(ki, 5), [rv(5, 1)]);
  assert.deepEqual(ki.get(5), { rev: rv(5, 1), createRevision: 5, version: 1 });
  assert.deepEqual(ki.keptAt(5), rv(5, 1));
});

test('R5.3: a key whose history ends in a tombstone before R becomes empty', () => {
  const ki = new KeyIndex('k');
  ki.put(rv(2), 2, 1);
  ki.tombstone(rv(3));
  ki.compact(5, () => undefined);
  assert.equal(ki.isEmpty(), true);
});

test('R9.9: keptAt excludes tombstones and does not change the index', () => {
  const ki = sample();
  assert.deepEqual(ki.keptAt(5), rv(4));
  assert.equal(ki.keptAt(6), undefined);
  assert.equal(ki.keptAt(7), undefined);
  assert.deepEqual(ki.keptAt(11), rv(10));
  assert.equal(ki.generations.length, 3);
});

test('tree index: ordered visits over many keys match a sorted reference (seeded)', (t) => {
  const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 1e9));
  t.diagnostic(`seed=${seed}`);
  const rng = new SeededRandom(seed);
  const tree = new TreeIndex();
  const ref = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const k = String.fromCharCode(...Array.from({ length: 1 + rng.int(4) }, () => rng.int(256)));
    if (rng.chance(0.2) && ref.size > 0) {
      const victim = [...ref][rng.int(ref.size)]!;
      tree.delete(victim);
      ref.delete(victim);
    } else {
      tree.getOrCreate(k);
      ref.add(k);
    }
  }
  const sorted = [...ref].sort();
  const all: string[] = [];
  tree.forEach((ki) => all.push(ki.key));
  assert.deepEqual(all, sorted);
  assert.equal(tree.size, sorted.length);
  for (let i = 0; i < 200; i++) {
    const a = String.fromCharCode(rng.int(256), rng.int(256));
    const b = rng.chance(0.2) ? '' : String.fromCharCode(rng.int(256));
    const got: string[] = [];
    tree.visit(a, b, (ki) => {
      got.push(ki.key);
    });
    assert.deepEqual(got, sorted.filter((k) => k >= a && (b === '' || k < b)), `visit [${a}, ${b})`);
  }
});
