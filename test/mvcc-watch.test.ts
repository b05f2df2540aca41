// Watch behaviour of the MVCC store (etcd-kv-spec.md section 6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openMVCCStore, type Watcher, type WatchResponse, type WatchEvent } from '../src/mvcc/index.ts';
import { isStrataError } from '../src/errors.ts';
import { VirtualClock } from '../src/util/clock.ts';
import { SeededRandom } from '../src/util/rng.ts';

const str = (b: Uint8Array): string => new TextDecoder().decode(b);
const brief = (e: WatchEvent): string => `${e.type} ${str(e.kv.key)}@${e.kv.modRevision}${e.prevKv ? ` prev=${str(e.prevKv.value)}` : ''}`;

/** next() calls left pending by quiet(), consumed first by next(). */
const pendingNext = new WeakMap<Watcher, Promise<IteratorResult<WatchResponse, undefined>>>();

function take(w: Watcher): Promise<IteratorResult<WatchResponse, undefined>> {
  const p = pendingNext.get(w);
  pendingNext.delete(w);
  return p ?? w.next();
}

/** Next response, failing instead of hanging. */
async function next(w: Watcher, ms = 2000): Promise<WatchResponse | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('watch response timed out')), ms);
  });
  try {
    const r = await Promise.race([take(w), timeout]);
    return r.done ? undefined : r.value;
  } finally {
    clearTimeout(timer);
  }
}

/** Collect responses until `n` events arrived. */
async function events(w: Watcher, n: number): Promise<{ events: WatchEvent[]; responses: WatchResponse[] }> {
  const out: WatchEvent[] = [];
  const responses: WatchResponse[] = [];
  while (out.length < n) {
    const r = await next(w);
    assert.ok(r !== undefined, 'watch ended early');
    responses.push(r);
    out.push(...r.events);
  }
  return { events: out, responses };
}

/** True if nothing arrives within a few macrotasks. */
async function quiet(w: Watcher): Promise<boolean> {
  const p = take(w);
  const r = await Promise.race([p.then(() => 'got'), new Promise((res) => setTimeout(() => res('quiet'), 30))]);
  if (r === 'quiet') pendingNext.set(w, p);
  return r === 'quiet';
}

test('R6.2/R6.4/R6.5: replay from a start revision in one catch-up response, then live events', async () => {
  const s = await openMVCCStore();
  await s.put('a', '1'); // 2
  await s.put('b', '1'); // 3
  await s.deleteRange('a'); // 4
  const w = s.watch('a', { rangeEnd: 'z', startRevision: 2 });
  const first = await next(w);
  assert.deepEqual(first!.events.map(brief), ['put a@2', 'put b@3', 'delete a@4']);
  assert.equal(first!.revision, 4, 'catch-up responses carry the current revision');
  // R6.4: a DELETE event has only the key and mod revision.
  assert.deepEqual(first!.events[2]!.kv, { key: new TextEncoder().encode('a'), value: new Uint8Array(0), createRevision: 0, modRevision: 4, version: 0, lease: 0 });
  await s.txn({ success: [{ put: { key: 'c', value: '1' } }, { put: { key: 'd', value: '1' } }] }); // 5
  const live = await next(w);
  assert.deepEqual(live, { events: live!.events, revision: 5 });
  assert.deepEqual(live!.events.map(brief), ['put c@5', 'put d@5'], 'all events of a revision in one response, in op order');
  w.cancel();
  assert.equal(s.watcherCount, 0);
  await s.close();
});

test('R6.2: start 0 sees only later events; a future start waits quietly', async () => {
  const s = await openMVCCStore();
  await s.put('a', '1');
  const now = s.watch('a');
  const future = s.watch('a', { startRevision: 5 });
  await s.put('a', '2'); // 3
  assert.deepEqual((await next(now))!.events.map(brief), ['put a@3']);
  assert.equal(await quiet(future), true);
  await s.put('a', '3'); // 4
  await s.put('a', '4'); // 5
  assert.deepEqual((await next(future))!.events.map(brief), ['put a@5']);
  await s.close();
});

test('R6.1: prefix, fromKey and empty-key watches; a range end <= key gives a created-and-cancelled watch', async () => {
  const s = await openMVCCStore();
  const pre = s.watch('p/', { prefix: true });
  const from = s.watch('m', { fromKey: true });
  const all = s.watch('', { prefix: true });
  await s.put('a', '1');
  await s.put('p/1', '1');
  await s.put('q', '1');
  assert.deepEqual((await events(pre, 1)).events.map(brief), ['put p/1@3']);
  assert.deepEqual((await events(from, 2)).events.map(brief), ['put p/1@3', 'put q@4']);
  assert.deepEqual((await events(all, 3)).events.map(brief), ['put a@2', 'put p/1@3', 'put q@4']);
  for (const end of ['a', 'b']) {
    const bad = s.watch('b', { rangeEnd: end });
    assert.deepEqual(await next(bad), { events: [], revision: 4, canceled: true, cancelReason: 'mvcc: watcher range is empty' });
    assert.equal(await next(bad), undefined);
  }
  assert.equal(s.watcherCount, 3);
  assert.throws(() => s.watch('b', { filters: ['nope' as 'noput'] }), (e: unknown) => isStrataError(e, 'ErrInvalidArgument'));
  await s.close();
});

