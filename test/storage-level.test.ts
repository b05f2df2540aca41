// LevelStorage (issue #4): the Storage compliance suite on a real directory,
// plus checksums, torn-tail truncation, corruption detection, the directory
// lock, format versions and group commit. Snapshot files (format version 2)
// and the legacy chunk layout are tested in storage-snapfile.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { runCrashChild } from './crash-child.ts';
import { openFails, raw, tempDir } from './storage-fixtures.ts';
import { createRequire } from 'node:module';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { LevelStorage } from '../src/storage/level.ts';
import { entryKey, versionValue, HARD_STATE_KEY, SNAPSHOT_META_KEY, VERSION_KEY } from '../src/storage/level-records.ts';
import { isStrataError } from '../src/errors.ts';
import { SeededRandom } from '../src/util/rng.ts';
import type { Storage } from '../src/storage/storage.ts';
import { ent, ents, plain, runStorageCompliance, snap } from './storage-compliance.ts';


runStorageCompliance('LevelStorage', {
  create: async () => {
    const dir = await tempDir();
    let current: Storage = await LevelStorage.open(dir);
    return {
      storage: current,
      reopen: async () => {
        await current.close();
        current = await LevelStorage.open(dir);
        return current;
      },
      dispose: async () => {
        await current.close();
      },
    };
  },
});


async function flipByte(dir: string, key: Buffer, at = -1): Promise<void> {
  await raw(dir, async (db) => {
    const v = await db.get(key);
    assert.ok(v !== undefined, `record ${key.toString('hex')} exists`);
    const i = at < 0 ? v.length + at : at;
    v[i] = (v[i] as number) ^ 0x40;
    await db.put(key, v);
  });
}


async function filled(commit: number, last = 10): Promise<string> {
  const dir = await tempDir();
  const s = await LevelStorage.open(dir);
  await s.save({ entries: ents(1, last, 1, 64), hardState: { term: 1, vote: 1, commit } });
  await s.close();
  return dir;
}

async function indexes(dir: string): Promise<number[]> {
  const s = await LevelStorage.open(dir);
  try {
    return (await s.load()).entries.map((e) => e.index);
  } finally {
    await s.close();
  }
}

