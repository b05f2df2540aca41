// Storage benchmark (issue #4): LevelStorage append throughput with fsync on,
// for batch sizes 1/10/100/1000 (256-byte entries), and group commit under
// concurrent saves; each next to the raw classic-level floor (a batch put of
// the same bytes with sync: true) measured in the same run. Each case runs in
// ROUNDS short rounds alternating floor and LevelStorage (the disk is shared
// and noisy); rates are the median over rounds, latencies pooled.
//
// A last case saves a 30 MB compaction snapshot while 4 writers keep
// appending, and reports how long the entry saves issued meanwhile wait.
//
// Env: STORAGE_BENCH_SECONDS (per case and implementation, default 1.5),
//      STORAGE_BENCH_ROUNDS (default 3), STORAGE_BENCH_ONLY=snapshot (only
//      the snapshot case), STORAGE_BENCH_SNAPSHOT_MB (default 30),
//      STORAGE_BENCH_ONLY=cluster (only: a 3-member LocalCluster on
//      LevelStorage taking ~30 MB snapshots while 64 clients put; not part
//      of the default run).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { LevelStorage } from '../src/storage/level.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { LocalCluster } from '../src/server/local-cluster.ts';
import { encodeEntries, hardStateValue, HARD_STATE_KEY } from '../src/storage/level-records.ts';
import type { Entry } from '../src/raft/types.ts';
import { percentile, printTable, progress, writeResults } from './lib.ts';
import type { Row } from './lib.ts';

const PAYLOAD = 256;
const BATCH_SIZES = [1, 10, 100, 1000];
const CONCURRENCY = [1, 16, 256];
const SECONDS = Number(process.env.STORAGE_BENCH_SECONDS ?? 1.5);
const ROUNDS = Number(process.env.STORAGE_BENCH_ROUNDS ?? 3);
const ROUND_MS = (SECONDS * 1000) / ROUNDS;

type Op = { type: 'put'; key: Buffer; value: Buffer };
type Db = ClassicLevel<Buffer, Buffer>;

const payload = new Uint8Array(PAYLOAD).map((_, i) => (i * 7) & 0xff);
function batch(from: number, n: number): Entry[] {
  const out: Entry[] = new Array<Entry>(n);
  for (let i = 0; i < n; i++) out[i] = { index: from + i, term: 1, type: 0, data: payload };
  return out;
}

/** The bytes LevelStorage writes for a save of `entries` + a hard state, as raw batch ops. */
function rawOps(entries: Entry[], commit: number): Op[] {
  const { keys, values } = encodeEntries(entries);
  const ops: Op[] = keys.map((key, i) => ({ type: 'put', key, value: values[i] as Buffer }));
  ops.push({ type: 'put', key: HARD_STATE_KEY, value: hardStateValue({ term: 1, vote: 1, commit }) });
  return ops;
}

/** Write `ops` as one chained batch (what LevelStorage does). */
function writeChained(db: Db, ops: readonly Op[], sync: boolean): Promise<void> {
  const b = db.batch();
  for (const op of ops) b.put(op.key, op.value);
  return b.write({ sync });
}

/**
 * CPU cost per entry without fsync (sync: false): LevelStorage (encode +
 * checksum + chained batch) next to raw chained and raw array batches of
 * pre-encoded bytes. Shows what the save path costs on top of LevelDB.
 */
