// MVCC benchmarks (issue #3): put, txn and range throughput on the memory and classic-level
// backends, watch fan-out (1 writer, 1,000 watchers), next to raw classic-level batched puts of
// the same bytes in the same run. Target: an MVCC put costs at most 1.5× a raw batched put.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { openMVCCStore, type MVCCStore } from '../src/mvcc/index.ts';
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

/** Raw classic-level: one awaited batch per put, with the bytes an MVCC put writes. */
async function rawLevel(dir: string): Promise<number> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const prefix = new Uint8Array([0x72]);
  const ms = await time(async () => {
    for (let i = 0; i < N; i++) {
      const rev = i + 2;
      const value = encodePut({ key: enc.encode(key(i)), value: VALUE, createRevision: rev, modRevision: rev, version: 1, lease: 0 });
      await db.batch([{ type: 'put', key: revToBytes(rev, 0, prefix), value }]);
    }
  });
  await db.close();
  return ms;
}

async function puts(s: MVCCStore): Promise<number> {
  return time(async () => {
    for (let i = 0; i < N; i++) await s.put(key(i), VALUE);
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
    // Raw puts run before and after the MVCC puts (the machine may be busy); the ratio uses their mean.
    progress(`raw classic-level batched puts (${N})`);
    await rawLevel(path.join(dir, 'warmup')); // JIT and LevelDB warm-up
    const rawBefore = await rawLevel(path.join(dir, 'raw1'));
    const rawBeforeCpu = lastCpuUs;
    rows.push(row('raw batched put (before)', 'classic-level', N, rawBefore));
    for (const backend of ['memory', 'classic-level'] as const) {
      const s = await openMVCCStore(backend === 'memory' ? {} : { path: path.join(dir, 'mvcc') });
      progress(`${backend}: put`);
      const p = await puts(s);
      const putCpu = lastCpuUs;
      if (backend === 'classic-level') {
        const rawAfter = await rawLevel(path.join(dir, 'raw2'));
        const rawAfterCpu = lastCpuUs;
        rows.push(row('raw batched put (after)', 'classic-level', N, rawAfter));
        lastCpuUs = putCpu;
        rows.push(
          row('put', backend, N, p, {
            'vs raw': Number((p / ((rawBefore + rawAfter) / 2)).toFixed(2)),
            'cpu vs raw': Number((putCpu / ((rawBeforeCpu + rawAfterCpu) / 2)).toFixed(2)),
          }),
        );
      } else rows.push(row('put', backend, N, p));
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