describe('LevelStorage: checksums and recovery', () => {
  test('issue #4: a torn tail (garbled and partial last records beyond commit) is truncated on open', async () => {
    const dir = await filled(5);
    await raw(dir, async (db) => {
      const v9 = (await db.get(entryKey(9))) as Buffer;
      await db.put(entryKey(9), v9.subarray(0, 7)); // partial record
      const v10 = (await db.get(entryKey(10))) as Buffer;
      v10[v10.length - 3] = (v10[v10.length - 3] as number) ^ 0xff; // garbled payload
      await db.put(entryKey(10), v10);
      await db.put(entryKey(11), Buffer.from([1, 2, 3])); // a record written by hand, never acknowledged
    });
    assert.deepEqual(await indexes(dir), [1, 2, 3, 4, 5, 6, 7, 8]);
    await raw(dir, async (db) => {
      for (const i of [9, 10, 11]) assert.equal(await db.get(entryKey(i)), undefined, `torn entry ${i} deleted`);
    });
    // Appending continues where the surviving log ends.
    const s = await LevelStorage.open(dir);
    await s.save({ entries: [ent(9, 2)] });
    await s.close();
    assert.deepEqual(await indexes(dir), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('issue #4: a damaged entry at or below the commit index is ErrCorrupt, not truncated', async () => {
    const dir = await filled(10);
    await flipByte(dir, entryKey(10));
    await openFails(dir, 'ErrCorrupt', /entry 10 .*commit index 10/);
    await raw(dir, async (db) => assert.ok((await db.get(entryKey(10))) !== undefined, 'nothing was deleted'));
  });

  test('issue #4: a damaged entry before good ones is ErrCorrupt naming the record', async () => {
    const dir = await filled(2);
    await flipByte(dir, entryKey(4), 10);
    const err = await openFails(dir, 'ErrCorrupt', /entry 4 \(e\/4\).*checksum/);
    assert.equal((err as { details?: Record<string, unknown> }).details?.record, 'entry 4 (e/4)');
    // Still refused on the next attempt (and the directory was released: not ErrLocked).
    await openFails(dir, 'ErrCorrupt');
  });

  test('issue #4: a valid record under the wrong key, or a missing entry, is ErrCorrupt', async () => {
    const dir = await filled(0);
    await raw(dir, async (db) => db.put(entryKey(3), (await db.get(entryKey(4))) as Buffer));
    await openFails(dir, 'ErrCorrupt', /entry 3/);
    const dir2 = await filled(0);
    await raw(dir2, async (db) => db.del(entryKey(4)));
    await openFails(dir2, 'ErrCorrupt', /entry 4 .*missing/);
  });

  test('issue #4: damage to the hard state, snapshot metadata, snapshot file or version is ErrCorrupt naming it', async () => {
    const make = async (): Promise<string> => {
      const dir = await tempDir();
      const s = await LevelStorage.open(dir, { snapshotChunkSize: 1000 });
      await s.save({ entries: ents(1, 4, 1), hardState: { term: 1, vote: 1, commit: 4 } });
      await s.save({ snapshot: snap(3, 1, 2500) });
      await s.close();
      return dir;
    };
    const d1 = await make();
    await flipByte(d1, HARD_STATE_KEY);
    await openFails(d1, 'ErrCorrupt', /hard state/);
    const d2 = await make();
    await flipByte(d2, SNAPSHOT_META_KEY, 8);
    await openFails(d2, 'ErrCorrupt', /snapshot metadata/);
    const d3 = await make();
    const [file] = await readdir(join(d3, 'snap'));
    const bytes = await readFile(join(d3, 'snap', file as string));
    bytes[1500] = (bytes[1500] as number) ^ 0x40;
    await writeFile(join(d3, 'snap', file as string), bytes);
    await openFails(d3, 'ErrCorrupt', new RegExp(`snapshot file snap/${file as string}: checksum mismatch`));
    const d4 = await make();
    await rm(join(d4, 'snap', (await readdir(join(d4, 'snap')))[0] as string));
    await openFails(d4, 'ErrCorrupt', /snapshot file .*missing/);
    const d5 = await make();
    await flipByte(d5, VERSION_KEY);
    await openFails(d5, 'ErrCorrupt', /format version/);
  });

  test('issue #4: an unknown format version (or no version record) is refused with ErrFormatVersion', async () => {
    const dir = await filled(1);
    await raw(dir, async (db) => db.put(VERSION_KEY, versionValue(3)));
    await openFails(dir, 'ErrFormatVersion', /version 3/);
    await raw(dir, async (db) => db.put(VERSION_KEY, versionValue(0)));
    await openFails(dir, 'ErrFormatVersion', /version 0/);
    const foreign = await tempDir();
    await raw(foreign, async (db) => db.put(Buffer.from('something'), Buffer.from('else')));
    await openFails(foreign, 'ErrFormatVersion', /no format-version record/);
  });

  test('issue #4: a request that cannot be encoded is rejected and changes nothing', async () => {
    const dir = await filled(2, 5);
    const s = await LevelStorage.open(dir);
    const before = plain(await s.load());
    const bad = { index: 3, term: 2, type: 0 as const, data: undefined as unknown as Uint8Array };
    await assert.rejects(s.save({ snapshot: snap(4, 1), entries: [ent(5, 2), { ...bad, index: 6 }], hardState: { term: 2, vote: 0, commit: 4 } }), (err: unknown) => isStrataError(err, 'ErrInvalidArgument'));
    assert.equal(s.stats.saves, 0);
    await s.save({ entries: [ent(6, 1)] }); // the mirror still says last index 5
    await s.close();
    const s2 = await LevelStorage.open(dir);
    const st = plain(await s2.load());
    await s2.close();
    assert.deepEqual(st.snapshot, before.snapshot);
    assert.deepEqual(st.hardState, before.hardState);
    assert.deepEqual(st.entries.map((e) => e.index), [1, 2, 3, 4, 5, 6]);
  });

  test('issue #4: conflict truncation deletes the stored suffix in the same write', async () => {
    const dir = await filled(0, 10);
    let s = await LevelStorage.open(dir);
    await s.save({ entries: [ent(4, 2)] });
    await s.close();
    await raw(dir, async (db) => {
      const keys = await db.keys({ gte: entryKey(0), lt: Buffer.from('f') }).all();
      assert.equal(keys.length, 4, 'entries 5..10 deleted');
    });
    s = await LevelStorage.open(dir);
    assert.deepEqual((await s.load()).entries.map((e) => [e.index, e.term]), [[1, 1], [2, 1], [3, 1], [4, 2]]);
    await s.close();
  });
});

describe('LevelStorage: directory lock', () => {
  test('issue #4: a directory held by another live process is refused with ErrLocked', async () => {
    const dir = await tempDir();
    const lib = createRequire(import.meta.url).resolve('classic-level');
    const holder = `const {ClassicLevel}=require(${JSON.stringify(lib)});const db=new ClassicLevel(${JSON.stringify(dir)});` +
      `db.open().then(()=>process.stdout.write('ready\\n'));setInterval(()=>{},1000);`;
    const child = spawn(process.execPath, ['-e', holder], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`holder exited early (${code})`)));
      });
      const err = await openFails(dir, 'ErrLocked', /in use by another process/);
      assert.equal((err as { details?: Record<string, unknown> }).details?.dataDir, dir);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    // Once the holder is gone the directory opens.
    const s = await LevelStorage.open(dir);
    await s.close();
  });

  test('issue #4: a second open in the same process is refused with ErrLocked', async () => {
    const dir = await tempDir();
    const s = await LevelStorage.open(dir);
    await openFails(dir, 'ErrLocked');
    await s.close();
  });
});

