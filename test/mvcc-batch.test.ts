// MVCCStore.applyBatch: a list of requests applied as ONE backend batch,
// equivalent to applying them one by one (issue #3, replicated apply path).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MemoryBackend, MVCCStore, openMVCCStore, type BackendWrite, type KVOutcome, type KVRequest, type TxnOp, type WatchResponse, type Watcher } from '../src/mvcc/index.ts';
import { isStrataError } from '../src/errors.ts';
import { SeededRandom } from '../src/util/rng.ts';

/** A memory backend counting write() calls that carry records or the applied index (not background compaction). */
class CountingBackend extends MemoryBackend {
  writes = 0;
  override writeSync(w: BackendWrite): void {
    if (w.records !== undefined || w.meta?.some(([name]) => name === 'appliedIndex') === true) this.writes++;
    super.writeSync(w);
  }
}

const LIVE_LEASES = new Set([7, 8]);

async function open(): Promise<{ store: MVCCStore; backend: CountingBackend }> {
  const backend = new CountingBackend();
  const store = new MVCCStore(backend, { leaseExists: (id) => LIVE_LEASES.has(id), cacheEntries: 0 });
  await store.init();
  return { store, backend };
}

const KEYS = ['a', 'b', 'c', 'd', 'e'];

function genOp(rng: SeededRandom, rev: number): KVRequest {
  const k = (): string => KEYS[rng.int(KEYS.length)]!;
  const lease = (): number => [0, 0, 7, 8, 9][rng.int(5)]!;
  const txnOp = (): TxnOp => {
    const r = rng.int(3);
    if (r === 0) return { put: { key: k(), value: `v${rng.int(100)}`, lease: lease() } };
    if (r === 1) return { deleteRange: { key: k(), prevKv: rng.chance(0.5) } };
    return { range: { key: 'a', rangeEnd: 'z', revision: rng.int(rev + 2) } };
  };
  switch (rng.int(9)) {
    case 0:
    case 1:
      return { put: { key: k(), value: `v${rng.int(100)}`, lease: lease(), prevKv: rng.chance(0.5) } };
    case 2:
      // ignoreValue/ignoreLease on a possibly missing key: ErrKeyNotFound per item.
      return { put: { key: k(), value: '', ignoreValue: true, ignoreLease: rng.chance(0.5) } };
    case 3:
      return { deleteRange: { key: k(), rangeEnd: rng.chance(0.5) ? k() : undefined, prevKv: rng.chance(0.5) } };
    case 4:
      return { range: { key: 'a', rangeEnd: 'z', revision: rng.int(rev + 3) } };
    case 5:
      return {
        txn: {
          compare: [{ key: k(), target: 'version', result: rng.chance(0.5) ? '>' : '==', value: rng.int(3) }],
          success: [txnOp(), txnOp()],
          failure: [txnOp()],
        },
      };
    case 6:
      return { compact: { revision: rng.int(rev + 2) } };
    case 7:
      return { revokeLease: { id: rng.chance(0.5) ? 7 : 8 } };
    default:
      // Invalid input: an error for this item only.
      return rng.chance(0.5) ? { put: { key: '', value: 'x' } } : { range: { key: 'a', limit: -1 } };
  }
}

/** Outcomes comparable with deepEqual: errors become their codes. */
function norm(o: KVOutcome): unknown {
  if (o.ok) return { ok: o.value };
  return { err: isStrataError(o.error) ? o.error.code : o.error.message };
}

/** Collect a watcher's responses in the background until it ends. */
function collect(w: Watcher): Promise<WatchResponse[]> {
  return (async () => {
    const out: WatchResponse[] = [];
    for await (const r of w) out.push(r);
    return out;
  })();
}

