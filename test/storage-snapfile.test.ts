// LevelStorage snapshot files (format version 2): snapshot data lives in a
// file under <dataDir>/snap/, its metadata (size, CRC-32C, file name) in
// LevelDB. Round trips, corruption of the file, orphan removal, the legacy
// chunk layout (format version 1), ordering (compaction snapshots do not hold
// up later saves; installed snapshots do), a randomised call-order check
// against MemoryStorage, and SIGKILL while snapshot files are being written.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCrashChild } from './crash-child.ts';
import { openFails, raw, tempDir as tempDirIn } from './storage-fixtures.ts';
import { mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LevelStorage } from '../src/storage/level.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { LogState } from '../src/storage/log-state.ts';
import { planSave } from '../src/storage/plan.ts';
import {
  CHUNK_PREFIX, HARD_STATE_KEY, SNAPSHOT_META_KEY, VERSION_KEY,
  chunkKey, encodeEntries, hardStateValue, readVersion, seal, snapshotMetaValue, versionValue,
} from '../src/storage/level-records.ts';
import { isStrataError } from '../src/errors.ts';
import { SeededRandom } from '../src/util/rng.ts';
import type { HardState, Snapshot } from '../src/raft/types.ts';
import type { SaveRequest } from '../src/storage/storage.ts';
import { ent, ents, plain, snap } from './storage-helpers.ts';



const tempDir = (): Promise<string> => tempDirIn('strata-snapfile-');

async function snapFiles(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'snap'))).sort();
}


async function reload(dir: string): Promise<ReturnType<typeof plain>> {
  const s = await LevelStorage.open(dir);
  try {
    return plain(await s.load());
  } finally {
    await s.close();
  }
}

/** A directory with entries 1..10 and a compaction snapshot at 8 (data `size` bytes). */
async function withSnapshot(size: number, chunk = 1000): Promise<{ dir: string; file: string }> {
  const dir = await tempDir();
  const s = await LevelStorage.open(dir, { snapshotChunkSize: chunk });
  await s.save({ entries: ents(1, 10, 1), hardState: { term: 1, vote: 1, commit: 10 } });
  await s.save({ snapshot: snap(8, 1, size) });
  await s.close();
  const files = await snapFiles(dir);
  assert.equal(files.length, 1, `one snapshot file: ${files.join(', ')}`);
  return { dir, file: files[0] as string };
}