describe('LevelStorage: durability and group commit', () => {
  test('issue #4: many concurrent saves share syncs (group commit), all durable', async () => {
    const dir = await tempDir();
    let s = await LevelStorage.open(dir);
    const saves: Promise<void>[] = [];
    for (let i = 1; i <= 200; i++) saves.push(s.save({ entries: [ent(i, 1, 256)], hardState: { term: 1, vote: 1, commit: i - 1 } }));
    await Promise.all(saves);
    assert.equal(s.stats.saves, 200);
    assert.equal(s.stats.entriesSaved, 200);
    assert.ok(s.stats.syncs >= 1 && s.stats.syncs < s.stats.saves, `syncs ${s.stats.syncs} < saves ${s.stats.saves}`);
    await s.close();
    s = await LevelStorage.open(dir);
    const st = await s.load();
    assert.equal(st.entries.length, 200);
    assert.equal(st.hardState.commit, 199);
    await s.close();
  });

  test('issue #4: saves issued while a write is in flight are written together by the next sync', async () => {
    const dir = await tempDir();
    const s = await LevelStorage.open(dir);
    const first = s.save({ entries: [ent(1, 1)] });
    await Promise.resolve(); // the first batch is now being written
    const rest: Promise<void>[] = [];
    for (let i = 2; i <= 26; i++) rest.push(s.save({ entries: [ent(i, 1)], hardState: { term: 1, vote: 0, commit: i } }));
    await Promise.all([first, ...rest]);
    assert.equal(s.stats.syncs, 2, 'one sync for the first save, one for the 25 queued behind it');
    assert.equal(s.stats.saves, 26);
    await s.close();
  });

  test('issue #4: a hard-state-only save with sync: false is written without an fsync; entries always sync', async () => {
    const dir = await tempDir();
    let s = await LevelStorage.open(dir);
    await s.save({ entries: ents(1, 3, 1), hardState: { term: 1, vote: 1, commit: 1 } });
    assert.equal(s.stats.syncs, 1);
    await s.save({ hardState: { term: 1, vote: 1, commit: 3 }, sync: false });
    assert.equal(s.stats.syncs, 1, 'no fsync for a commit-only hard state');
    assert.equal(s.stats.writes, 1, 'a commit-only hard state waits for the next batch');
    await s.save({ entries: [ent(4, 1)], sync: false });
    assert.equal(s.stats.syncs, 2, 'entries are synced regardless');
    assert.equal(s.stats.writes, 2, 'the deferred hard state rode along');
    await s.close();
    s = await LevelStorage.open(dir);
    const st = await s.load();
    assert.equal(st.hardState.commit, 3);
    assert.equal(st.entries.length, 4);
    await s.close();
  });

  test('issue #4: a deferred commit-only hard state is seen by load() and written by close()', async () => {
    const dir = await tempDir();
    let s = await LevelStorage.open(dir);
    await s.save({ entries: ents(1, 3, 1), hardState: { term: 1, vote: 1, commit: 1 } });
    await s.save({ hardState: { term: 1, vote: 1, commit: 2 }, sync: false });
    assert.equal((await s.load()).hardState.commit, 2, 'load() writes the deferred record first');
    const writes = s.stats.writes;
    await s.save({ hardState: { term: 1, vote: 1, commit: 3 }, sync: false });
    assert.equal(s.stats.writes, writes);
    await s.close();
    assert.equal(s.stats.writes, writes + 1, 'close() writes the deferred record');
    s = await LevelStorage.open(dir);
    assert.deepEqual((await s.load()).hardState, { term: 1, vote: 1, commit: 3 });
    await s.close();
  });

  test('issue #4: a failed write rejects its saves and stops the storage (ErrStopped), never half-serving', async () => {
    const dir = await tempDir();
    const s = await LevelStorage.open(dir);
    await s.save({ entries: ents(1, 2, 1) });
    // Pull the database away underneath the storage.
    await (s as unknown as { db: ClassicLevel<Buffer, Buffer> }).db.close();
    await assert.rejects(s.save({ entries: [ent(3, 1)] }));
    await assert.rejects(s.save({ entries: [ent(4, 1)] }), (err: unknown) => isStrataError(err, 'ErrStopped'));
    await assert.rejects(s.load(), (err: unknown) => isStrataError(err, 'ErrStopped'));
    await s.close();
    const s2 = await LevelStorage.open(dir);
    assert.deepEqual((await s2.load()).entries.map((e) => e.index), [1, 2]);
    await s2.close();
  });

  test('issue #4: close waits for pending saves; with sync: false writes are not synced', async () => {
    const dir = await tempDir();
    let s = await LevelStorage.open(dir, { sync: false });
    void s.save({ entries: ents(1, 50, 1) });
    void s.save({ hardState: { term: 1, vote: 1, commit: 50 } });
    await s.close();
    assert.equal(s.stats.syncs, 0);
    assert.ok(s.stats.writes >= 1);
    s = await LevelStorage.open(dir);
    const st = await s.load();
    assert.equal(st.entries.length, 50);
    assert.equal(st.hardState.commit, 50);
    // A later load() reads the directory again and verifies it.
    await s.save({ entries: [ent(51, 1)] });
    assert.equal((await s.load()).entries.length, 51);
    await s.close();
  });
});

