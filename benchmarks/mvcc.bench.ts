// MVCC benchmarks (issue #3): put, txn and range throughput on the memory and classic-level
// backends, watch fan-out (1 writer, 1,000 watchers), next to raw classic-level batched puts of
// the same bytes in the same run. Target: an MVCC put costs at most 1.5× a raw batched put.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { openMVCCStore, type KVRequest, type MVCCStore } from '../src/mvcc/index.ts';
import { encodePut } from '../src/mvcc/record.ts';
import { revToBytes } from '../src/mvcc/revision.ts';
import { printTable, progress, writeResults, type Row } from './lib.ts';

const N = Number(process.env.MVCC_BENCH_N ?? 20000);
const VALUE = new Uint8Array(100).fill(0x61);
const key = (i: number): string => `key-${String(i % 10000).padStart(6, '0')}`;
const enc = new TextEncoder();

/** CPU time (all threads of the process, µs) of the last {@link time} call: robust on a busy machine. */
let lastCpuUs = 0;

function row(name: string, backend: string, ops: number, ms: number, extra: Row = {}): Row {
  return {
    benchmark: name,
    backend,
    ops,
    'ops/s': Math.round((ops / ms) * 1000),
    'µs/op': Number(((ms * 1000) / ops).toFixed(2)),
    'cpu µs/op': Number((lastCpuUs / ops).toFixed(2)),
    ...extra,
  };
}

async function time(fn: () => Promise<void>): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  lastCpuUs = c.user + c.system;
  return ms;
}

/** A raw classic-level database writing, per put, one awaited batch with the bytes an MVCC put writes. */
async function openRaw(dir: string): Promise<{ db: ClassicLevel<Uint8Array, Uint8Array>; put: (i: number) => Promise<void> }> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const prefix = new Uint8Array([0x72]);
  let rev = 1;
  return {
    db,
    put: async (i: number) => {
      rev++;
      const value = encodePut({ key: enc.encode(key(i)), value: VALUE, createRevision: rev, modRevision: rev, version: 1, lease: 0 });
      await db.batch([{ type: 'put', key: revToBytes(rev, 0, prefix), value }]);
    },
  };
}

/**
 * MVCC puts on classic-level against raw batched puts, interleaved in
 * blocks so that a busy machine slows both alike. Returns total ms and CPU µs of each.
 */
async function putVsRaw(dir: string): Promise<{ raw: number; rawCpu: number; mvcc: number; mvccCpu: number }> {
  const raw = await openRaw(path.join(dir, 'raw'));
  const s = await openMVCCStore({ path: path.join(dir, 'mvcc') });
  const block = 1000;
  const out = { raw: 0, rawCpu: 0, mvcc: 0, mvccCpu: 0 };
  for (let i = 0; i < 2000; i++) {
    await raw.put(i); // warm-up
    await s.put(key(i), VALUE);
  }
  for (let b = 0; b < N / block; b++) {
    out.raw += await time(async () => {
      for (let i = 0; i < block; i++) await raw.put(b * block + i);
    });
    out.rawCpu += lastCpuUs;
    out.mvcc += await time(async () => {
      for (let i = 0; i < block; i++) await s.put(key(b * block + i), VALUE);
    });
    out.mvccCpu += lastCpuUs;
  }
  await raw.db.close();
  await s.close();
  return out;
}

async function puts(s: MVCCStore): Promise<number> {
  return time(async () => {
    for (let i = 0; i < N; i++) await s.put(key(i), VALUE);
  });
}

/** Puts through applyBatch, 100 per batch (the replicated apply path: one backend write per batch). */
async function batchedPuts(s: MVCCStore): Promise<number> {
  return time(async () => {
    for (let b = 0; b < N / 100; b++) {
      const reqs: KVRequest[] = [];
      for (let i = 0; i < 100; i++) reqs.push({ put: { key: key(b * 100 + i), value: VALUE } });
      const out = await s.applyBatch(reqs, { appliedIndex: b + 1 });
      if (!out.every((o) => o.ok)) throw new Error('batched put failed');
    }
  });
}

async function txns(s: MVCCStore, n: number): Promise<number> {
  return time(async () => {
    for (let i = 0; i < n; i++) {
      await s.txn({
        compare: [{ key: key(i), target: 'version', result: '>', value: 0 }],
        success: [{ put: { key: key(i), value: VALUE } }, { put: { key: key(i + 1), value: VALUE } }],
        failure: [{ range: { key: key(i) } }],
      });
    }
  });
}

async function ranges(s: MVCCStore, n: number, width: number): Promise<number> {
  return time(async () => {
    for (let i = 0; i < n; i++) {
      if (width === 1) await s.range(key(i));
      else await s.range(key(i % (10000 - width)), { rangeEnd: key((i % (10000 - width)) + width) });
    }
  });
}

async function fanOut(s: MVCCStore, watchers: number, writes: number): Promise<{ ms: number; delivered: number }> {
  const ws = Array.from({ length: watchers }, () => s.watch('fan/', { prefix: true }));
  let delivered = 0;
  const consumers = ws.map(async (w) => {
    let n = 0;
    for await (const r of w) {
      n += r.events.length;
      if (n >= writes) break;
    }
    delivered += n;
  });
  const ms = await time(async () => {
    for (let i = 0; i < writes; i++) await s.put(`fan/${i % 10}`, VALUE);
    await Promise.all(consumers);
  });
  return { ms, delivered };
}

/** Run the MVCC benchmarks and print/write the results. */
export async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'strata-mvcc-bench-'));
  const rows: Row[] = [];
  try {
    progress(`put vs raw classic-level batched put (${N} each, interleaved)`);
    const pr = await putVsRaw(path.join(dir, 'cmp'));
    lastCpuUs = pr.rawCpu;
    rows.push(row('raw batched put (same bytes)', 'classic-level', N, pr.raw));
    lastCpuUs = pr.mvccCpu;
    rows.push(row('put (interleaved with raw)', 'classic-level', N, pr.mvcc, { 'vs raw': Number((pr.mvcc / pr.raw).toFixed(2)), 'cpu vs raw': Number((pr.mvccCpu / pr.rawCpu).toFixed(2)) }));
    for (const backend of ['memory', 'classic-level'] as const) {
      const s = await openMVCCStore(backend === 'memory' ? {} : { path: path.join(dir, 'mvcc') });
      progress(`${backend}: put`);
      // Warm-up (JIT) so the short default run measures steady state.
      for (let i = 0; i < N / 2; i++) await s.put(`warm/${i % 1000}`, VALUE);
      const p = await puts(s);
      rows.push(row('put', backend, N, p));
      progress(`${backend}: applyBatch of 100 puts`);
      rows.push(row('put via applyBatch (100 per batch)', backend, N, await batchedPuts(s)));
      progress(`${backend}: txn`);
      rows.push(row('txn (compare + 2 puts)', backend, N / 2, await txns(s, N / 2)));
      progress(`${backend}: range`);
      rows.push(row('range 1 key', backend, N, await ranges(s, N, 1)));
      rows.push(row('range 100 keys', backend, N / 10, await ranges(s, N / 10, 100)));
      progress(`${backend}: watch fan-out`);
      const f = await fanOut(s, 1000, 200);
      rows.push(row('watch fan-out 1 writer × 1000 watchers', backend, 200, f.ms, { 'events/s': Math.round((f.delivered / f.ms) * 1000) }));
      await s.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  printTable('MVCC store throughput', rows);
  writeResults('mvcc', rows, { n: N, valueBytes: VALUE.length });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
