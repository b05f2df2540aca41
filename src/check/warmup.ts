/**
 * Warm-up of the checker's data structures, for a cold process.
 *
 * V8 optimises a hot function with the type feedback gathered so far; code
 * inside it that has never run (a table growing, a memo entry with a long
 * window) has none, and reaching it later throws the optimised code away and
 * compiles the function again (on a cold kv check: the KV store's `append`
 * three times, the memo's `add` twice, ~8 ms of compiling each). The small
 * histories of the search warm-up (`linearizability.ts`) do not grow these
 * tables, so this drives each structure directly through its rare paths once:
 * a few thousand cheap operations, no search.
 */
import { KvStore } from './models/kv-store.ts';
import { VisitedSet, pairHash, zobrist } from './memo.ts';

/** Exercise every path of the KV store and the memo once (a few ms, once per process). */
export function warmStructures(): void {
  for (const absent of ['', undefined]) warmStore(new KvStore(absent));
  warmMemo();
}

function warmStore(store: KvStore): void {
  const pieces: number[] = [];
  for (let i = 0; i < 24; i++) pieces.push(store.pieceId(`w${i}`));
  // Values a read would report, then appends that spell them piece by piece
  // (the canonical lookup compares texts); misses, hits, and enough distinct
  // (value, piece) pairs to grow the append cache, the value table and the
  // canonical table.
  let spelled = '';
  for (let i = 1; i < 30; i++) {
    spelled += `w${i % 24}`;
    if (i % 3 === 0) store.value(spelled);
  }
  let v = store.absent;
  for (let i = 0; i < 600; i++) {
    v = i % 40 === 0 ? store.absent : store.append(v, pieces[(i % 40) % 24] as number);
    store.append(v, pieces[(i * 7) % 24] as number);
  }
  const text = store.text(v);
  store.value(text);
  store.find(text);
  store.find(`${text}?`);
  store.expect(undefined);
  store.expect('w1');
  store.appendText(store.value('w0'), 'w1');
  store.lengthOf(v);
  store.hashOf(v);
  // Maps over more keys than the store's scratch space holds, set and removed.
  let m = KvStore.EMPTY;
  for (let i = 0; i < 200; i++) {
    const k = store.keyId(`k${i % 20}`);
    m = store.set(m, k, i % 9 === 0 ? store.absent : store.value(`v${i % 13}`));
    store.lookup(m, k);
  }
  store.entries(m);
  store.release();
}

function warmMemo(): void {
  const memo = new VisitedSet(16);
  const bits = new Int32Array(6);
  // Windows of one to five words, new and met again; enough entries to grow
  // the buckets several times and to fill the arena of long windows.
  for (let i = 0; i < 1200; i++) {
    const lo = i % 2;
    const hi = lo + 1 + (i % 5);
    for (let w = lo; w < hi; w++) bits[w] = zobrist(i + w);
    const state = i % 7;
    const hash = pairHash(zobrist(i), state);
    memo.add(hash, state, bits, lo, hi);
    memo.add(hash, state, bits, lo, hi);
  }
  memo.release();
}