describe('LevelStorage: crash with real processes', () => {
  test('issue #4: after SIGKILL at a random moment every acknowledged save is present and intact', async (t) => {
    const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
    t.diagnostic(`seed=${seed}`);
    const rng = new SeededRandom(seed);
    const dir = await tempDir();
    const child = new URL('./storage-crash-child.ts', import.meta.url).pathname;
    let acked = 0;
    for (let round = 0; round < 5; round++) {
      const wantAcks = rng.range(1, 120);
      let seen = 0;
      await runCrashChild(child, [dir, String(rng.range(1, 16))], (kind, v, kill) => {
        if (kind === 'start') assert.ok(Number(v) >= acked, `restart sees last index ${v} >= acknowledged ${acked}`);
        if (kind === 'ack') {
          acked = Math.max(acked, Number(v));
          if (++seen === wantAcks) kill();
        }
      });
      const s = await LevelStorage.open(dir);
      const st = await s.load();
      await s.close();
      const last = st.entries.at(-1)?.index ?? st.snapshot?.metadata.index ?? 0;
      assert.ok(last >= acked, `round ${round}: last index ${last} >= acknowledged ${acked} (seed ${seed})`);
      assert.ok(st.hardState.commit >= acked, `round ${round}: hard state commit ${st.hardState.commit} >= ${acked}`);
      const base = st.snapshot?.metadata.index ?? 0;
      st.entries.forEach((e, i) => {
        assert.equal(e.index, base + 1 + i, 'contiguous after the snapshot');
        assert.deepEqual([...e.data], [...ent(e.index, e.term, 200).data], `entry ${e.index} intact`);
      });
      if (st.snapshot !== undefined && st.snapshot.metadata.index > 0) {
        assert.deepEqual([...st.snapshot.data], [...snap(st.snapshot.metadata.index, st.snapshot.metadata.term, 3000).data], 'snapshot intact');
      }
    }
  });
});

