// A 3-member in-process cluster (LocalCluster) on LevelStorage with fsync:
// put throughput and latency at concurrency 1 / 16 / 256, and linearizable
// vs serializable get throughput. `npm run bench -- cluster`.
// Env: BENCH_SECONDS (per measurement, default 4), BENCH_MEMORY=1 (memory storage).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../src/server/local-cluster.ts';
import type { StrataNode } from '../src/server/strata-node.ts';
import { percentile, printTable, progress, writeResults, type Row } from './lib.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

/** What one {@link drive} measured: ops done, each op's latency (ms), elapsed seconds, CPU µs per op. */
interface Driven {
  ops: number;
  lat: number[];
  secs: number;
  cpuUs: number;
}

/**
 * Closed-loop driver: `conc` callers, each issuing its next op when the last
 * one finished. Also reports process CPU time (main thread + LevelDB's I/O
 * threads, user + system) per op: on a shared machine it varies less than
 * throughput does.
 */
async function drive(conc: number, seconds: number, op: (i: number) => Promise<unknown>): Promise<Driven> {
  const lat: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (performance.now() < end) {
        const i = next++;
        const s = performance.now();
        await op(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { ops: lat.length, lat, secs: (performance.now() - t0) / 1000, cpuUs: (cpu.user + cpu.system) / Math.max(1, lat.length) };
}

/** One table row from a {@link drive} result. */
function toRow(workload: string, storage: string, concurrency: number, r: Driven): Row {
  return {
    workload,
    storage,
    concurrency,
    'ops/s': Math.round(r.ops / r.secs),
    'p50 ms': Number(percentile(r.lat, 50).toFixed(2)),
    'p99 ms': Number(percentile(r.lat, 99).toFixed(2)),
    'CPU µs/op': Math.round(r.cpuUs),
  };
}

export async function main(): Promise<void> {
  const memory = process.env.BENCH_MEMORY === '1';
  const storage = memory ? 'memory' : 'LevelStorage fsync';
  const dir = memory ? undefined : mkdtempSync(join(tmpdir(), 'strata-bench-'));
  const cluster = await LocalCluster.start({ size: 3, ...(dir !== undefined ? { dataDir: dir, fsync: true } : {}) });
  const rows: Row[] = [];
  try {
    const leader: StrataNode = await cluster.waitForLeader();
    const value = 'v'.repeat(256);
    // Warm up (JIT, LevelDB files).
    await drive(16, 1, (i) => leader.put(`/warm/${i % 100}`, value));
    for (const conc of [1, 16, 256]) {
      progress(`cluster: puts at concurrency ${conc}`);
      rows.push(toRow('put (256 B value)', storage, conc, await drive(conc, SECONDS, (i) => leader.put(`/bench/${i % 10_000}`, value))));
    }
    // Clients spread over every member (as etcd's client balances across endpoints):
    // two thirds of the writes are forwarded by followers.
    const members = cluster.nodes;
    for (const conc of [16, 256]) {
      progress(`cluster: puts spread over all members at concurrency ${conc}`);
      const r = await drive(conc, SECONDS, (i) => (members[i % members.length] as StrataNode).put(`/bench/${i % 10_000}`, value));
      rows.push(toRow('put (256 B), all members', storage, conc, r));
    }
    const follower = cluster.nodes.find((n) => n !== leader) as StrataNode;
    for (const [label, node, serializable] of [
      ['get linearizable (leader)', leader, false],
      ['get linearizable (follower)', follower, false],
      ['get serializable (follower)', follower, true],
    ] as const) {
      progress(`cluster: ${label}`);
      rows.push(toRow(label, storage, 256, await drive(256, SECONDS / 2, (i) => node.get(`/bench/${i % 10_000}`, { serializable }))));
    }
  } finally {
    await cluster.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
  printTable('3-member LocalCluster (in-process MemoryNetwork)', rows);
  writeResults('cluster', rows, { secondsPerMeasurement: SECONDS, etcdReference: { putsPerSec: { c1: 300, c16: 1700, c256: 3700 } } });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