test('R6.6: prev_kv on updates and deletes, not on creations; dropped once rev-1 is compacted', async () => {
  const s = await openMVCCStore();
  const w = s.watch('k', { prevKv: true });
  await s.put('k', 'v1'); // 2
  await s.put('k', 'v2'); // 3
  await s.deleteRange('k'); // 4
  assert.deepEqual((await events(w, 3)).events.map(brief), ['put k@2', 'put k@3 prev=v1', 'delete k@4 prev=v2']);
  await s.put('k', 'v3'); // 5
  await s.put('k', 'v4'); // 6
  await s.compact(6);
  const late = s.watch('k', { prevKv: true, startRevision: 6 });
  assert.deepEqual((await events(late, 1)).events.map(brief), ['put k@6'], 'prev at 5 is compacted: left out');
  await s.close();
});

test('R6.7: noput/nodelete filters; responses left empty are not sent', async () => {
  const s = await openMVCCStore();
  const noput = s.watch('k', { filters: ['noput'] });
  const nodel = s.watch('k', { filters: ['nodelete'] });
  await s.put('k', '1');
  await s.deleteRange('k');
  await s.put('k', '2');
  assert.deepEqual((await events(noput, 1)).events.map(brief), ['delete k@3']);
  assert.equal(await quiet(noput), true);
  assert.deepEqual((await events(nodel, 2)).events.map(brief), ['put k@2', 'put k@4']);
  await s.close();
});

test('R6.8: a start below the compact revision is cancelled with compactRevision; start == compactRev works', async () => {
  const s = await openMVCCStore();
  for (let i = 0; i < 5; i++) await s.put('k', String(i)); // 2..6
  await s.compact(4);
  const w = s.watch('k', { startRevision: 3 });
  const r = await next(w);
  assert.deepEqual(r, { events: [], revision: 0, compactRevision: 4, canceled: true });
  assert.equal(await next(w), undefined, 'the watch ends');
  const ok = s.watch('k', { startRevision: 4 });
  assert.deepEqual((await events(ok, 3)).events.map(brief), ['put k@4', 'put k@5', 'put k@6']);
  const neg = s.watch('k', { startRevision: -1 });
  assert.equal((await next(neg))!.canceled, true);
  assert.equal(await next(neg), undefined);
  await s.close();
});

test('R6.13: cancel via AbortSignal and via break ends the iteration', async () => {
  const s = await openMVCCStore();
  const ac = new AbortController();
  const w = s.watch('k', { signal: ac.signal });
  const pending = w.next();
  ac.abort();
  assert.equal((await pending).done, true);
  const w2 = s.watch('k');
  await s.put('k', '1');
  for await (const r of w2) {
    assert.equal(r.revision, 2);
    break;
  }
  assert.equal(s.watcherCount, 0);
  await s.close();
});

test('R6.9: progress notifications go to synced idle watchers; requestProgress when synced', async () => {
  const clock = new VirtualClock();
  const s = await openMVCCStore({ clock, progressNotifyIntervalMs: 1000 });
  const w = s.watch('k', { progressNotify: true });
  await s.put('other', '1'); // 2
  clock.advance(1000);
  assert.deepEqual(await next(w), { events: [], revision: 2 });
  await s.put('k', '1'); // 3
  assert.equal((await next(w))!.events.length, 1);
  clock.advance(1000); // had events since last tick: no notification
  assert.equal(await quiet(w), true);
  clock.advance(1000);
  assert.deepEqual(await next(w), { events: [], revision: 3 });
  w.requestProgress();
  assert.deepEqual(await next(w), { events: [], revision: 3 });
  w.cancel();
  await s.close();
});

test('R6.5: catch-up batches hold at most 1000 distinct revisions', async () => {
  const s = await openMVCCStore();
  for (let i = 0; i < 2500; i++) await s.put(`k${i % 7}`, 'v');
  const w = s.watch('k', { prefix: true, startRevision: 2 });
  const { responses, events: evs } = await events(w, 2500);
  assert.deepEqual(responses.map((r) => r.events.length), [1000, 1000, 500]);
  assert.deepEqual(evs.map((e) => e.kv.modRevision), Array.from({ length: 2500 }, (_, i) => i + 2));
  await s.close();
});