describe('LevelStorage: snapshot files', () => {
  test('issue #4: a large snapshot round-trips through close/reopen as one file under snap/, no LevelDB records', async () => {
    const dir = await tempDir();
    let s = await LevelStorage.open(dir);
    await s.save({ entries: ents(1, 100, 1, 256), hardState: { term: 1, vote: 1, commit: 100 } });
    const big = snap(90, 1, 24 * 1024 * 1024 + 17);
    await s.save({ snapshot: big });
    assert.equal(s.stats.snapshotFiles, 1);
    await s.close();
    const files = await snapFiles(dir);
    assert.equal(files.length, 1);
    assert.match(files[0] as string, /^0{15}1-0{15}1-0{14}5a\.snap$/, 'generation-term-index name');
    await raw(dir, async (db) => {
      assert.equal(readVersion((await db.get(VERSION_KEY)) as Buffer), 2);
      const chunks = await db.keys({ gte: Buffer.from([CHUNK_PREFIX]), lt: Buffer.from([CHUNK_PREFIX + 1]) }).all();
      assert.equal(chunks.length, 0, 'no chunk records');
    });
    s = await LevelStorage.open(dir);
    const st = await s.load();
    assert.equal(st.snapshot?.metadata.index, 90);
    assert.ok(Buffer.from(st.snapshot?.data ?? []).equals(Buffer.from(big.data)), 'data intact');
    assert.deepEqual(st.entries.map((e) => e.index), Array.from({ length: 10 }, (_, i) => 91 + i));
    // A later load() re-reads and re-verifies the file.
    await s.save({ entries: [ent(101, 1)] });
    assert.equal((await s.load()).snapshot?.data.length, big.data.length);
    // The next snapshot replaces the file; the superseded one is deleted.
    await s.save({ snapshot: snap(100, 1, 5) });
    await s.close();
    const after2 = await snapFiles(dir);
    assert.equal(after2.length, 1);
    assert.notEqual(after2[0], files[0]);
    assert.equal((await reload(dir)).snapshot?.data, plain({ hardState: { term: 0, vote: 0, commit: 0 }, entries: [], snapshot: snap(100, 1, 5) }).snapshot?.data);
  });

  test('issue #4: a flipped byte, a truncated, extended or missing snapshot file is ErrCorrupt naming the file', async (t) => {
    const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
    t.diagnostic(`seed=${seed}`);
    const rng = new SeededRandom(seed);
    for (let round = 0; round < 4; round++) {
      const { dir, file } = await withSnapshot(rng.range(1, 5000), rng.range(1, 2000));
      const path = join(dir, 'snap', file);
      const bytes = await readFile(path);
      const at = rng.range(0, bytes.length - 1);
      bytes[at] = (bytes[at] as number) ^ (1 << rng.range(0, 7));
      await writeFile(path, bytes);
      const err = await openFails(dir, 'ErrCorrupt', new RegExp(`snapshot file snap/${file}: checksum mismatch`));
      assert.equal((err as { details?: Record<string, unknown> }).details?.file, file, `seed ${seed}`);
      await openFails(dir, 'ErrCorrupt'); // nothing was "repaired"
    }
    const t1 = await withSnapshot(3000);
    await truncate(join(t1.dir, 'snap', t1.file), 2999);
    await openFails(t1.dir, 'ErrCorrupt', new RegExp(`snapshot file snap/${t1.file}: 2999 bytes, the snapshot metadata says 3000`));
    const t2 = await withSnapshot(3000);
    await writeFile(join(t2.dir, 'snap', t2.file), Buffer.from([1]), { flag: 'a' });
    await openFails(t2.dir, 'ErrCorrupt', /3001 bytes/);
    const t3 = await withSnapshot(0);
    await rm(join(t3.dir, 'snap', t3.file));
    await openFails(t3.dir, 'ErrCorrupt', new RegExp(`snapshot file snap/${t3.file}: missing`));
    // The file must be the one the metadata names: another valid file in its place is refused too.
    const a = await withSnapshot(3000);
    const b = await withSnapshot(3001);
    await writeFile(join(a.dir, 'snap', a.file), await readFile(join(b.dir, 'snap', b.file)));
    await openFails(a.dir, 'ErrCorrupt', /snapshot file/);
  });

  test('issue #4: orphan files left by a crash (temporary, unreferenced) are removed on open; other files are left alone', async () => {
    const { dir, file } = await withSnapshot(100);
    const snapDir = join(dir, 'snap');
    const orphans = [
      `${'0'.repeat(15)}9-${'0'.repeat(15)}1-${'0'.repeat(15)}9.snap.tmp`, // a crash while writing
      `${'0'.repeat(15)}8-${'0'.repeat(15)}1-${'0'.repeat(15)}a.snap`, // written, metadata never committed
      `${'0'.repeat(16)}-${'0'.repeat(15)}1-${'0'.repeat(15)}2.snap`, // superseded, deletion interrupted
    ];
    for (const o of orphans) await writeFile(join(snapDir, o), 'x');
    await writeFile(join(snapDir, 'README'), 'not ours');
    await mkdir(join(snapDir, 'sub.snap.tmp'));
    const st = await reload(dir);
    assert.equal(st.snapshot?.index, 8);
    assert.deepEqual(await snapFiles(dir), [file, 'README', 'sub.snap.tmp'].sort());
    // New files continue after the highest generation seen, never reusing a name.
    const s = await LevelStorage.open(dir);
    await s.save({ snapshot: snap(9, 1, 10) });
    await s.close();
    const files = (await snapFiles(dir)).filter((f) => f.endsWith('.snap'));
    assert.equal(files.length, 1);
    assert.ok((files[0] as string) > file, `${files[0]} sorts after ${file}`);
  });

  test('issue #4: a format version 1 directory (snapshot in chunk records) loads; the next snapshot moves to a file and raises the version', async () => {
    const dir = await tempDir();
    const legacy = snap(5, 2, 2500);
    const hs: HardState = { term: 2, vote: 1, commit: 7 };
    // The version 1 layout, as the previous build wrote it (chunks of 1000 bytes).
    await raw(dir, async (db) => {
      const b = db.batch();
      b.put(VERSION_KEY, versionValue(1));
      b.put(HARD_STATE_KEY, hardStateValue(hs));
      const { keys, values } = encodeEntries(ents(6, 9, 2));
      keys.forEach((k, i) => b.put(k, values[i] as Buffer));
      for (let c = 0; c < 3; c++) b.put(chunkKey(c), seal(chunkKey(c), legacy.data.subarray(c * 1000, (c + 1) * 1000)));
      const m = legacy.metadata;
      b.put(SNAPSHOT_META_KEY, snapshotMetaValue({ index: m.index, term: m.term, confState: m.confState, size: 2500, chunks: 3 }));
      await b.write();
    });
    const want = plain({ hardState: hs, snapshot: legacy, entries: ents(6, 9, 2) });
    assert.deepEqual(await reload(dir), want);
    // Entries and hard states do not change the layout: an older build can still read the directory.
    let s = await LevelStorage.open(dir);
    await s.save({ entries: [ent(10, 2)], hardState: { ...hs, commit: 10 } });
    assert.deepEqual(plain(await s.load()).snapshot, want.snapshot, 'load() re-reads the chunks');
    await s.close();
    await raw(dir, async (db) => assert.equal(readVersion((await db.get(VERSION_KEY)) as Buffer), 1));
    // Legacy corruption detection still applies.
    await raw(dir, async (db) => {
      const v = (await db.get(chunkKey(1))) as Buffer;
      v[100] = (v[100] as number) ^ 1;
      await db.put(chunkKey(1), v);
    });
    await openFails(dir, 'ErrCorrupt', /snapshot chunk 1/);
    await raw(dir, async (db) => db.put(chunkKey(1), seal(chunkKey(1), legacy.data.subarray(1000, 2000))));
    // The next snapshot: a file, chunks deleted, version 2, in one batch.
    s = await LevelStorage.open(dir);
    await s.save({ snapshot: snap(8, 2, 700) });
    await s.close();
    await raw(dir, async (db) => {
      assert.equal(readVersion((await db.get(VERSION_KEY)) as Buffer), 2);
      const chunks = await db.keys({ gte: Buffer.from([CHUNK_PREFIX]), lt: Buffer.from([CHUNK_PREFIX + 1]) }).all();
      assert.equal(chunks.length, 0);
    });
    const st = await reload(dir);
    assert.deepEqual(st.snapshot, plain({ hardState: hs, entries: [], snapshot: snap(8, 2, 700) }).snapshot);
    assert.deepEqual(st.entries.map((e) => e.index), [9, 10]);
  });
});