describe('LevelStorage: randomised corruption', () => {
  test('issue #4: a flipped byte in any record is detected: ErrCorrupt naming it, or a torn tail beyond commit truncated', async (t) => {
    const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
    t.diagnostic(`seed=${seed}`);
    const rng = new SeededRandom(seed);
    for (let round = 0; round < 12; round++) {
      const dir = await tempDir();
      const last = rng.range(3, 12);
      const commit = rng.range(0, last);
      let s = await LevelStorage.open(dir, { snapshotChunkSize: 256 });
      await s.save({ entries: ents(1, last + 2, 1, rng.range(0, 100)) });
      await s.save({ snapshot: snap(2, 1, 700), entries: ents(last + 1, last, 1), hardState: { term: 1, vote: 1, commit } });
      await s.close();
      // Pick a record: an entry (3..last+2), the snapshot file, the metadata, hard state or version.
      const keys: [Buffer | undefined, string][] = [
        [HARD_STATE_KEY, 'hard state'], [SNAPSHOT_META_KEY, 'snapshot metadata'], [VERSION_KEY, 'format version'],
        [undefined, 'snapshot file'],
      ];
      for (let i = 3; i <= last + 2; i++) keys.push([entryKey(i), `entry ${i}`]);
      const [key, name] = rng.pick(keys);
      let at = 0;
      if (key === undefined) {
        const path = join(dir, 'snap', (await readdir(join(dir, 'snap')))[0] as string);
        const v = await readFile(path);
        at = rng.range(0, v.length - 1);
        v[at] = (v[at] as number) ^ (1 << rng.range(0, 7));
        await writeFile(path, v);
      } else {
        await raw(dir, async (db) => {
          const v = (await db.get(key)) as Buffer;
          at = rng.range(0, v.length - 1);
          v[at] = (v[at] as number) ^ (1 << rng.range(0, 7));
          await db.put(key, v);
        });
      }
      const lastIndex = last + 2;
      const index = key !== undefined && key[0] === 0x65 ? key.readUInt32BE(5) : -1;
      const what = `round ${round}: ${name} byte ${at} (last ${lastIndex}, commit ${commit}, seed ${seed})`;
      if (index === lastIndex && index > commit) {
        s = await LevelStorage.open(dir);
        const st = await s.load();
        await s.close();
        assert.equal(st.entries.at(-1)?.index, lastIndex - 1, `${what}: torn tail truncated`);
      } else {
        const err = await openFails(dir, 'ErrCorrupt');
        assert.ok(err.message.includes(name), `${what}: error names the record: ${err.message}`);
      }
    }
  });
});