test('R6.5/R6.11: many concurrent watchers each get exactly their events in order (seeded)', async (t) => {
  const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 1e9));
  t.diagnostic(`seed=${seed}`);
  const rng = new SeededRandom(seed);
  const s = await openMVCCStore({ watchBufferSize: 8 });
  const keys = ['a', 'a/1', 'a/2', 'b', 'b/1', 'c'];
  const specs = Array.from({ length: 150 }, () => {
    const k = rng.pick(keys);
    const kind = rng.int(3);
    return { k, kind, start: rng.chance(0.3) ? rng.range(1, 40) : 0, w: undefined as Watcher | undefined, createdAt: 0 };
  });
  const history: { key: string; type: string; rev: number }[] = [];
  for (let i = 0; i < 300; i++) {
    if (i % 2 === 0 && i / 2 < specs.length) {
      const sp = specs[i / 2]!;
      sp.createdAt = s.currentRevision;
      sp.w = s.watch(sp.k, { prefix: sp.kind === 1, fromKey: sp.kind === 2, startRevision: sp.start });
    }
    const k = rng.pick(keys);
    if (rng.chance(0.2)) {
      const r = await s.deleteRange(k);
      if (r.deleted > 0) history.push({ key: k, type: 'delete', rev: r.revision });
    } else history.push({ key: k, type: 'put', rev: (await s.put(k, `v${i}`)).revision });
  }
  for (const sp of specs) {
    const match = (key: string): boolean => (sp.kind === 0 ? key === sp.k : sp.kind === 1 ? key.startsWith(sp.k) : key >= sp.k);
    const from = sp.start > 0 ? sp.start : sp.createdAt + 1;
    const want = history.filter((h) => h.rev >= from && match(h.key)).map((h) => `${h.type} ${h.key}@${h.rev}`);
    const got = (await events(sp.w!, want.length)).events.map((e) => `${e.type} ${str(e.kv.key)}@${e.kv.modRevision}`);
    assert.deepEqual(got, want, `watcher ${sp.k} kind ${sp.kind} start ${sp.start} (seed=${seed})`);
  }
  await new Promise((res) => setTimeout(res, 20));
  for (const sp of specs) {
    assert.equal(sp.w!.buffered, 0, 'no duplicates or extra events');
    assert.equal(sp.w!.synced, true, 'caught up');
    sp.w!.cancel();
  }
  await s.close();
});

test('R6.12: a slow consumer does not block writers, stays within its buffer, and loses nothing (LevelDB)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'strata-mvcc-watch-'));
  try {
    const s = await openMVCCStore({ path: dir, watchBufferSize: 4 });
    const slow = s.watch('k', { prefix: true, prevKv: true });
    const fast = s.watch('k', { prefix: true });
    const fastEvents: number[] = [];
    const fastDone = (async () => {
      for await (const r of fast) {
        for (const e of r.events) fastEvents.push(e.kv.modRevision);
        if (fastEvents.length === 3000) break;
      }
    })();
    let maxBuffered = 0;
    for (let i = 0; i < 3000; i++) {
      await s.put(`k${i % 10}`, `v${i}`);
      maxBuffered = Math.max(maxBuffered, slow.buffered);
    }
    assert.ok(maxBuffered <= 4, `slow watcher buffered ${maxBuffered} responses`);
    await fastDone;
    assert.deepEqual(fastEvents, Array.from({ length: 3000 }, (_, i) => i + 2));
    // Now drain the slow one: it catches up from the store, in order, without gaps.
    const got: WatchEvent[] = [];
    while (got.length < 3000) {
      const r = await next(slow);
      got.push(...r!.events);
      await new Promise((res) => setImmediate(res));
    }
    assert.deepEqual(got.map((e) => e.kv.modRevision), Array.from({ length: 3000 }, (_, i) => i + 2));
    assert.ok(got.slice(10).every((e, i) => e.prevKv !== undefined && str(e.prevKv.value) === `v${i}`), 'prev_kv on catch-up events');
    // Caught up: live again.
    await s.put('k0', 'last');
    assert.deepEqual((await next(slow))!.events.map((e) => e.kv.modRevision), [3002]);
    await s.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('restore: open watchers catch up from the restored store', async () => {
  const src = await openMVCCStore();
  await src.put('k', '1');
  await src.put('k', '2');
  await src.put('k', '3');
  const snap = await src.snapshot();
  const dst = await openMVCCStore();
  const w = dst.watch('k');
  await dst.restore(snap);
  await dst.put('k', '4');
  // The watcher was at revision 2 (start 0 on an empty store): it receives 2, 3, 4 from the restored history.
  const { events: evs } = await events(w, 4);
  assert.deepEqual(evs.map((e) => `${str(e.kv.value)}@${e.kv.modRevision}`), ['1@2', '2@3', '3@4', '4@5']);
  await dst.close();
});

test('R6.8: a watcher that falls behind a compaction while catching up is cancelled with the compact revision, without gaps before it', async () => {
  const s = await openMVCCStore({ watchBufferSize: 2 });
  const w = s.watch('k', { prefix: true });
  for (let i = 0; i < 300; i++) await s.put(`k${i % 5}`, `v${i}`); // revs 2..301
  await s.compact(250);
  const revs: number[] = [];
  let last: WatchResponse | undefined;
  for (;;) {
    const r = await next(w);
    if (r === undefined) break;
    last = r;
    revs.push(...r.events.map((e) => e.kv.modRevision));
  }
  assert.deepEqual(last, { events: [], revision: 0, compactRevision: 250, canceled: true });
  assert.deepEqual(revs, Array.from({ length: revs.length }, (_, i) => i + 2), 'delivered events are contiguous from the start');
  assert.ok(revs.length < 249, 'the watcher could not have caught up past the compaction');
  await s.close();
});