/**
 * Delay each LevelDB batch write of `s` by 0–8 ms (drawn from `rng`), so
 * batches stay in flight while snapshot files finish: more interleavings.
 */
function slowWrites(s: LevelStorage, rng: SeededRandom): LevelStorage {
  type Batch = { write(options: { sync: boolean }): Promise<void> };
  const db = (s as unknown as { db: { batch(): Batch } }).db;
  const batch = db.batch.bind(db);
  db.batch = () => {
    const b = batch();
    const write = b.write.bind(b);
    b.write = async (options) => {
      await new Promise((r) => setTimeout(r, rng.range(0, 8)));
      return write(options);
    };
    return b;
  };
  return s;
}

describe('LevelStorage: snapshot ordering', () => {
  test('issue #4: an entry save issued after a big compaction snapshot resolves before the snapshot save does', async () => {
    const dir = await tempDir();
    const s = await LevelStorage.open(dir);
    await s.save({ entries: ents(1, 100, 1, 256), hardState: { term: 1, vote: 1, commit: 100 } });
    const order: string[] = [];
    const big = snap(100, 1, 30 * 1024 * 1024);
    const snapshotSaved = s.save({ snapshot: big }).then(() => order.push('snapshot'));
    // Entry saves one after another (each awaited) while the file is written.
    let next = 101;
    const appends = (async () => {
      for (let i = 0; i < 3; i++) {
        await s.save({ entries: [ent(next, 1, 256)], hardState: { term: 1, vote: 1, commit: next } });
        order.push(`entry ${next++}`);
      }
    })();
    await Promise.all([snapshotSaved, appends]);
    assert.deepEqual(order.slice(0, 3), ['entry 101', 'entry 102', 'entry 103'], `resolution order: ${order.join(', ')}`);
    await s.close();
    const st = await reload(dir);
    assert.equal(st.snapshot?.index, 100);
    assert.deepEqual(st.entries.map((e) => e.index), [101, 102, 103]);
  });

  test('issue #4: saves after an installed snapshot (beyond the log / other term) wait for it; compact() waits for pending snapshot files', async () => {
    const dir = await tempDir();
    const s = await LevelStorage.open(dir);
    await s.save({ entries: ents(1, 5, 1), hardState: { term: 1, vote: 1, commit: 5 } });
    const order: string[] = [];
    const installed = s.save({ snapshot: snap(50, 2, 4 * 1024 * 1024) }).then(() => order.push('snapshot 50'));
    const later = s.save({ entries: [ent(51, 2)], hardState: { term: 2, vote: 0, commit: 51 } }).then(() => order.push('entry 51'));
    await Promise.all([installed, later]);
    assert.deepEqual(order, ['snapshot 50', 'entry 51']);
    // A snapshot with another term at an index the log reaches is installed too (drops the log): a barrier.
    order.length = 0;
    const other = s.save({ snapshot: snap(51, 3, 4 * 1024 * 1024) }).then(() => order.push('snapshot 51'));
    const after51 = s.save({ entries: [ent(52, 3)] }).then(() => order.push('entry 52'));
    await Promise.all([other, after51]);
    assert.deepEqual(order, ['snapshot 51', 'entry 52']);
    // compact() right after a compaction snapshot's save() waits for its file and metadata.
    order.length = 0;
    const compaction = s.save({ snapshot: snap(52, 3, 8 * 1024 * 1024) }).then(() => order.push('snapshot 52'));
    const compacted = s.compact(52).then(() => order.push('compact 52'));
    await Promise.all([compaction, compacted]);
    assert.deepEqual(order, ['snapshot 52', 'compact 52']);
    // close() waits for a snapshot file still being written.
    void s.save({ entries: [ent(53, 3)] });
    void s.save({ snapshot: snap(53, 3, 8 * 1024 * 1024) });
    await s.close();
    const st = await reload(dir);
    assert.equal(st.snapshot?.index, 53);
    assert.equal(st.snapshot?.data.length, 2 * 8 * 1024 * 1024, "hex: two characters per byte");
    assert.deepEqual(st.entries, []);
    assert.equal((await snapFiles(dir)).length, 1, 'superseded files deleted');
  });

  test('issue #4: compaction snapshots that finish while an earlier batch is written keep their call order (the newest metadata wins)', async () => {
    for (let round = 0; round < 3; round++) {
      const dir = await tempDir();
      let s = await LevelStorage.open(dir);
      await s.save({ entries: ents(1, 10, 1), hardState: { term: 1, vote: 1, commit: 10 } });
      // A big batch in flight, two small compaction snapshots behind it, then a later batch:
      // both snapshots' metadata lands in that later batch, and must keep their order.
      const big = s.save({ entries: ents(11, 4000, 1, 4096) });
      await Promise.resolve();
      const j1 = s.save({ snapshot: snap(5, 1, 10) });
      const j2 = s.save({ snapshot: snap(8, 1, 20) });
      const later = s.save({ entries: [ent(4001, 1)] });
      await Promise.all([big, j1, j2, later]);
      await s.close();
      s = await LevelStorage.open(dir);
      const st = await s.load();
      await s.close();
      assert.equal(st.snapshot?.metadata.index, 8, `round ${round}`);
      assert.equal(st.entries[0]?.index, 9);
      assert.equal((await snapFiles(dir)).length, 1);
    }
  });

  test('issue #4: concurrent mixed saves (compaction and installed snapshots, entries, hard states) end in the call-order state', async (t) => {
    const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
    t.diagnostic(`seed=${seed}`);
    const rng = new SeededRandom(seed);
    const delays = new SeededRandom(seed + 1);
    for (let round = 0; round < 6; round++) {
      const dir = await tempDir();
      let s = slowWrites(await LevelStorage.open(dir, { snapshotChunkSize: rng.range(1, 8) * 4096 }), delays);
      const mem = new MemoryStorage();
      const view = new LogState();
      let term = 1;
      for (let burst = 0; burst < 4; burst++) {
        const saves: Promise<string>[] = [];
        const memSaves: Promise<string>[] = [];
        const outcome = (p: Promise<void>): Promise<string> => p.then(() => 'ok', (e: unknown) => (e as { code?: string }).code ?? String(e));
        for (let i = 0; i < 40; i++) {
          const req: { -readonly [K in keyof SaveRequest]: SaveRequest[K] } = {};
          const r = rng.next();
          const last = view.lastIndex;
          if (r < 0.15 && last > view.snapshotIndex) {
            const idx = rng.range(view.snapshotIndex, last); // compaction: the log reaches it, same term
            req.snapshot = snap(idx, view.termAt(idx) as number, rng.next() < 0.2 ? rng.range(100_000, 600_000) : rng.range(0, 3000));
          } else if (r < 0.22) {
            if (rng.next() < 0.5) term++;
            req.snapshot = snap(last + rng.range(0, 4), term, rng.range(0, 50_000)); // installed (maybe at last with another term)
            if (rng.next() < 0.5) req.entries = ents(req.snapshot.metadata.index + 1, req.snapshot.metadata.index + rng.range(1, 3), term, 30);
          } else if (r < 0.3) {
            req.hardState = { term, vote: rng.range(0, 3), commit: rng.range(0, last) };
            if (rng.next() < 0.5) req.sync = false;
          } else {
            if (rng.next() < 0.1) term++;
            const from = Math.max(1, rng.range(Math.max(view.snapshotIndex - 2, 1), last + 1));
            req.entries = ents(from, from + rng.range(0, 4), term, rng.range(0, 300));
            if (rng.next() < 0.3) req.hardState = { term, vote: 1, commit: Math.min(from, last) };
          }
          try {
            view.apply(planSave(view, req));
          } catch {
            // rejected by both
          }
          saves.push(outcome(s.save(req)));
          memSaves.push(outcome(mem.save(req)));
          // Let batches and snapshot files make progress between some saves, so
          // they interleave in many ways (timing varies; the requests follow the seed).
          const y = rng.next();
          if (y < 0.2) await new Promise((r) => setImmediate(r));
          else if (y < 0.27) await new Promise((r) => setTimeout(r, rng.range(1, 6)));
        }
        assert.deepEqual(await Promise.all(saves), await Promise.all(memSaves), `round ${round} burst ${burst}: same outcomes (seed ${seed})`);
        if (rng.next() < 0.5) {
          await s.close();
          s = slowWrites(await LevelStorage.open(dir, { snapshotChunkSize: 4096 }), delays);
        }
        assert.deepEqual(plain(await s.load()), plain(await mem.load()), `round ${round} burst ${burst}: same state (seed ${seed})`);
      }
      await s.close();
      assert.deepEqual(await reload(dir), plain(await mem.load()), `round ${round}: same state after reopen (seed ${seed})`);
      assert.ok((await snapFiles(dir)).length <= 1, 'at most the referenced file remains');
    }
  });
});