test('issue #3: applyBatch equals sequential apply (responses, errors, revisions, hashKV, watch events) with one backend write per batch', async (t) => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`seed=${seed}`);
  for (let round = 0; round < 8; round++) {
    const rng = new SeededRandom(seed + round);
    const a = await open();
    const b = await open();
    const wa = [collect(a.store.watch('a', { rangeEnd: 'z', prevKv: true })), collect(a.store.watch('c', { prevKv: true, filters: ['nodelete'] }))];
    const wb = [collect(b.store.watch('a', { rangeEnd: 'z', prevKv: true })), collect(b.store.watch('c', { prevKv: true, filters: ['nodelete'] }))];
    let index = 0;
    for (let batchNo = 0; batchNo < 25; batchNo++) {
      const reqs: KVRequest[] = [];
      const n = 1 + rng.int(12);
      for (let i = 0; i < n; i++) reqs.push(genOp(rng, a.store.currentRevision + reqs.length));
      index++;
      const seq: KVOutcome[] = [];
      for (const r of reqs) {
        try {
          seq.push({ ok: true, value: await a.store.apply(r, { appliedIndex: index }) });
        } catch (err) {
          seq.push({ ok: false, error: err as Error });
        }
      }
      const before = b.backend.writes;
      const bat = await b.store.applyBatch(reqs, { appliedIndex: index });
      assert.equal(b.backend.writes - before, 1, 'one backend write per batch');
      assert.deepEqual(bat.map(norm), seq.map(norm), `batch ${batchNo}: ${JSON.stringify(reqs)}`);
      assert.equal(b.store.currentRevision, a.store.currentRevision);
      assert.equal(b.store.compactRevision, a.store.compactRevision);
      assert.equal(b.store.appliedIndex, index);
      assert.deepEqual(await b.store.hashKV(), await a.store.hashKV());
    }
    assert.equal(await b.store.hash(), await a.store.hash());
    assert.deepEqual(b.store.attachedLeases(), a.store.attachedLeases());
    await a.store.close();
    await b.store.close();
    const [ra, rb] = [await Promise.all(wa), await Promise.all(wb)];
    assert.ok(ra[0]!.length > 0, 'the watcher saw events');
    assert.deepEqual(rb, ra);
  }
});

test('issue #3: applyBatch item errors change nothing and do not affect the other items', async () => {
  const { store } = await open();
  const out = await store.applyBatch([
    { put: { key: 'k', value: '1' } },
    { put: { key: 'x', value: '', ignoreValue: true } }, // ErrKeyNotFound
    { put: { key: 'k', value: '2', lease: 99 } }, // ErrLeaseNotFound
    { range: { key: 'k', revision: 50 } }, // ErrFutureRev
    { compact: { revision: 2 } },
    { range: { key: 'k', revision: 1 } }, // ErrCompacted
    { compact: { revision: 2 } }, // ErrCompacted
    { put: { key: 'k', value: '3' } },
  ]);
  const codes = out.map((o) => (o.ok ? 'ok' : isStrataError(o.error) ? o.error.code : 'other'));
  assert.deepEqual(codes, ['ok', 'ErrKeyNotFound', 'ErrLeaseNotFound', 'ErrFutureRev', 'ok', 'ErrCompacted', 'ErrCompacted', 'ok']);
  assert.deepEqual(out[0], { ok: true, value: { put: { revision: 2 } } });
  assert.deepEqual(out[7], { ok: true, value: { put: { revision: 3 } } });
  const r = await store.range('k');
  assert.equal(new TextDecoder().decode(r.kvs[0]!.value), '3');
  assert.equal(r.kvs[0]!.version, 2);
  await assert.rejects(store.apply({ put: { key: 'x', value: '', ignoreValue: true } }), (e: unknown) => isStrataError(e) && e.code === 'ErrKeyNotFound');
  await store.close();
});

test('issue #3: applyBatch on classic-level survives a reopen with its applied index', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'strata-mvcc-batch-'));
  try {
    const s = await openMVCCStore({ path: dir });
    const reqs: KVRequest[] = [];
    for (let i = 0; i < 50; i++) reqs.push({ put: { key: `k${i % 7}`, value: `v${i}` } });
    reqs.push({ deleteRange: { key: 'k3' } }, { compact: { revision: 20, physical: true } });
    const out = await s.applyBatch(reqs, { appliedIndex: 42 });
    assert.ok(out.every((o) => o.ok));
    const h = await s.hashKV();
    await s.close();
    const s2 = await openMVCCStore({ path: dir });
    assert.equal(s2.appliedIndex, 42);
    assert.equal(s2.currentRevision, 52);
    assert.equal(s2.compactRevision, 20);
    assert.deepEqual(await s2.hashKV(), h);
    await s2.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
