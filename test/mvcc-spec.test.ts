// Spec audit (etcd-kv-spec.md): the ten edge cases of section 12 and the rules the other
// mvcc-* test files do not cover on their own, each checked end to end on the public API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend, MVCCStore, openMVCCStore, type KeyValue, type WatchResponse, type Watcher } from '../src/mvcc/index.ts';
import { isStrataError } from '../src/errors.ts';
import { VirtualClock } from '../src/util/clock.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);
const keys = (kvs: KeyValue[]): string[] => kvs.map((kv) => str(kv.key));

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => isStrataError(e) && e.code === code);
}

/** Next response, failing instead of hanging. */
async function next(w: Watcher, ms = 2000): Promise<WatchResponse | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('watch response timed out')), ms);
  });
  try {
    const r = await Promise.race([w.next(), timeout]);
    return r.done ? undefined : r.value;
  } finally {
    clearTimeout(timer);
  }
}

async function withStore(fn: (s: MVCCStore) => Promise<void>, opts: Parameters<typeof openMVCCStore>[0] = {}): Promise<void> {
  const s = await openMVCCStore(opts);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

test('§12.1 (R1.1/R1.4/R1.5): empty store at 1, first write 2, same-value put bumps, no-op delete/txn do not', () =>
  withStore(async (s) => {
    assert.equal((await s.range('x')).revision, 1);
    assert.equal((await s.put('k', 'v')).revision, 2);
    const same = await s.put('k', 'v');
    assert.equal(same.revision, 3);
    assert.equal((await s.range('k')).kvs[0]!.version, 2);
    assert.deepEqual(await s.deleteRange('nope'), { deleted: 0, revision: 3 });
    const t = await s.txn({ compare: [{ key: 'k', target: 'version', result: '==', value: 99 }], success: [{ put: { key: 'k', value: 'z' } }], failure: [] });
    assert.deepEqual(t, { succeeded: false, responses: [], revision: 3 });
    const ro = await s.txn({ success: [{ range: { key: 'k' } }] });
    assert.equal(ro.revision, 3);
    assert.equal(s.currentRevision, 3);
  }));

test('§12.2 (R4.3/R4.4): VALUE compares on a missing key are false, NOT_EQUAL included; numeric ones compare with 0; ranges need every key', () =>
  withStore(async (s) => {
    const ok = async (c: Parameters<MVCCStore['txn']>[0]['compare']): Promise<boolean> => (await s.txn({ compare: c })).succeeded;
    assert.equal(await ok([{ key: 'missing', target: 'value', result: '!=', value: 'x' }]), false);
    assert.equal(await ok([{ key: 'missing', target: 'value', result: '==', value: '' }]), false);
    assert.equal(await ok([{ key: 'missing', target: 'version', result: '==', value: 0 }]), true);
    assert.equal(await ok([{ key: 'missing', target: 'createRevision', result: '==', value: 0 }]), true);
    assert.equal(await ok([{ key: 'missing', target: 'modRevision', result: '<', value: 1 }]), true);
    assert.equal(await ok([{ key: 'missing', target: 'lease', result: '==', value: 0 }]), true);
    await s.put('r/a', '1');
    await s.put('r/b', '2');
    assert.equal(await ok([{ key: 'r/', rangeEnd: 'r0', target: 'value', result: '>', value: '0' }]), true);
    assert.equal(await ok([{ key: 'r/', rangeEnd: 'r0', target: 'value', result: '==', value: '1' }]), false);
    // An empty range is one missing key.
    assert.equal(await ok([{ key: 's/', rangeEnd: 's0', target: 'value', result: '!=', value: '1' }]), false);
    assert.equal(await ok([{ key: 's/', rangeEnd: 's0', target: 'version', result: '==', value: 0 }]), true);
  }));

test('§12.3 (R2.8/R2.9): count ignores limit and filters; more is decided after filters; limit applies after sorting', () =>
  withStore(async (s) => {
    for (const k of ['a', 'b', 'c', 'd', 'e']) await s.put(k, k === 'c' ? 'zz' : k); // c at 4
    await s.put('a', 'again'); // a at 7
    const r = await s.range('a', { rangeEnd: 'z', limit: 2, minModRevision: 4 });
    assert.equal(r.count, 5);
    assert.deepEqual(keys(r.kvs), ['a', 'c']);
    assert.equal(r.more, true);
    const one = await s.range('a', { rangeEnd: 'z', limit: 3, minModRevision: 5 });
    assert.deepEqual(keys(one.kvs), ['a', 'd', 'e']);
    assert.equal(one.more, false);
    assert.equal(one.count, 5);
    const sorted = await s.range('a', { rangeEnd: 'z', limit: 2, sortOrder: 'descend', sortTarget: 'modRevision' });
    assert.deepEqual(keys(sorted.kvs), ['a', 'e']);
    assert.equal(sorted.more, true);
  }));

test('§12.4 (R2.4/R5.1/R5.4/R6.8): read and watch at compactRev work; compacting the same revision again fails; Compact(current) ok; a tombstone at R survives', async () => {
  await withStore(async (s) => {
    await s.put('k', '1'); // 2
    await s.deleteRange('k'); // 3
    await s.compact(3, { physical: true });
    assert.deepEqual((await s.range('k', { revision: 3 })).kvs, []);
    await rejectsWith(s.range('k', { revision: 2 }), 'ErrCompacted');
    await rejectsWith(s.compact(3), 'ErrCompacted');
    const w = s.watch('k', { startRevision: 3 });
    const r = await next(w);
    assert.deepEqual(
      r?.events.map((e) => [e.type, str(e.kv.key), e.kv.modRevision]),
      [['delete', 'k', 3]],
    );
    w.cancel();
    // Compact(currentRev) when currentRev is the compact revision is a repeat: ErrCompacted.
    await rejectsWith(s.compact(s.currentRevision), 'ErrCompacted');
    await s.put('x', '1'); // 4
    assert.deepEqual(await s.compact(s.currentRevision), { revision: 4 });
    await rejectsWith(s.compact(5), 'ErrFutureRev');
  });
});

test('§12.5 (R1.9): a historical Range reports the current revision in its header', () =>
  withStore(async (s) => {
    await s.put('k', '1');
    await s.put('k', '2');
    const r = await s.range('k', { revision: 2 });
    assert.equal(r.revision, 3);
    assert.equal(str(r.kvs[0]!.value), '1');
    assert.equal(r.kvs[0]!.modRevision, 2);
  }));

test('§12.6 (R3.3): a Put without a lease detaches the key from its old lease', () =>
  withStore(async (s) => {
    await s.put('k', '1', { lease: 5 });
    assert.deepEqual(s.keysForLease(5).map(str), ['k']);
    await s.put('k', '2');
    assert.deepEqual(s.keysForLease(5), []);
    assert.equal((await s.range('k')).kvs[0]!.lease, 0);
    // Revoking the old lease no longer touches the key.
    assert.deepEqual(await s.revokeLease(5), { deleted: 0, revision: 3 });
    assert.equal((await s.range('k')).count, 1);
  }));

test('§12.7 (R4.5/R4.6/R4.7): in a Txn reads see earlier writes, nested compares see the state before, one revision', () =>
  withStore(async (s) => {
    await s.put('k', 'old'); // 2
    const t = await s.txn({
      success: [
        { put: { key: 'k', value: 'new', prevKv: true } },
        { range: { key: 'k' } },
        { txn: { compare: [{ key: 'k', target: 'value', result: '==', value: 'old' }], success: [{ put: { key: 'n', value: 'seen-old' } }], failure: [] } },
        { deleteRange: { key: 'zz', prevKv: true } },
      ],
    });
    assert.equal(t.revision, 3);
    const [p, r, nested] = t.responses as [{ put: { revision: number; prevKv?: KeyValue } }, { range: { kvs: KeyValue[]; revision: number } }, { txn: { succeeded: boolean; revision: number } }];
    assert.equal(str(p.put.prevKv!.value), 'old');
    assert.equal(str(r.range.kvs[0]!.value), 'new');
    assert.equal(r.range.kvs[0]!.modRevision, 3);
    assert.equal(r.range.revision, 3);
    assert.equal(nested.txn.succeeded, true);
    assert.equal(nested.txn.revision, 0);
    const all = await s.range('a', { rangeEnd: 'zz' });
    assert.deepEqual(all.kvs.map((kv) => [str(kv.key), kv.modRevision]), [['k', 3], ['n', 3]]);
  }));

test('§12.8 (R4.9): duplicate-key check is static; TooManyOps uses the largest list', () =>
  withStore(async (s) => {
    const put = (k: string) => ({ put: { key: k, value: 'v' } });
    await rejectsWith(s.txn({ success: [put('a'), put('a')] }), 'ErrDuplicateKey');
    await rejectsWith(s.txn({ success: [put('b'), { deleteRange: { key: 'a', rangeEnd: 'c' } }] }), 'ErrDuplicateKey');
    // Duplicates on the branch that does not run still fail (static check).
    await rejectsWith(s.txn({ compare: [], success: [], failure: [put('a'), put('a')] }), 'ErrDuplicateKey');
    assert.ok((await s.txn({ success: [{ deleteRange: { key: 'a', rangeEnd: 'c' } }, { deleteRange: { key: 'b' } }] })).succeeded);
    const nested = { txn: { compare: [], success: [put('x')], failure: [put('x')] } };
    assert.ok((await s.txn({ success: [nested] })).succeeded);
    const many = Array.from({ length: 128 }, (_, i) => put(`k${i}`));
    const cmps = Array.from({ length: 128 }, () => ({ key: 'k', target: 'version' as const, result: '>' as const, value: -1 }));
    assert.ok((await s.txn({ compare: cmps, success: many, failure: many.map((o) => ({ range: { key: o.put.key } })) })).succeeded);
    await rejectsWith(s.txn({ success: [...many, put('k128')] }), 'ErrTooManyOps');
    // Deleting nothing made no revision; the nested put and the 128 puts made one each.
    assert.equal(s.currentRevision, 3);
  }));

test('§12.9 (R6.4/R6.6/R6.8/R6.9): DELETE events carry key and mod revision only; prev_kv vanishes once compacted; compacted watches cancel; progress only when synced', async () => {
  const clock = new VirtualClock();
  await withStore(
    async (s) => {
      await s.put('k', '1', { lease: 3 }); // 2
      await s.put('k', '2'); // 3
      await s.deleteRange('k'); // 4
      const w = s.watch('k', { startRevision: 3, prevKv: true });
      const r = await next(w);
      const del = r!.events[1]!;
      assert.deepEqual(del.kv, { key: enc('k'), value: new Uint8Array(0), createRevision: 0, modRevision: 4, version: 0, lease: 0 });
      assert.equal(str(del.prevKv!.value), '2');
      assert.equal(str(r!.events[0]!.prevKv!.value), '1');
      w.cancel();
      await s.compact(3);
      const w2 = s.watch('k', { startRevision: 3, prevKv: true });
      const r2 = await next(w2);
      assert.equal(r2!.events[0]!.prevKv, undefined, 'rev 2 is compacted');
      assert.equal(str(r2!.events[1]!.prevKv!.value), '2');
      w2.cancel();
      const w3 = s.watch('k', { startRevision: 2 });
      assert.deepEqual(await next(w3), { events: [], revision: 0, compactRevision: 3, canceled: true });
      assert.equal(await next(w3), undefined);
      const future = s.watch('k', { startRevision: 10, progressNotify: true });
      const live = s.watch('k', { progressNotify: true }); // starts at 5
      clock.advance(150);
      live.requestProgress();
      await s.put('other', 'x'); // 5: the store reached the live watcher's start; it stayed idle
      clock.advance(100);
      // etcd v3.6: no progress while the current revision is below the start revision.
      assert.deepEqual(await next(live), { events: [], revision: 5 });
      live.requestProgress();
      assert.deepEqual(await next(live), { events: [], revision: 5 });
      const pending = future.next();
      const quiet = await Promise.race([pending.then(() => 'got'), new Promise((res) => setTimeout(() => res('quiet'), 30))]);
      assert.equal(quiet, 'quiet', 'a future watch gets no progress notification');
      future.cancel();
      live.cancel();
    },
    { clock, progressNotifyIntervalMs: 100 },
  );
});

test('§12.10 / R7.4: revoking a lease deletes all its keys in one revision, in key order', () =>
  withStore(async (s) => {
    await s.put('b', '1', { lease: 9 });
    await s.put('a', '1', { lease: 9 });
    await s.put('c', '1', { lease: 8 });
    const w = s.watch('a', { rangeEnd: 'z' });
    assert.deepEqual(await s.revokeLease(9), { deleted: 2, revision: 5 });
    const r = await next(w);
    assert.deepEqual(r!.events.map((e) => [e.type, str(e.kv.key), e.kv.modRevision]), [['delete', 'a', 5], ['delete', 'b', 5]]);
    assert.deepEqual(s.attachedLeases(), [8]);
    w.cancel();
  }));

test('R6.1: a watch range end <= key is created and cancelled at once ("mvcc: watcher range is empty"); "\\0" watches everything from key', () =>
  withStore(async (s) => {
    await s.put('a', '1');
    const bad = s.watch('m', { rangeEnd: 'm' });
    assert.deepEqual(await next(bad), { events: [], revision: 2, canceled: true, cancelReason: 'mvcc: watcher range is empty' });
    assert.equal(await next(bad), undefined);
    const from = s.watch('m', { rangeEnd: '\0' });
    await s.put('z', '1');
    assert.deepEqual((await next(from))!.events.map((e) => str(e.kv.key)), ['z']);
    from.cancel();
  }));

test('R4.10: a Txn with only Ranges (or nothing) is read-only: no revision, current revision in its header', () =>
  withStore(async (s) => {
    await s.put('k', '1');
    const t = await s.txn({ compare: [{ key: 'k', target: 'version', result: '==', value: 1 }], success: [{ range: { key: 'k' } }], failure: [] });
    assert.equal(t.revision, 2);
    assert.equal((await s.txn({})).revision, 2);
    // A nested Txn with no writes changes nothing either.
    assert.equal((await s.txn({ success: [{ txn: { success: [{ range: { key: 'k' } }] } }] })).revision, 2);
    assert.equal(s.currentRevision, 2);
  }));

test('R5.6: physical compaction runs in batches with pauses on the injected clock; a waiting caller skips the pauses', async () => {
  const clock = new VirtualClock();
  const backend = new MemoryBackend();
  const s = new MVCCStore(backend, { clock, compactionBatchSize: 10, compactionPauseMs: 10 });
  await s.init();
  const macrotasks = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await new Promise((res) => setTimeout(res, 0));
  };
  try {
    for (let i = 0; i < 30; i++) await s.put('k', `${i}`); // records at 2..31
    const full = backend.sizeBytes();
    await s.compact(31); // 29 superseded records, 10 examined per batch
    await macrotasks(5);
    const afterFirst = backend.sizeBytes();
    assert.ok(afterFirst < full, 'the first batch ran');
    for (let i = 0; i < 3; i++) {
      clock.advance(10);
      await macrotasks(5);
    }
    const done = backend.sizeBytes();
    assert.ok(done < afterFirst, 'later batches ran after the virtual pauses');
    assert.equal((await s.range('k')).kvs[0]!.modRevision, 31);
    for (let i = 0; i < 30; i++) await s.put('k', `${i}`); // 32..61
    // physical: true waits for the compaction, so it does not pause (no clock advance needed).
    await s.compact(61, { physical: true });
    assert.ok(backend.sizeBytes() <= done, 'all superseded records are gone');
    assert.equal((await s.range('k', { revision: 61 })).kvs[0]!.modRevision, 61);
  } finally {
    await s.close();
  }
});

test('section 11: a Put over the request limit fails with ErrRequestTooLarge; a just-fitting one succeeds', () =>
  withStore(async (s) => {
    await rejectsWith(s.put('k', new Uint8Array(1.5 * 1024 * 1024)), 'ErrRequestTooLarge');
    assert.equal(s.currentRevision, 1);
    assert.equal((await s.put('k', new Uint8Array(1024 * 1024))).revision, 2);
  }));