describe('LevelStorage: crash while writing snapshot files', () => {
  test('issue #4: a crash after any number of batches (mixed concurrent saves) leaves a loadable, consistent directory', async (t) => {
    const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
    t.diagnostic(`seed=${seed}`);
    const rng = new SeededRandom(seed);
    for (let round = 0; round < 12; round++) {
      const dir = await tempDir();
      const s = await LevelStorage.open(dir, { snapshotChunkSize: 8192 });
      // Batches after the first `cut` are never written: the process "dies" there.
      type Batch = { write(options: { sync: boolean }): Promise<void> };
      const db = (s as unknown as { db: { batch(): Batch; close(): Promise<void> } }).db;
      const batch = db.batch.bind(db);
      const cut = rng.range(1, 25);
      let writes = 0;
      db.batch = () => {
        const b = batch();
        const write = b.write.bind(b);
        b.write = async (options) => {
          if (++writes > cut) return new Promise<void>(() => undefined);
          await new Promise((r) => setTimeout(r, rng.range(0, 4)));
          return write(options);
        };
        return b;
      };
      const view = new LogState();
      let term = 1;
      const pending: Promise<void>[] = [];
      for (let i = 0; i < 60; i++) {
        const req: { -readonly [K in keyof SaveRequest]: SaveRequest[K] } = {};
        const r = rng.next();
        const last = view.lastIndex;
        if (r < 0.2 && last > view.snapshotIndex) {
          const idx = rng.range(view.snapshotIndex, last);
          req.snapshot = snap(idx, view.termAt(idx) as number, rng.range(0, 40_000));
        } else if (r < 0.27) {
          if (rng.next() < 0.5) term++;
          req.snapshot = snap(last + rng.range(0, 3), term, rng.range(0, 40_000));
          if (rng.next() < 0.5) req.entries = ents(req.snapshot.metadata.index + 1, req.snapshot.metadata.index + rng.range(1, 3), term, 30);
        } else {
          if (rng.next() < 0.1) term++;
          const from = Math.max(1, rng.range(Math.max(view.snapshotIndex - 2, 1), last + 1));
          req.entries = ents(from, from + rng.range(0, 4), term, rng.range(0, 100));
          req.hardState = { term, vote: 1, commit: Math.min(from, last) };
        }
        try {
          view.apply(planSave(view, req));
        } catch {
          // rejected
        }
        pending.push(s.save(req).catch(() => undefined));
        if (rng.next() < 0.3) await new Promise((r) => setTimeout(r, rng.range(0, 3)));
      }
      // "Crash": release LevelDB without the storage's close(). The abandoned
      // instance still finishes its file work in this process (a real crash
      // would stop it): wait for that, so files it writes count as left behind
      // by the crash rather than appearing after the reopen below.
      await new Promise((r) => setTimeout(r, rng.range(0, 30)));
      await db.close();
      const internals = s as unknown as { snapChain: Promise<void>; unlinks: Set<Promise<void>> };
      await internals.snapChain;
      await Promise.all([...internals.unlinks]);
      const what = `round ${round}: crash after ${cut} batches (seed ${seed})`;
      const s2 = await LevelStorage.open(dir).catch((err: unknown) => assert.fail(`${what}: ${String(err)}`));
      const st = await s2.load();
      await s2.close();
      const base = st.snapshot?.metadata.index ?? 0;
      st.entries.forEach((e, i) => {
        assert.equal(e.index, base + 1 + i, `${what}: contiguous`);
        assert.deepEqual([...e.data], [...ent(e.index, e.term, e.data.length).data], `${what}: entry ${e.index} intact`);
      });
      if (st.snapshot !== undefined) {
        const m = st.snapshot.metadata;
        assert.ok(Buffer.from(st.snapshot.data).equals(Buffer.from(snap(m.index, m.term, st.snapshot.data.length).data)), `${what}: snapshot intact`);
      }
      const files = await snapFiles(dir);
      assert.equal(files.length, st.snapshot === undefined ? 0 : 1, `${what}: only the referenced file: ${files.join(', ')}`);
      void pending;
    }
  });

  for (const mode of ['compaction', 'barrier'] as const) {
    test(`issue #4: SIGKILL while ${mode} snapshot files are written leaves a consistent directory; temporary files are removed on open`, async (t) => {
      const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
      t.diagnostic(`seed=${seed}`);
      const rng = new SeededRandom(seed);
      const dir = await tempDir();
      const child = new URL('./storage-crash-child.ts', import.meta.url).pathname;
      const snapSize = 3 * 1024 * 1024 + 5;
      let acked = 0;
      let prevSnap: Snapshot | undefined;
      for (let round = 0; round < 4; round++) {
        const wantSnaps = rng.range(1, 4);
        const delay = rng.range(0, 80);
        const args = [child, dir, String(rng.range(1, 12)), String(snapSize), mode === 'barrier' ? 'barrier' : ''];
        let snaps = 0;
        await runCrashChild(args[0] as string, args.slice(1), (kind, v, kill) => {
          if (kind === 'start') assert.ok(Number(v) >= acked, `restart sees last index ${v} >= acknowledged ${acked}`);
          if (kind === 'ack') acked = Math.max(acked, Number(v));
          // Kill while that snapshot's file is (most likely) being written.
          if (kind === 'snap' && ++snaps === wantSnaps) setTimeout(kill, delay);
        });
        const s = await LevelStorage.open(dir);
        const st = await s.load();
        await s.close();
        const what = `${mode} round ${round} (seed ${seed})`;
        const last = st.entries.at(-1)?.index ?? st.snapshot?.metadata.index ?? 0;
        assert.ok(last >= acked, `${what}: last index ${last} >= acknowledged ${acked}`);
        const base = st.snapshot?.metadata.index ?? 0;
        st.entries.forEach((e, i) => {
          assert.equal(e.index, base + 1 + i, `${what}: contiguous after the snapshot`);
          assert.deepEqual([...e.data], [...ent(e.index, e.term, 200).data], `${what}: entry ${e.index} intact`);
        });
        const sn = st.snapshot;
        if (sn !== undefined) {
          assert.ok(Buffer.from(sn.data).equals(Buffer.from(snap(sn.metadata.index, sn.metadata.term, snapSize).data)), `${what}: snapshot intact`);
          assert.ok(prevSnap === undefined || sn.metadata.index >= prevSnap.metadata.index, `${what}: snapshot never goes back`);
          prevSnap = sn;
        }
        const files = await snapFiles(dir);
        assert.ok(files.every((f) => f.endsWith('.snap')), `${what}: no temporary files after open: ${files.join(', ')}`);
        assert.equal(files.length, sn === undefined ? 0 : 1, `${what}: only the referenced file`);
      }
    });
  }
});

