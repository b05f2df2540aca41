// MVCCStore behaviour, one test per spec rule (etcd-kv-spec.md sections 1–5, 9.9, 11).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openMVCCStore, type MVCCStore, type KeyValue, type TxnOp } from '../src/mvcc/index.ts';
import { isStrataError } from '../src/errors.ts';
import { encode } from '../src/codec/index.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);
const keys = (kvs: KeyValue[]): string[] => kvs.map((kv) => str(kv.key));

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isStrataError(e), `expected StrataError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

async function fresh(): Promise<MVCCStore> {
  return openMVCCStore();
}

test('R1.1: an empty store is at revision 1 and the first write gets revision 2', async () => {
  const s = await fresh();
  assert.equal(s.currentRevision, 1);
  assert.equal((await s.range('a')).revision, 1);
  assert.equal((await s.put('a', '1')).revision, 2);
  assert.equal(s.currentRevision, 2);
});

test('R1.3/R1.5/R1.6: each put bumps revision and version, identical values included; create revision is kept', async () => {
  const s = await fresh();
  await s.put('a', 'x');
  await s.put('a', 'x');
  const r = await s.range('a');
  assert.deepEqual(r.kvs, [{ key: enc('a'), value: enc('x'), createRevision: 2, modRevision: 3, version: 2, lease: 0 }]);
  assert.equal(r.revision, 3);
});

test('R1.4: no-op writes create no revision', async () => {
  const s = await fresh();
  await s.put('a', '1');
  assert.deepEqual(await s.deleteRange('zz'), { deleted: 0, revision: 2 });
  const t = await s.txn({ compare: [], success: [{ range: { key: 'a' } }] });
  assert.equal(t.revision, 2);
  const t2 = await s.txn({ compare: [{ key: 'a', target: 'value', result: '==', value: 'nope' }], success: [{ put: { key: 'b', value: '1' } }] });
  assert.equal(t2.succeeded, false);
  assert.equal(t2.revision, 2);
  assert.equal(s.currentRevision, 2);
});

test('R1.7: delete ends the generation; a later put starts over at version 1', async () => {
  const s = await fresh();
  await s.put('a', '1'); // 2
  await s.put('a', '2'); // 3
  await s.deleteRange('a'); // 4
  await s.put('a', '3'); // 5
  const kv = (await s.range('a')).kvs[0]!;
  assert.equal(kv.createRevision, 5);
  assert.equal(kv.version, 1);
});

test('R1.8/R1.9: historical reads report old metadata and the current header revision', async () => {
  const s = await fresh();
  await s.put('a', '1');
  await s.put('a', '2');
  await s.put('b', '1');
  const r = await s.range('a', { revision: 2 });
  assert.equal(r.revision, 4);
  assert.deepEqual(r.kvs, [{ key: enc('a'), value: enc('1'), createRevision: 2, modRevision: 2, version: 1, lease: 0 }]);
});

test('R2.1: empty key gives ErrEmptyKey for range, put, delete and compare', async () => {
  const s = await fresh();
  await rejectsWith(s.range(''), 'ErrEmptyKey');
  await rejectsWith(s.put('', 'v'), 'ErrEmptyKey');
  await rejectsWith(s.deleteRange(''), 'ErrEmptyKey');
  await rejectsWith(s.txn({ compare: [{ key: '', target: 'version', result: '==', value: 0 }] }), 'ErrEmptyKey');
});

test('R2.2/R2.3: range ends, "\\0", prefix and fromKey; rangeEnd <= key gives an empty result', async () => {
  const s = await fresh();
  for (const k of ['a', 'ab', 'abc', 'b', 'c\xff', 'd']) await s.put(k, 'v');
  await s.put(new Uint8Array([0xff, 0xff]), 'v');
  assert.deepEqual(keys((await s.range('a', { rangeEnd: 'b' })).kvs), ['a', 'ab', 'abc']);
  assert.deepEqual(keys((await s.range('ab', { prefix: true })).kvs), ['ab', 'abc']);
  assert.equal((await s.range('b', { rangeEnd: '\0' })).count, 4);
  assert.equal((await s.range('b', { fromKey: true })).count, 4);
  assert.equal((await s.range('', { fromKey: true })).count, 7);
  assert.equal((await s.range('', { prefix: true })).count, 7);
  assert.equal((await s.range('\0', { rangeEnd: '\0' })).count, 7);
  assert.equal((await s.range(new Uint8Array([0xff]), { prefix: true })).count, 1, 'all-0xff prefix uses "\\0"');
  const empty = await s.range('c', { rangeEnd: 'b' });
  assert.deepEqual(empty, { kvs: [], count: 0, more: false, revision: s.currentRevision });
  assert.equal((await s.range('c', { rangeEnd: 'c' })).count, 0);
});

test('R2.4: revision <= 0 reads latest, future ⇒ ErrFutureRev, below compact ⇒ ErrCompacted, at compact ok', async () => {
  const s = await fresh();
  for (let i = 0; i < 5; i++) await s.put('a', String(i)); // revs 2..6
  assert.equal(str((await s.range('a', { revision: -3 })).kvs[0]!.value), '4');
  await rejectsWith(s.range('a', { revision: 7 }), 'ErrFutureRev');
  await s.compact(4);
  await rejectsWith(s.range('a', { revision: 3 }), 'ErrCompacted');
  assert.equal(str((await s.range('a', { revision: 4 })).kvs[0]!.value), '2');
});

test('R2.6: sorting by every target and order; unknown ⇒ ErrInvalidSortOption', async () => {
  const s = await fresh();
  await s.put('c', '1'); // 2
  await s.put('a', '3'); // 3
  await s.put('b', '2'); // 4
  await s.put('a', '0'); // 5 (a: version 2)
  assert.deepEqual(keys((await s.range('a', { rangeEnd: 'z', sortOrder: 'descend' })).kvs), ['c', 'b', 'a']);
  assert.deepEqual(keys((await s.range('a', { rangeEnd: 'z', sortTarget: 'value' })).kvs), ['a', 'c', 'b'], 'non-key target with NONE sorts ascending');
  assert.deepEqual(keys((await s.range('a', { rangeEnd: 'z', sortTarget: 'createRevision', sortOrder: 'descend' })).kvs), ['b', 'a', 'c']);
  assert.deepEqual(keys((await s.range('a', { rangeEnd: 'z', sortTarget: 'modRevision', sortOrder: 'ascend' })).kvs), ['c', 'b', 'a']);
  assert.deepEqual(keys((await s.range('a', { rangeEnd: 'z', sortTarget: 'version', sortOrder: 'descend' })).kvs), ['a', 'b', 'c'], 'ties by key');
  await rejectsWith(s.range('a', { sortOrder: 'up' as never }), 'ErrInvalidSortOption');
  await rejectsWith(s.range('a', { sortTarget: 'size' as never }), 'ErrInvalidSortOption');
});

test('R2.7/R2.8/R2.9: filters are inclusive, limit truncates after sorting, more follows filters, count ignores both', async () => {
  const s = await fresh();
  for (const k of ['a', 'b', 'c', 'd', 'e']) await s.put(k, k); // a=2 … e=6
  const all = { rangeEnd: 'z' };
  let r = await s.range('a', { ...all, limit: 2 });
  assert.deepEqual([keys(r.kvs), r.count, r.more], [['a', 'b'], 5, true]);
  r = await s.range('a', { ...all, limit: 5 });
  assert.equal(r.more, false);
  r = await s.range('a', { ...all, minModRevision: 3, maxModRevision: 5 });
  assert.deepEqual([keys(r.kvs), r.count], [['b', 'c', 'd'], 5]);
  r = await s.range('a', { ...all, minCreateRevision: 4, limit: 2 });
  assert.deepEqual([keys(r.kvs), r.count, r.more], [['c', 'd'], 5, true]);
  r = await s.range('a', { ...all, maxCreateRevision: 3, limit: 2 });
  assert.deepEqual([keys(r.kvs), r.more], [['a', 'b'], false], 'more is decided after filtering');
  r = await s.range('a', { ...all, sortOrder: 'descend', limit: 2 });
  assert.deepEqual(keys(r.kvs), ['e', 'd']);
  await rejectsWith(s.range('a', { limit: -1 }), 'ErrInvalidArgument');
});

test('R2.8: with sort order NONE and a non-key target, etcd sorts only the first limit+1 keys', async () => {
  const s = await fresh();
  await s.put('a', '9');
  await s.put('b', '8');
  await s.put('c', '1');
  const r = await s.range('a', { rangeEnd: 'z', sortTarget: 'value', limit: 1 });
  assert.deepEqual([keys(r.kvs), r.more], [['b'], true]);
  const r2 = await s.range('a', { rangeEnd: 'z', sortTarget: 'value', sortOrder: 'ascend', limit: 1 });
  assert.deepEqual(keys(r2.kvs), ['c']);
});

test('R2.10: countOnly and keysOnly', async () => {
  const s = await fresh();
  await s.put('a', '1');
  await s.put('b', '2');
  assert.deepEqual(await s.range('a', { rangeEnd: 'c', countOnly: true }), { kvs: [], count: 2, more: false, revision: 3 });
  const r = await s.range('a', { rangeEnd: 'c', keysOnly: true });
  assert.deepEqual(r.kvs.map((kv) => [str(kv.key), kv.value.length, kv.version]), [['a', 0, 1], ['b', 0, 1]]);
});

test('R3.1: put validation order', async () => {
  const s = await openMVCCStore({ leaseExists: (id) => id === 7 });
  await rejectsWith(s.put('', 'v', { ignoreValue: true }), 'ErrEmptyKey');
  await rejectsWith(s.put('a', 'v', { ignoreValue: true, ignoreLease: true, lease: 5 }), 'ErrValueProvided');
  await rejectsWith(s.put('a', '', { ignoreLease: true, lease: 5 }), 'ErrLeaseProvided');
  await rejectsWith(s.put('a', '', { ignoreValue: true, lease: 5 }), 'ErrLeaseNotFound');
  await rejectsWith(s.put('a', '', { ignoreValue: true, lease: 7 }), 'ErrKeyNotFound');
  await rejectsWith(s.put('a', 'v', { ignoreLease: true }), 'ErrKeyNotFound');
  assert.equal(s.currentRevision, 1, 'bad input changes nothing');
});

test('R3.2/R3.3: ignoreValue and ignoreLease keep value/lease but bump revision and version; lease 0 detaches', async () => {
  const s = await fresh();
  await s.put('a', 'v1', { lease: 7 });
  assert.deepEqual(s.keysForLease(7).map(str), ['a']);
  await s.put('a', '', { ignoreValue: true });
  let kv = (await s.range('a')).kvs[0]!;
  assert.deepEqual([str(kv.value), kv.lease, kv.version, kv.modRevision], ['v1', 0, 2, 3]);
  assert.deepEqual(s.keysForLease(7), [], 'put without lease detaches');
  await s.put('a', 'v2', { lease: 9 });
  await s.put('a', 'v3', { ignoreLease: true });
  kv = (await s.range('a')).kvs[0]!;
  assert.deepEqual([str(kv.value), kv.lease, kv.version], ['v3', 9, 4]);
  assert.deepEqual(s.keysForLease(9).map(str), ['a']);
  await s.deleteRange('a');
  assert.deepEqual(s.keysForLease(9), [], 'delete detaches');
});

test('R3.4/R3.5: prevKv on put and delete; tombstones in key order at one revision', async () => {
  const s = await fresh();
  assert.deepEqual(await s.put('a', '1', { prevKv: true }), { revision: 2 });
  const p = await s.put('a', '2', { prevKv: true });
  assert.equal(str(p.prevKv!.value), '1');
  await s.put('b', '1');
  await s.put('c', '1');
  const d = await s.deleteRange('a', { rangeEnd: 'c', prevKv: true });
  assert.equal(d.deleted, 2);
  assert.equal(d.revision, 6);
  assert.deepEqual(keys(d.prevKvs!), ['a', 'b']);
  assert.deepEqual(await s.deleteRange('x', { prevKv: true }), { deleted: 0, prevKvs: [], revision: 6 });
});

test('R4.1/R4.2/R4.3: compares on every target; VALUE on a missing key is always false', async () => {
  const s = await fresh();
  await s.put('a', 'm', { lease: 3 });
  const ok = async (key: string, target: 'version' | 'createRevision' | 'modRevision' | 'value' | 'lease', result: '==' | '!=' | '>' | '<', value: number | string): Promise<boolean> =>
    (await s.txn({ compare: [{ key, target, result, value }] })).succeeded;
  assert.equal(await ok('a', 'version', '==', 1), true);
  assert.equal(await ok('a', 'createRevision', '==', 2), true);
  assert.equal(await ok('a', 'modRevision', '>', 1), true);
  assert.equal(await ok('a', 'lease', '==', 3), true);
  assert.equal(await ok('a', 'value', '<', 'n'), true);
  assert.equal(await ok('a', 'value', '!=', 'm'), false);
  assert.equal(await ok('zz', 'value', '!=', 'x'), false, 'missing key: NOT_EQUAL on value is false');
  assert.equal(await ok('zz', 'value', '==', ''), false);
  assert.equal(await ok('zz', 'version', '==', 0), true);
  assert.equal(await ok('zz', 'createRevision', '==', 0), true);
  assert.equal(await ok('zz', 'lease', '==', 0), true);
  assert.equal((await s.txn({})).succeeded, true, 'no compares means true');
});

test('R4.4: a range compare needs every key to pass; an empty range is one missing key', async () => {
  const s = await fresh();
  await s.put('a1', 'x');
  await s.put('a2', 'y');
  const t = async (value: string, result: '==' | '!=' | '>' | '<' = '>'): Promise<boolean> =>
    (await s.txn({ compare: [{ key: 'a', rangeEnd: 'b', target: 'value', result, value }] })).succeeded;
  assert.equal(await t('a'), true);
  assert.equal(await t('x'), false);
  assert.equal((await s.txn({ compare: [{ key: 'b', rangeEnd: 'c', target: 'version', result: '==', value: 0 }] })).succeeded, true);
  assert.equal((await s.txn({ compare: [{ key: 'b', rangeEnd: 'c', target: 'value', result: '!=', value: 'q' }] })).succeeded, false);
});

test('R4.5/R4.6/R4.7/R4.8: branches, nested txns, reads see earlier ops, one revision, typed responses', async () => {
  const s = await fresh();
  await s.put('k', '0'); // 2
  const res = await s.txn({
    compare: [{ key: 'k', target: 'value', result: '==', value: '0' }],
    success: [
      { put: { key: 'k', value: '1', prevKv: true } },
      { range: { key: 'k' } },
      {
        txn: {
          // Evaluated on the state before the outer txn: k is still '0'.
          compare: [{ key: 'k', target: 'value', result: '==', value: '0' }],
          success: [{ put: { key: 'n', value: 'yes' } }],
          failure: [{ put: { key: 'n', value: 'no' } }],
        },
      },
      { deleteRange: { key: 'q' } },
    ],
  });
  assert.equal(res.succeeded, true);
  assert.equal(res.revision, 3);
  const [put, range, nested, del] = res.responses as [{ put: { revision: number; prevKv: KeyValue } }, { range: { kvs: KeyValue[]; revision: number } }, { txn: { succeeded: boolean; revision: number } }, { deleteRange: { deleted: number; revision: number } }];
  assert.equal(put.put.revision, 3);
  assert.equal(str(put.put.prevKv.value), '0');
  assert.equal(str(range.range.kvs[0]!.value), '1', 'range sees the earlier put');
  assert.equal(range.range.kvs[0]!.modRevision, 3);
  assert.equal(nested.txn.succeeded, true);
  assert.equal(nested.txn.revision, 0, 'R4.8: a nested txn header is empty in etcd');
  assert.equal(range.range.revision, 3, 'inner results carry the txn view revision');
  assert.equal(del.deleteRange.deleted, 0);
  assert.equal(del.deleteRange.revision, 3);
  const n = await s.range('n');
  assert.equal(str(n.kvs[0]!.value), 'yes');
  assert.equal(n.kvs[0]!.modRevision, 3);
  const f = await s.txn({ compare: [{ key: 'k', target: 'version', result: '>', value: 5 }], success: [{ put: { key: 'x', value: '1' } }], failure: [{ range: { key: 'k' } }] });
  assert.equal(f.succeeded, false);
  assert.equal(f.responses.length, 1);
  assert.ok('range' in f.responses[0]!);
});

test('R4.9: ErrTooManyOps uses the largest list, with a nested budget', async () => {
  const s = await openMVCCStore({ maxTxnOps: 4 });
  const puts = (n: number, p = 'k'): TxnOp[] => Array.from({ length: n }, (_, i) => ({ put: { key: `${p}${i}`, value: 'v' } }));
  assert.equal((await s.txn({ success: puts(4), failure: puts(4, 'f') })).succeeded, true, 'sum 8 > 4 is fine');
  await rejectsWith(s.txn({ success: puts(5) }), 'ErrTooManyOps');
  await rejectsWith(s.txn({ compare: Array.from({ length: 5 }, () => ({ key: 'a', target: 'version' as const, result: '==' as const, value: 0 })) }), 'ErrTooManyOps');
  // Parent largest list 2 ⇒ nested budget 2.
  await rejectsWith(s.txn({ success: [{ txn: { success: puts(3, 'n') } }, { put: { key: 'z', value: '' } }] }), 'ErrTooManyOps');
  assert.equal((await s.txn({ success: [{ txn: { success: puts(2, 'n') } }, { put: { key: 'z', value: '' } }] })).succeeded, true);
});

test('R4.9: ErrDuplicateKey rules (put/put, put inside delete, nested exclusivity, deletes may overlap)', async () => {
  const s = await fresh();
  await s.put('a', '1');
  const cur = s.currentRevision;
  await rejectsWith(s.txn({ success: [{ put: { key: 'a', value: '1' } }, { put: { key: 'a', value: '2' } }] }), 'ErrDuplicateKey');
  await rejectsWith(s.txn({ success: [{ deleteRange: { key: 'a', rangeEnd: 'c' } }, { put: { key: 'b', value: '2' } }] }), 'ErrDuplicateKey');
  await rejectsWith(s.txn({ success: [{ put: { key: 'b', value: '2' } }, { deleteRange: { key: 'b' } }] }), 'ErrDuplicateKey');
  await rejectsWith(s.txn({ success: [{ deleteRange: { key: 'a', prefix: true } }, { txn: { success: [{ put: { key: 'ab', value: '' } }] } }] }), 'ErrDuplicateKey');
  await rejectsWith(s.txn({ success: [{ put: { key: 'x', value: '' } }, { txn: { failure: [{ put: { key: 'x', value: '' } }] } }] }), 'ErrDuplicateKey');
  assert.equal(s.currentRevision, cur);
  // Allowed: overlapping deletes, then/else of one nested txn, ranges, and the failure branch is checked on its own.
  assert.equal((await s.txn({ success: [{ deleteRange: { key: 'a', rangeEnd: 'c' } }, { deleteRange: { key: 'a' } }] })).succeeded, true);
  await s.txn({ success: [{ txn: { success: [{ put: { key: 'y', value: '1' } }], failure: [{ put: { key: 'y', value: '2' } }] } }, { range: { key: 'y' } }] });
  await s.txn({ success: [{ put: { key: 'p', value: '1' } }], failure: [{ put: { key: 'p', value: '2' } }] });
  // etcd quirk: a fromKey delete's interval [key, "\0") is empty, so it conflicts with nothing.
  assert.equal((await s.txn({ success: [{ deleteRange: { key: 'a', fromKey: true } }, { put: { key: 'b', value: '1' } }] })).succeeded, true);
});

test('R4.9: state errors on the executed branch only; nothing applied', async () => {
  const s = await openMVCCStore({ leaseExists: () => false });
  await s.put('a', '1');
  const cur = s.currentRevision;
  await rejectsWith(s.txn({ success: [{ put: { key: 'b', value: '1' } }, { put: { key: 'c', value: '', ignoreValue: true } }] }), 'ErrKeyNotFound');
  await rejectsWith(s.txn({ success: [{ put: { key: 'b', value: '1', lease: 4 } }] }), 'ErrLeaseNotFound');
  await rejectsWith(s.txn({ success: [{ put: { key: 'b', value: '1' } }, { range: { key: 'a', revision: 99 } }] }), 'ErrFutureRev');
  assert.equal(s.currentRevision, cur);
  const r = await s.txn({ compare: [{ key: 'a', target: 'version', result: '==', value: 1 }], success: [], failure: [{ put: { key: 'c', value: '', ignoreValue: true } }] });
  assert.equal(r.succeeded, true, 'the failure branch is not checked when success runs');
  await s.compact(2);
  await rejectsWith(s.txn({ success: [{ range: { key: 'a', revision: 1 } }] }), 'ErrCompacted');
});

test('R5.1/R5.2: compact errors, compact(current) allowed, no new revision', async () => {
  const s = await fresh();
  assert.equal((await s.hashKV()).compactRevision, -1, 'etcd reports -1 before the first compaction');
  assert.equal(s.compactRevision, 0);
  await s.put('a', '1');
  await s.put('a', '2');
  await rejectsWith(s.compact(4), 'ErrFutureRev');
  assert.deepEqual(await s.compact(3), { revision: 3 });
  assert.equal(s.compactRevision, 3);
  assert.equal(s.currentRevision, 3);
  await rejectsWith(s.compact(3), 'ErrCompacted');
  await rejectsWith(s.compact(2), 'ErrCompacted');
});

test('R5.3/R5.4/R5.5: compaction keeps reads >= R intact; physical removes superseded records but keeps a tombstone at R', async () => {
  const s = await fresh();
  await s.put('a', '1'); // 2
  await s.put('a', '2'); // 3
  await s.put('b', '1'); // 4
  await s.deleteRange('b'); // 5
  await s.put('c', '1'); // 6
  const before = [];
  for (let r = 5; r <= 6; r++) before.push(await s.range('a', { rangeEnd: 'z', revision: r }));
  const size = await s.dbSize();
  await s.compact(5, { physical: true });
  assert.ok((await s.dbSize()) < size, 'R5.6: physical compaction reclaims backend space');
  for (let r = 5; r <= 6; r++) assert.deepEqual(await s.range('a', { rangeEnd: 'z', revision: r }), before[r - 5]);
  // The tombstone of b at exactly 5 survives: a watch from 5 still sees it.
  const w = s.watch('b', { startRevision: 5 });
  const first = await w.next();
  assert.deepEqual(first.value!.events.map((e) => [e.type, e.kv.modRevision]), [['delete', 5]]);
  w.cancel();
});

test('R9.9: hashKV equal for identical histories, independent of physical compaction; errors as for range', async () => {
  const a = await fresh();
  const b = await fresh();
  for (const s of [a, b]) {
    await s.put('a', '1');
    await s.put('a', '2');
    await s.put('b', '1');
    await s.deleteRange('a');
  }
  await a.compact(4, { physical: true });
  await b.compact(4);
  const ha = await a.hashKV();
  const hb = await b.hashKV();
  assert.deepEqual(ha, hb);
  assert.deepEqual([ha.compactRevision, ha.hashRevision], [4, 5]);
  assert.deepEqual(await a.hashKV(4), await b.hashKV(4));
  assert.notEqual((await a.hashKV(4)).hash, ha.hash);
  await rejectsWith(a.hashKV(3), 'ErrCompacted');
  await rejectsWith(a.hashKV(9), 'ErrFutureRev');
  await b.put('z', '1');
  assert.notEqual((await b.hashKV()).hash, ha.hash);
});

test('section 11: ErrRequestTooLarge for a write over 1.5 MiB; changes nothing', async () => {
  const s = await fresh();
  const big = new Uint8Array(1.5 * 1024 * 1024);
  await rejectsWith(s.put('a', big), 'ErrRequestTooLarge');
  await rejectsWith(s.txn({ success: [{ put: { key: 'a', value: big } }] }), 'ErrRequestTooLarge');
  assert.equal((await s.put('a', big.subarray(0, 1024 * 1024))).revision, 2);
  const small = await openMVCCStore({ maxRequestBytes: 100 });
  await rejectsWith(small.put('k', 'x'.repeat(100)), 'ErrRequestTooLarge');
  assert.equal(small.currentRevision, 1);
});

test('wrong types give ErrInvalidArgument', async () => {
  const s = await fresh();
  await rejectsWith(s.put('a', 5 as never), 'ErrInvalidArgument');
  await rejectsWith(s.put('a', 'v', { lease: 1.5 }), 'ErrInvalidArgument');
  await rejectsWith(s.range('a', { revision: 'x' as never }), 'ErrInvalidArgument');
  await rejectsWith(s.txn({ compare: [{ key: 'a', target: 'version', result: '==', value: 'x' }] }), 'ErrInvalidArgument');
  await rejectsWith(s.txn({ compare: [{ key: 'a', target: 'size' as never, result: '==', value: 1 }] }), 'ErrInvalidArgument');
  assert.equal(s.currentRevision, 1);
});

test('R7.4: revokeLease deletes attached keys at one revision in key order', async () => {
  const s = await fresh();
  await s.put('b', '1', { lease: 5 });
  await s.put('a', '1', { lease: 5 });
  await s.put('c', '1', { lease: 6 });
  assert.deepEqual(s.attachedLeases(), [5, 6]);
  const w = s.watch('a', { rangeEnd: 'z' });
  assert.deepEqual(await s.revokeLease(5), { deleted: 2, revision: 5 });
  const ev = await w.next();
  assert.deepEqual(ev.value!.events.map((e) => str(e.kv.key)), ['a', 'b']);
  assert.deepEqual(await s.revokeLease(5), { deleted: 0, revision: 5 });
  w.cancel();
});

test('R1.10: a LevelDB store reopens with revisions, compaction, leases and data intact; snapshot/restore round-trips', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'strata-mvcc-'));
  try {
    let s = await openMVCCStore({ path: dir });
    await s.put('a', '1', { lease: 3 });
    await s.put('b', '1');
    await s.deleteRange('b');
    await s.txn({ success: [{ put: { key: 'c', value: 'x' } }, { put: { key: 'd', value: 'y' } }] });
    await s.compact(4);
    const hash = await s.hashKV();
    const all = await s.range('a', { fromKey: true });
    await s.close();
    s = await openMVCCStore({ path: dir });
    assert.equal(s.currentRevision, 5);
    assert.equal(s.compactRevision, 4);
    assert.deepEqual(await s.range('a', { fromKey: true }), all);
    assert.deepEqual(await s.hashKV(), hash);
    assert.deepEqual(s.keysForLease(3).map(str), ['a']);
    assert.equal((await s.put('e', '1')).revision, 6);
    const snap = await s.snapshot();
    const m = await openMVCCStore();
    await m.restore(snap);
    assert.deepEqual(await m.hashKV(), await s.hashKV());
    assert.deepEqual(await m.range('a', { fromKey: true, revision: 4 }), await s.range('a', { fromKey: true, revision: 4 }));
    await rejectsWith(m.range('a', { revision: 3 }), 'ErrCompacted');
    await s.close();
    // A compaction to the current revision then reopen: the revision is not lost (R1.10).
    s = await openMVCCStore({ path: dir });
    await s.deleteRange('a', { fromKey: true });
    await s.compact(s.currentRevision, { physical: true });
    const h = await s.hashKV();
    await s.defragment(); // R9.8: no data or revision changes
    assert.deepEqual(await s.hashKV(), h);
    assert.equal(typeof (await s.dbSize()), 'number');
    const rev = s.currentRevision;
    await s.close();
    s = await openMVCCStore({ path: dir });
    assert.equal(s.currentRevision, rev);
    assert.equal((await s.range('a', { fromKey: true })).count, 0);
    await s.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('apply path: validateRequest + apply persist appliedIndex with the write', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'strata-mvcc-'));
  try {
    const { validateRequest } = await import('../src/mvcc/index.ts');
    assert.throws(() => validateRequest({ put: { key: '', value: '' } }), (e: unknown) => isStrataError(e, 'ErrEmptyKey'));
    let s = await openMVCCStore({ path: dir });
    const r = await s.apply({ put: { key: 'a', value: '1' } }, { appliedIndex: 7 });
    assert.deepEqual(r, { put: { revision: 2 } });
    await s.apply({ compact: { revision: 2 } }, { appliedIndex: 8 });
    await s.close();
    s = await openMVCCStore({ path: dir });
    assert.equal(s.appliedIndex, 8);
    await s.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('snapshot streams in chunks and restore accepts bytes, a promise or a chunk stream', async () => {
  const s = await fresh();
  for (let i = 0; i < 40; i++) await s.put(`k${i}`, new Uint8Array(64 * 1024).fill(i));
  await s.deleteRange('k1', { prefix: true });
  await s.compact(s.currentRevision - 1);
  const chunks: Uint8Array[] = [];
  for await (const c of s.snapshot()) chunks.push(c);
  assert.ok(chunks.length > 1, `expected several chunks, got ${chunks.length}`);
  const want = await s.hashKV();
  for (const input of [await s.snapshot(), s.snapshot(), chunks, (async function* () { yield* chunks; })()]) {
    const m = await fresh();
    await m.restore(input);
    assert.deepEqual(await m.hashKV(), want);
    assert.equal(m.currentRevision, s.currentRevision);
    assert.equal(m.compactRevision, s.compactRevision);
  }
  await assert.rejects(fresh().then((m) => m.restore(new Uint8Array([1, 2, 3]))), (e: unknown) => isStrataError(e, 'ErrCorrupt'));
});

test('a truncated or damaged snapshot is ErrCorrupt and changes nothing; format-1 snapshots still restore', async () => {
  const s = await fresh();
  await s.put('a', '1');
  await s.put('b', '2');
  await s.put('a', '3');
  await s.compact(3);
  const snap = await s.snapshot();
  const m = await fresh();
  await m.put('z', 'mine');
  const before = await m.hashKV();
  // Every proper prefix, and a trailing byte, are rejected before anything changes.
  for (let cut = 0; cut < snap.length; cut++) {
    await assert.rejects(m.restore(snap.subarray(0, cut)), (e: unknown) => isStrataError(e, 'ErrCorrupt'), `cut at ${cut}`);
  }
  const longer = new Uint8Array(snap.length + 1);
  longer.set(snap);
  await assert.rejects(m.restore(longer), (e: unknown) => isStrataError(e, 'ErrCorrupt'));
  const future = snap.slice();
  future[1] = 99;
  await assert.rejects(m.restore(future), (e: unknown) => isStrataError(e, 'ErrFormatVersion'));
  assert.deepEqual(await m.hashKV(), before);
  assert.equal(new TextDecoder().decode((await m.range('z')).kvs[0]?.value), 'mine');
  // Format 1 (the shared msgpack codec) as written before format 2.
  const recs: (number | Uint8Array)[] = [];
  const view = new DataView(snap.buffer, snap.byteOffset, snap.byteLength);
  for (let at = 22; at < snap.length; ) {
    const len = view.getUint32(at + 12, true);
    recs.push(view.getFloat64(at, true), view.getUint32(at + 8, true), snap.slice(at + 16, at + 16 + len));
    at += 16 + len;
  }
  const v1 = encode({ kind: 'strata-mvcc', currentRev: s.currentRevision, compactRev: s.compactRevision, records: recs });
  await m.restore(v1);
  assert.deepEqual(await m.hashKV(), await s.hashKV());
  assert.equal(m.compactRevision, 3);
});

test('R4.9/R5.4: a Txn that deletes from a key ("\\0" range end) and re-puts a key in it survives compaction at its revision', async () => {
  const s = await fresh();
  await s.put('b', 'old'); // 2
  const t = await s.txn({ success: [{ deleteRange: { key: 'a', fromKey: true } }, { put: { key: 'b', value: 'new' } }] }); // 3
  assert.equal(t.revision, 3);
  await s.compact(3, { physical: true });
  const kv = (await s.range('b')).kvs[0]!;
  assert.deepEqual([str(kv.value), kv.createRevision, kv.version], ['new', 3, 1]);
  const w = s.watch('b', { startRevision: 3 });
  const r = await w.next();
  assert.deepEqual(r.value!.events.map((e) => e.type), ['delete', 'put'], 'a watch from the compact revision sees the whole revision');
  w.cancel();
});

test('R1.3/R1.10: un-awaited writes apply in call order; group-committed LevelDB batches all survive close and reopen', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'strata-mvcc-'));
  try {
    let s = await openMVCCStore({ path: dir });
    const pending: Promise<{ revision: number }>[] = [];
    for (let i = 0; i < 500; i++) pending.push(s.put(`k${i % 50}`, `v${i}`));
    pending.push(s.txn({ success: [{ deleteRange: { key: 'k1', prefix: true } }] }));
    assert.equal(s.currentRevision, 502, 'state changes when the call is made');
    const revs = (await Promise.all(pending)).map((r) => r.revision);
    assert.deepEqual(revs, Array.from({ length: 501 }, (_, i) => i + 2));
    const want = await s.hashKV();
    const all = await s.range('k', { prefix: true });
    await s.close();
    s = await openMVCCStore({ path: dir });
    assert.deepEqual(await s.hashKV(), want);
    assert.deepEqual(await s.range('k', { prefix: true }), all);
    await s.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('record encoding: tombstones are recognised without decoding', async () => {
  const { encodePut, encodeTombstone, isTombstoneRecord, decodeRecord } = await import('../src/mvcc/record.ts');
  const key = new TextEncoder().encode('k');
  const put = encodePut({ key, value: new Uint8Array([1]), createRevision: 2, modRevision: 3, version: 2, lease: 7 });
  const tomb = encodeTombstone(key);
  assert.equal(isTombstoneRecord(put), false);
  assert.equal(isTombstoneRecord(tomb), true);
  assert.deepEqual(decodeRecord(put, 3), { tombstone: false, kv: { key, value: new Uint8Array([1]), createRevision: 2, modRevision: 3, version: 2, lease: 7 } });
  assert.deepEqual(decodeRecord(tomb, 4), { tombstone: true, key });
});