async function cpuCost(size: number): Promise<Row[]> {
  const n = Math.max(20, Math.round(20_000 / size));
  const rows: Row[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-cpu-'));
  try {
    const db: Db = new ClassicLevel<Buffer, Buffer>(join(dir, 'raw'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    let next = 1;
    const pre = (): Op[][] => Array.from({ length: n }, () => {
      const ops = rawOps(batch(next, size), next - 1);
      next += size;
      return ops;
    });
    for (const [impl, fn] of [
      ['raw chained batch', (ops: Op[]) => writeChained(db, ops, false)],
      ['raw db.batch(array)', (ops: Op[]) => db.batch(ops, { sync: false })],
    ] as const) {
      const all = pre();
      const t0 = performance.now();
      for (const ops of all) await fn(ops);
      const us = ((performance.now() - t0) * 1000) / (n * size);
      rows.push({ impl, batch: size, 'us/entry': us, 'entries/s': Math.round(1e6 / us) });
    }
    await db.close();
    const s = await LevelStorage.open(join(dir, 'level'), { sync: false });
    let idx = 1;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      await s.save({ entries: batch(idx, size), hardState: { term: 1, vote: 1, commit: idx - 1 } });
      idx += size;
    }
    const us = ((performance.now() - t0) * 1000) / (n * size);
    rows.push({ impl: 'LevelStorage (encode+crc+write)', batch: size, 'us/entry': us, 'entries/s': Math.round(1e6 / us) });
    await s.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

/** One measured round. */
interface Round {
  secs: number;
  saves: number;
  syncs: number;
  entries: number;
  lat: number[];
}

/** A subject under test: LevelStorage or the raw floor, kept open across rounds. */
interface Subject {
  appendRound(size: number): Promise<Round>;
  concurrentRound(workers: number): Promise<Round>;
  close(): Promise<void>;
}

async function levelSubject(dir: string): Promise<Subject> {
  const s = await LevelStorage.open(dir);
  let next = 1;
  const stats = (): [number, number, number] => [s.stats.saves, s.stats.syncs, s.stats.entriesSaved];
  const finish = (t0: number, before: [number, number, number], lat: number[]): Round => {
    const [saves, syncs, entries] = stats();
    return { secs: (performance.now() - t0) / 1000, saves: saves - before[0], syncs: syncs - before[1], entries: entries - before[2], lat };
  };
  return {
    async appendRound(size) {
      const before = stats();
      const lat: number[] = [];
      const t0 = performance.now();
      const end = t0 + ROUND_MS;
      let busy = 0;
      while (performance.now() < end) {
        const entries = batch(next, size);
        const a = performance.now();
        await s.save({ entries, hardState: { term: 1, vote: 1, commit: next - 1 } });
        const ms = performance.now() - a;
        busy += ms;
        lat.push(ms);
        next += size;
      }
      // As for the floor, count only time spent inside save() (encoding included).
      return { ...finish(t0, before, lat), secs: busy / 1000 };
    },
    async concurrentRound(workers) {
      const before = stats();
      const lat: number[] = [];
      const t0 = performance.now();
      const end = t0 + ROUND_MS;
      const worker = async (): Promise<void> => {
        while (performance.now() < end) {
          const i = next++;
          const a = performance.now();
          await s.save({ entries: batch(i, 1), hardState: { term: 1, vote: 1, commit: i - 1 } });
          lat.push(performance.now() - a);
        }
      };
      await Promise.all(Array.from({ length: workers }, worker));
      return finish(t0, before, lat);
    },
    close: () => s.close(),
  };
}

/**
 * The floor: the same bytes (fresh entry keys + hard state) written by
 * classic-level batch puts with sync: true, encoded outside the timed region
 * (only time inside the write counts), as a chained batch — the cheapest
 * way to write with classic-level (see the CPU table). Concurrent writers each issue their own
 * synced batch; LevelDB may merge concurrent writers internally.
 */
async function rawSubject(dir: string): Promise<Subject> {
  const db: Db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  let next = 1;
  return {
    async appendRound(size) {
      const lat: number[] = [];
      let busy = 0;
      let writes = 0;
      const end = performance.now() + ROUND_MS;
      while (performance.now() < end) {
        const ops = rawOps(batch(next, size), next - 1);
        next += size;
        const a = performance.now();
        await writeChained(db, ops, true);
        const ms = performance.now() - a;
        busy += ms;
        lat.push(ms);
        writes++;
      }
      return { secs: busy / 1000, saves: writes, syncs: writes, entries: writes * size, lat };
    },
    async concurrentRound(workers) {
      const lat: number[] = [];
      let writes = 0;
      const t0 = performance.now();
      const end = t0 + ROUND_MS;
      const worker = async (): Promise<void> => {
        while (performance.now() < end) {
          const i = next++;
          const ops = rawOps(batch(i, 1), i - 1);
          const a = performance.now();
          await writeChained(db, ops, true);
          lat.push(performance.now() - a);
          writes++;
        }
      };
      await Promise.all(Array.from({ length: workers }, worker));
      return { secs: (performance.now() - t0) / 1000, saves: writes, syncs: writes, entries: writes, lat };
    },
    close: () => db.close(),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor((s.length - 1) / 2)] as number);
}

function summarize(rounds: Round[]): { entriesPerSec: number; savesPerSec: number; syncsPerSec: number; saves: number; syncs: number; lat: number[] } {
  return {
    entriesPerSec: Math.round(median(rounds.map((r) => r.entries / r.secs))),
    savesPerSec: Math.round(median(rounds.map((r) => r.saves / r.secs))),
    syncsPerSec: Math.round(median(rounds.map((r) => r.syncs / r.secs))),
    saves: rounds.reduce((a, r) => a + r.saves, 0),
    syncs: rounds.reduce((a, r) => a + r.syncs, 0),
    lat: rounds.flatMap((r) => r.lat),
  };
}

/** Run `fn(subject)` ROUNDS times on both subjects, alternating. */
async function compare(
  label: string, fn: (s: Subject) => Promise<Round>,
): Promise<{ raw: Round[]; level: Round[] }> {
  const rawDir = await mkdtemp(join(tmpdir(), 'strata-bench-raw-'));
  const levelDir = await mkdtemp(join(tmpdir(), 'strata-bench-level-'));
  const raw = await rawSubject(rawDir);
  const level = await levelSubject(levelDir);
  const out = { raw: [] as Round[], level: [] as Round[] };
  try {
    // One discarded round each: JIT warm-up and LevelDB's first log/memtable work.
    await fn(raw);
    await fn(level);
    for (let r = 0; r < ROUNDS; r++) {
      progress(`storage: ${label} round ${r + 1}/${ROUNDS}`);
      out.raw.push(await fn(raw));
      out.level.push(await fn(level));
    }
  } finally {
    await raw.close();
    await level.close();
    await rm(rawDir, { recursive: true, force: true });
    await rm(levelDir, { recursive: true, force: true });
  }
  return out;
}

/** MemoryStorage save cost (what the simulator pays per save). */
async function memoryAppend(size: number): Promise<Row> {
  const s = new MemoryStorage();
  let next = 1;
  const t0 = performance.now();
  const end = t0 + 300;
  while (performance.now() < end) {
    await s.save({ entries: batch(next, size), hardState: { term: 1, vote: 1, commit: next - 1 } });
    next += size;
  }
  const secs = (performance.now() - t0) / 1000;
  return { impl: 'MemoryStorage', batch: size, 'saves/s': Math.round(s.stats.saves / secs), 'entries/s': Math.round(s.stats.entriesSaved / secs) };
}

const SNAPSHOT_MB = Number(process.env.STORAGE_BENCH_SNAPSHOT_MB ?? 30);
const SNAPSHOT_WRITERS = 4;

/**
 * One round: SNAPSHOT_WRITERS writers append 10-entry saves back to back;
 * after a warm-up a SNAPSHOT_MB compaction snapshot (index = last issued
 * entry, same term: what a member saves when it snapshots its own applied
 * state) is saved. Entry-save latencies are split into those issued before
 * the snapshot and those issued while it was being saved.
 */
async function snapshotRound(): Promise<{ snapMs: number; before: number[]; during: number[]; doneDuring: number; loopMaxMs: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-snap-'));
  const s = await LevelStorage.open(dir);
  const data = new Uint8Array(SNAPSHOT_MB * 1e6).map((_, i) => (i * 31 + (i >>> 11)) & 0xff);
  const conf = { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  let next = 1;
  let stop = false;
  let snapStart = Infinity;
  let snapEnd = Infinity;
  const before: number[] = [];
  const during: number[] = [];
  let doneDuring = 0;
  const worker = async (): Promise<void> => {
    while (!stop) {
      const lo = next;
      next += 10;
      const a = performance.now();
      await s.save({ entries: batch(lo, 10), hardState: { term: 1, vote: 1, commit: lo - 1 } });
      const ms = performance.now() - a;
      if (a < snapStart) before.push(ms);
      else if (a < snapEnd) during.push(ms);
      if (a >= snapStart && a + ms < snapEnd) doneDuring++;
    }
  };
  const workers = Array.from({ length: SNAPSHOT_WRITERS }, worker);
  await new Promise((r) => setTimeout(r, 400));
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  snapStart = performance.now();
  await s.save({ snapshot: { metadata: { index: next - 1, term: 1, confState: conf }, data } });
  snapEnd = performance.now();
  loop.disable();
  await new Promise((r) => setTimeout(r, 100));
  stop = true;
  await Promise.all(workers);
  await s.close();
  await rm(dir, { recursive: true, force: true });
  return { snapMs: snapEnd - snapStart, before, during, doneDuring, loopMaxMs: loop.max / 1e6 };
}

async function snapshotCase(): Promise<Row[]> {
  const rows: Row[] = [];
  await snapshotRound(); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    progress(`storage: ${SNAPSHOT_MB} MB snapshot while appending, round ${r + 1}/${ROUNDS}`);
    const m = await snapshotRound();
    rows.push({
      round: r + 1, 'snapshot save ms': m.snapMs, 'entry saves issued during': m.during.length, 'done before snapshot': m.doneDuring,
      'during p50 ms': percentile(m.during, 50), 'during p99 ms': percentile(m.during, 99), 'during max ms': Math.max(0, ...m.during),
      'before p99 ms': percentile(m.before, 99), 'event loop max ms': m.loopMaxMs,
    });
  }
  return rows;
}

/**
 * The symptom end to end: a 3-member in-process LocalCluster on LevelStorage
 * (fsync), 64 clients putting 256-byte values over 100,000 keys,
 * snapshotCount 700 entries (proposals are batched, so that is a snapshot of
 * the whole keyspace, ~30 MB, about every 50,000 puts). Put latency
 * percentiles and the number of puts slower than 300 ms.
 */
async function clusterCase(): Promise<Row[]> {
  const rows: Row[] = [];
  const vals = Array.from({ length: 1024 }, () => randomBytes(192).toString('base64'));
  for (let r = 0; r < ROUNDS; r++) {
    progress(`storage: cluster with snapshots, round ${r + 1}/${ROUNDS}`);
    const dir = await mkdtemp(join(tmpdir(), 'strata-bench-cluster-'));
    const c = await LocalCluster.start({ size: 3, dataDir: dir, nodeOptions: { snapshotCount: 700 } });
    try {
      const leader = await c.waitForLeader();
      const lat: number[] = [];
      let n = 0;
      const total = 100_000;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 64 }, async () => {
        while (n < total) {
          const i = n++;
          const a = performance.now();
          await leader.put(`/k/${i % 100_000}`, vals[i % vals.length] as string);
          lat.push(performance.now() - a);
        }
      }));
      rows.push({
        round: r + 1, 'puts/s': Math.round(total / ((performance.now() - t0) / 1000)),
        'p50 ms': percentile(lat, 50), 'p99 ms': percentile(lat, 99), 'p99.9 ms': percentile(lat, 99.9),
        'max ms': Math.max(...lat), 'puts > 300 ms': lat.filter((x) => x > 300).length,
      });
    } finally {
      await c.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

/** Run the storage benchmarks; prints tables and writes benchmarks/results/storage.json. */
export async function main(): Promise<void> {
  if (process.env.STORAGE_BENCH_ONLY === 'cluster') {
    const rows = await clusterCase();
    printTable('3-member LocalCluster on LevelStorage, 64 clients, 256 B puts, ~30 MB snapshots (snapshotCount 700)', rows);
    const file = writeResults('storage-cluster', rows, { rounds: ROUNDS });
    process.stdout.write(`\nresults: ${file}\n`);
    return;
  }
  if (process.env.STORAGE_BENCH_ONLY === 'snapshot') {
    const rows = await snapshotCase();
    printTable(`${SNAPSHOT_MB} MB compaction snapshot saved while ${SNAPSHOT_WRITERS} writers append 10 x ${PAYLOAD} B entries per save`, rows);
    const file = writeResults('storage-snapshot', rows, { snapshotMB: SNAPSHOT_MB, writers: SNAPSHOT_WRITERS, rounds: ROUNDS });
    process.stdout.write(`\nresults: ${file}\n`);
    return;
  }
  const append: Row[] = [];
  for (const size of BATCH_SIZES) {
    const { raw, level } = await compare(`append batch=${size}`, (s) => s.appendRound(size));
    for (const [impl, rounds] of [['raw classic-level', raw], ['LevelStorage', level]] as const) {
      const m = summarize(rounds);
      append.push({
        impl, batch: size, saves: m.saves, 'entries/s': m.entriesPerSec, 'syncs/s': m.syncsPerSec,
        'MB/s': (m.entriesPerSec * PAYLOAD) / 1e6, 'p50 ms': percentile(m.lat, 50), 'p99 ms': percentile(m.lat, 99),
      });
    }
  }
  printTable(`LevelStorage append, ${PAYLOAD} B entries + hard state per save, sync on, next to the raw classic-level floor`, append);

  const concurrent: Row[] = [];
  for (const c of CONCURRENCY) {
    const { raw, level } = await compare(`concurrent saves c=${c}`, (s) => s.concurrentRound(c));
    for (const [impl, rounds] of [['raw classic-level', raw], ['LevelStorage', level]] as const) {
      const m = summarize(rounds);
      concurrent.push({
        impl, concurrency: c, 'saves/s': m.savesPerSec, 'syncs/s': m.syncsPerSec, 'saves/sync': m.saves / Math.max(1, m.syncs),
        'p50 ms': percentile(m.lat, 50), 'p99 ms': percentile(m.lat, 99),
      });
    }
  }
  printTable('Concurrent single-entry saves, sync on: group commit (saves per sync)', concurrent);

  const cpu: Row[] = [];
  for (const size of [1, 100, 1000]) {
    progress(`storage: cpu cost batch=${size}`);
    cpu.push(...(await cpuCost(size)));
  }
  printTable('CPU cost per entry, sync off (no fsync): the save path vs raw classic-level', cpu);

  const memory: Row[] = [];
  for (const size of [1, 100]) memory.push(await memoryAppend(size));
  printTable('MemoryStorage save cost (no I/O)', memory);

  const snapshot = await snapshotCase();
  printTable(`${SNAPSHOT_MB} MB compaction snapshot saved while ${SNAPSHOT_WRITERS} writers append 10 x ${PAYLOAD} B entries per save`, snapshot);

  const file = writeResults('storage', [...append, ...concurrent, ...cpu, ...memory, ...snapshot], { payloadBytes: PAYLOAD, secondsPerCase: SECONDS, rounds: ROUNDS });
  process.stdout.write(`\nresults: ${file}\n`);
}