describe('LevelStorage: snapshot file failures', () => {
  test('issue #4: a snapshot file that cannot be written rejects its save and stops the storage; nothing is half-written', async () => {
    const dir = await tempDir();
    const s = await LevelStorage.open(dir);
    await s.save({ entries: ents(1, 5, 1), hardState: { term: 1, vote: 1, commit: 5 } });
    // Bad snapshot data is rejected at call time and changes nothing.
    const bad = { metadata: snap(4, 1).metadata, data: undefined as unknown as Uint8Array };
    await assert.rejects(s.save({ snapshot: bad }), (err: unknown) => isStrataError(err, 'ErrInvalidArgument'));
    await s.save({ entries: [ent(6, 1)] });
    // The snapshot directory disappears (replaced by a file): the file write fails.
    await rm(join(dir, 'snap'), { recursive: true });
    await writeFile(join(dir, 'snap'), 'in the way');
    const failing = s.save({ snapshot: snap(4, 1, 1000) });
    const behind = s.save({ entries: [ent(7, 1)] });
    await assert.rejects(failing, (err: unknown) => (err as { code?: string }).code === 'ENOTDIR');
    await behind; // written before the failure: it did not depend on the snapshot
    await assert.rejects(s.save({ entries: [ent(8, 1)] }), (err: unknown) => isStrataError(err, 'ErrStopped'));
    await assert.rejects(s.compact(4), (err: unknown) => isStrataError(err, 'ErrStopped'));
    await s.close();
    await rm(join(dir, 'snap'));
    const st = await reload(dir);
    assert.equal(st.snapshot, undefined);
    assert.deepEqual(st.entries.map((e) => e.index), [1, 2, 3, 4, 5, 6, 7]);
  });
});
