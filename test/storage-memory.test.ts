// MemoryStorage (issue #8): the Storage compliance suite, plus the simulated
// disk: an unsynced tail that crash() loses, ordered slow writes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '../src/storage/memory.ts';
import { RealClock, VirtualClock } from '../src/util/clock.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { ent, ents, plain, runStorageCompliance, snap } from './storage-compliance.ts';

/** A compliance fixture whose reopen closes the storage and reopens it in place. */
function closeAndReopen(storage: MemoryStorage) {
  return {
    storage,
    reopen: async () => {
      await storage.close();
      storage.reopen();
      return storage;
    },
    dispose: async () => undefined,
  };
}

runStorageCompliance('MemoryStorage', {
  create: async () => {
    const storage = new MemoryStorage();
    return closeAndReopen(storage);
  },
});

runStorageCompliance('MemoryStorage (syncOnSave: false, synced before reopen)', {
  create: async () => {
    const storage = new MemoryStorage({ syncOnSave: false });
    return {
      storage,
      reopen: async () => {
        storage.sync();
        storage.crash();
        return storage;
      },
      dispose: async () => undefined,
    };
  },
});

runStorageCompliance('MemoryStorage (slow disk: 30% of writes delayed 1-2 ms on a real clock)', {
  create: async () => {
    const rng = new SeededRandom(Number(process.env.SEED ?? 7));
    const storage = new MemoryStorage({ clock: new RealClock() });
    storage.beforeSave = () => (rng.chance(0.3) ? rng.range(1, 2) : 0);
    return closeAndReopen(storage);
  },
});

describe('MemoryStorage: crash and the unsynced tail', () => {
  test('issue #8: with syncOnSave (default) every resolved save survives crash()', async () => {
    const s = new MemoryStorage();
    await s.save({ entries: ents(1, 5, 1), hardState: { term: 1, vote: 1, commit: 3 } });
    const before = plain(await s.load());
    s.crash();
    assert.deepEqual(plain(await s.load()), before);
    assert.deepEqual(plain(s.durableState()), before);
  });

  test('issue #8: crash() loses exactly the saves made since the last sync()', async () => {
    const s = new MemoryStorage({ syncOnSave: false });
    await s.save({ entries: ents(1, 5, 1), hardState: { term: 1, vote: 1, commit: 2 } });
    s.sync();
    const synced = plain(await s.load());
    await s.save({ entries: [ent(4, 2)], hardState: { term: 2, vote: 2, commit: 3 } }); // truncates 5, replaces 4
    await s.save({ snapshot: snap(3, 1) });
    assert.equal(s.unsyncedSaves, 2);
    const unsynced = plain(await s.load());
    assert.notDeepEqual(unsynced, synced);
    assert.deepEqual(plain(s.durableState()), synced, 'durableState excludes the unsynced tail');
    assert.equal(s.durableLastIndex(), 5);
    assert.equal(s.durableEntry(4)?.term, 1, 'the durable entry 4 is the old one');
    assert.equal(s.durableEntry(6), undefined);
    assert.deepEqual(s.durableHardState(), { term: 1, vote: 1, commit: 2 });
    s.crash();
    assert.deepEqual(plain(await s.load()), synced, 'the unsynced tail is gone, the synced part intact');
    // Usable after the crash; the next sync makes new saves durable.
    await s.save({ entries: [ent(6, 1)] });
    s.sync();
    s.crash();
    assert.deepEqual((await s.load()).entries.map((e) => e.index), [1, 2, 3, 4, 5, 6]);
    assert.equal(s.stats.saves, 4);
    assert.equal(s.stats.entriesSaved, 7);
  });

  test('issue #4: a hard-state-only save with sync: false stays in the unsynced tail until the next synced save', async () => {
    const s = new MemoryStorage();
    await s.save({ entries: ents(1, 3, 1), hardState: { term: 1, vote: 1, commit: 1 } });
    await s.save({ hardState: { term: 1, vote: 1, commit: 2 }, sync: false });
    assert.equal((await s.load()).hardState.commit, 2);
    assert.equal(s.durableHardState().commit, 1, 'not durable yet');
    s.crash();
    assert.equal((await s.load()).hardState.commit, 1, 'lost in a power cut');
    await s.save({ hardState: { term: 1, vote: 1, commit: 3 }, sync: false });
    await s.save({ entries: [ent(4, 1)] }); // synced: makes the earlier write durable too
    assert.equal(s.durableHardState().commit, 3);
    assert.equal(s.unsyncedSaves, 0);
    // Entries are always synced, whatever the flag says.
    await s.save({ entries: [ent(5, 1)], sync: false });
    s.crash();
    assert.deepEqual((await s.load()).entries.map((e) => e.index), [1, 2, 3, 4, 5]);
  });

  test('issue #8: slow writes (beforeSave + clock) complete in order; a crash before they land loses them', async () => {
    const clock = new VirtualClock();
    const s = new MemoryStorage({ clock });
    const delays = [10, 1];
    s.beforeSave = () => delays.shift() ?? 0;
    const done: number[] = [];
    void s.save({ entries: ents(1, 2, 1) }).then(() => done.push(1));
    void s.save({ entries: ents(3, 3, 1) }).then(() => done.push(2));
    const third = s.save({ entries: ents(4, 4, 1) }).then(() => done.push(3));
    await Promise.resolve();
    assert.deepEqual(done, []);
    assert.equal((await s.load()).entries.length, 4, 'load sees written-but-pending saves');
    assert.equal(s.durableState().entries.length, 0);
    clock.advance(5); // the second write's delay passed, but it waits for the first
    await Promise.resolve();
    assert.deepEqual(done, []);
    assert.equal(s.durableState().entries.length, 0);
    clock.advance(10);
    await third;
    assert.deepEqual(done, [1, 2, 3]);
    assert.equal(s.durableState().entries.length, 4);

    s.beforeSave = () => 50;
    let settled = false;
    void s.save({ entries: [ent(5, 1)] }).then(() => (settled = true));
    s.crash();
    clock.advance(100);
    await Promise.resolve();
    assert.equal(settled, false, 'a save lost in a crash never resolves');
    assert.deepEqual((await s.load()).entries.map((e) => e.index), [1, 2, 3, 4]);
  });

  test('issue #8: saves stay cheap as the log grows (no whole-log copy per save)', async () => {
    const s = new MemoryStorage();
    for (let i = 1; i <= 20_000; i++) await s.save({ entries: [ent(i, 1, 4)], hardState: { term: 1, vote: 1, commit: i - 1 } });
    const st = await s.load();
    assert.equal(st.entries.length, 20_000);
    assert.equal(s.stats.syncs, 20_000);
  });
});
