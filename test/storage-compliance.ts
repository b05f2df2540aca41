// A compliance suite any Storage implementation can run (issue #4, #8):
// round trips, conflict truncation, snapshots, compaction, validation,
// ErrStopped after close, reopen (when the factory supports it), and a
// randomised comparison against a naive reference model.
//
//   runStorageCompliance('MyStorage', { create: async () => ({ storage, reopen, dispose }) });
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { PersistedState, SaveRequest, Storage } from '../src/storage/storage.ts';
import type { Entry, HardState, Snapshot } from '../src/raft/types.ts';
import { isStrataError } from '../src/errors.ts';
import type { ErrorCode } from '../src/errors.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { ent, ents, plain, snap } from './storage-helpers.ts';

export { ent, ents, plain, snap } from './storage-helpers.ts';

/** One storage under test. */
export interface StorageUnderTest {
  readonly storage: Storage;
  /**
   * Optional: close `storage` (or the latest reopened instance) and open the
   * same data again, as a restarted process would. Tests of persistence
   * across restarts run only when present.
   */
  reopen?(): Promise<Storage>;
  /** Release everything (temp dirs); called once per test, after close. */
  dispose(): Promise<void>;
}

/** Creates a fresh, empty storage for each test. */
export interface StorageFactory {
  create(): Promise<StorageUnderTest>;
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isStrataError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

/** Naive reference model of the Storage semantics, written independently of src/storage/plan.ts. */
class Model {
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  snapshot: Snapshot | undefined;
  log = new Map<number, Entry>();

  private snapIndex(): number {
    return this.snapshot?.metadata.index ?? 0;
  }

  last(): number {
    let last = this.snapIndex();
    while (this.log.has(last + 1)) last++;
    return last;
  }

  /** Returns false when the request must be rejected. */
  save(r: SaveRequest): boolean {
    const es = r.entries ?? [];
    for (let i = 1; i < es.length; i++) if (es[i]!.index !== es[0]!.index + 1 * i) return false;
    if (r.snapshot !== undefined && r.snapshot.metadata.index < this.snapIndex()) return false;
    // Check the gap against the state after the snapshot.
    const s = r.snapshot;
    let lastAfterSnap = this.last();
    let keepLog = true;
    if (s !== undefined) {
      const i = s.metadata.index;
      const t = i === this.snapIndex() ? this.snapshot?.metadata.term ?? 0 : this.log.get(i)?.term;
      keepLog = t === s.metadata.term && i <= this.last();
      if (!keepLog) lastAfterSnap = i;
    }
    if (es.length > 0 && es[0]!.index > lastAfterSnap + 1) return false;
    if (s !== undefined) {
      const i = s.metadata.index;
      for (const k of [...this.log.keys()]) if (!keepLog || k <= i) this.log.delete(k);
      this.snapshot = s;
    }
    for (const e of es) {
      if (e.index <= this.snapIndex()) continue;
      if (this.log.has(e.index)) for (const k of [...this.log.keys()]) if (k >= e.index) this.log.delete(k);
      this.log.set(e.index, e);
    }
    if (r.hardState !== undefined) this.hardState = r.hardState;
    return true;
  }

  state(): PersistedState {
    const entries: Entry[] = [];
    for (let i = this.snapIndex() + 1; this.log.has(i); i++) entries.push(this.log.get(i)!);
    return this.snapshot === undefined ? { hardState: this.hardState, entries } : { hardState: this.hardState, entries, snapshot: this.snapshot };
  }
}

/** Register the compliance tests for one implementation. */
export function runStorageCompliance(name: string, factory: StorageFactory): void {
  const withStorage = (title: string, fn: (s: Storage, u: StorageUnderTest, t: TestContext) => Promise<void>): void => {
    test(title, async (t) => {
      const u = await factory.create();
      try {
        await fn(u.storage, u, t);
      } finally {
        await u.dispose();
      }
    });
  };

  describe(`Storage compliance: ${name}`, () => {
    withStorage('issue #4: a new storage loads empty', async (s) => {
      const st = await s.load();
      assert.deepEqual(plain(st), { hardState: { term: 0, vote: 0, commit: 0 }, snapshot: undefined, entries: [] });
    });

    withStorage('issue #4: entries and hard state round-trip (both entry types, empty and large data)', async (s) => {
      const es = [ent(1, 1, 0), ent(2, 1, 300, 1), ent(3, 2, 70_000), ent(4, 2, 1)];
      await s.save({ entries: es, hardState: { term: 2, vote: 3, commit: 2 } });
      const st = await s.load();
      assert.deepEqual(plain(st), plain({ hardState: { term: 2, vote: 3, commit: 2 }, entries: es }));
      // A save without a hard state keeps the stored one.
      await s.save({ entries: [ent(5, 2)] });
      assert.deepEqual((await s.load()).hardState, { term: 2, vote: 3, commit: 2 });
      // A hard-state-only save changes only the hard state.
      await s.save({ hardState: { term: 3, vote: 0, commit: 5 } });
      const st2 = await s.load();
      assert.deepEqual(st2.hardState, { term: 3, vote: 0, commit: 5 });
      assert.equal(st2.entries.length, 5);
    });

    withStorage('Raft §5.3: appending at or below the last index replaces the stored suffix (conflict truncation)', async (s) => {
      await s.save({ entries: ents(1, 5, 1) });
      await s.save({ entries: [ent(3, 2)] });
      assert.deepEqual(plain(await s.load()).entries, plain({ hardState: { term: 0, vote: 0, commit: 0 }, entries: [...ents(1, 2, 1), ent(3, 2)] }).entries);
      await s.save({ entries: ents(2, 6, 3) });
      assert.deepEqual(plain(await s.load()).entries, plain({ hardState: { term: 0, vote: 0, commit: 0 }, entries: [ent(1, 1), ...ents(2, 6, 3)] }).entries);
      // Replacing from index 1 replaces everything.
      await s.save({ entries: [ent(1, 4)] });
      assert.deepEqual((await s.load()).entries.map((e) => [e.index, e.term]), [[1, 4]]);
    });

    withStorage('issue #4: concurrent saves are applied in call order', async (s) => {
      await Promise.all([
        s.save({ entries: ents(1, 4, 1), hardState: { term: 1, vote: 1, commit: 0 } }),
        s.save({ entries: ents(5, 8, 1) }),
        s.save({ entries: ents(3, 3, 2), hardState: { term: 2, vote: 2, commit: 1 } }),
        s.save({ entries: ents(4, 5, 2) }),
      ]);
      const st = await s.load();
      assert.deepEqual(st.entries.map((e) => [e.index, e.term]), [[1, 1], [2, 1], [3, 2], [4, 2], [5, 2]]);
      assert.deepEqual(st.hardState, { term: 2, vote: 2, commit: 1 });
    });

    withStorage('issue #4: bad input is rejected and changes nothing (gap, non-consecutive entries)', async (s) => {
      await s.save({ entries: ents(1, 3, 1), hardState: { term: 1, vote: 1, commit: 1 } });
      const before = plain(await s.load());
      await rejectsWith(s.save({ entries: [ent(5, 1)], hardState: { term: 9, vote: 9, commit: 9 } }), 'ErrInvalidArgument');
      await rejectsWith(s.save({ entries: [ent(4, 1), ent(6, 1)] }), 'ErrInvalidArgument');
      await rejectsWith(s.save({ entries: [ent(4, 1), ent(4, 1)] }), 'ErrInvalidArgument');
      assert.deepEqual(plain(await s.load()), before);
    });

    withStorage('issue #4: a snapshot drops the entries it covers and keeps the rest', async (s) => {
      await s.save({ entries: ents(1, 10, 1) });
      await s.save({ snapshot: snap(5, 1, 100), hardState: { term: 1, vote: 0, commit: 5 } });
      const st = await s.load();
      assert.deepEqual(st.entries.map((e) => e.index), [6, 7, 8, 9, 10]);
      assert.deepEqual(plain(st).snapshot, plain({ hardState: st.hardState, entries: [], snapshot: snap(5, 1, 100) }).snapshot);
      // Appending continues after the kept entries.
      await s.save({ entries: [ent(11, 1)] });
      assert.equal((await s.load()).entries.length, 6);
    });

    withStorage('issue #4: a snapshot whose term disagrees with the log drops every entry', async (s) => {
      await s.save({ entries: ents(1, 10, 1) });
      await s.save({ snapshot: snap(5, 2) });
      const st = await s.load();
      assert.deepEqual(st.entries, []);
      assert.equal(st.snapshot?.metadata.index, 5);
      await s.save({ entries: ents(6, 7, 2) });
      assert.deepEqual((await s.load()).entries.map((e) => [e.index, e.term]), [[6, 2], [7, 2]]);
    });

    withStorage('issue #4: a snapshot beyond the log drops it; the log restarts after the snapshot', async (s) => {
      await s.save({ entries: ents(1, 3, 1) });
      await s.save({ snapshot: snap(20, 3, 0) });
      let st = await s.load();
      assert.deepEqual(st.entries, []);
      assert.equal(st.snapshot?.data.length, 0);
      await rejectsWith(s.save({ entries: [ent(22, 3)] }), 'ErrInvalidArgument');
      await s.save({ entries: ents(21, 22, 3) });
      st = await s.load();
      assert.deepEqual(st.entries.map((e) => e.index), [21, 22]);
    });

    withStorage('issue #4: snapshot and entries in one request; entries the snapshot covers are skipped', async (s) => {
      await s.save({ entries: ents(1, 3, 1) });
      await s.save({ snapshot: snap(10, 2), entries: ents(8, 12, 2), hardState: { term: 2, vote: 1, commit: 10 } });
      const st = await s.load();
      assert.equal(st.snapshot?.metadata.index, 10);
      assert.deepEqual(st.entries.map((e) => [e.index, e.term]), [[11, 2], [12, 2]]);
      assert.deepEqual(st.hardState, { term: 2, vote: 1, commit: 10 });
    });

    withStorage('issue #4: a bootstrap snapshot at index 0 with empty data round-trips', async (s) => {
      await s.save({ snapshot: snap(0, 0, 0), hardState: { term: 0, vote: 0, commit: 0 } });
      await s.save({ entries: ents(1, 2, 1) });
      const st = await s.load();
      assert.equal(st.snapshot?.metadata.index, 0);
      assert.deepEqual(st.snapshot?.metadata.confState.voters, [1, 2, 3]);
      assert.deepEqual(st.entries.map((e) => e.index), [1, 2]);
    });

    withStorage('issue #4: an older snapshot is rejected (ErrCompacted) and changes nothing', async (s) => {
      await s.save({ entries: ents(1, 10, 1) });
      await s.save({ snapshot: snap(8, 1) });
      const before = plain(await s.load());
      await rejectsWith(s.save({ snapshot: snap(5, 1), entries: [ent(11, 1)] }), 'ErrCompacted');
      assert.deepEqual(plain(await s.load()), before);
      // Re-saving at the same index replaces the snapshot.
      await s.save({ snapshot: snap(8, 1, 40) });
      assert.equal((await s.load()).snapshot?.data.length, 40);
    });

    withStorage('issue #4: compact at or below the snapshot index is a no-op; beyond it is rejected', async (s) => {
      await s.compact(0);
      await s.save({ entries: ents(1, 10, 1) });
      await rejectsWith(s.compact(3), 'ErrInvalidArgument');
      await s.save({ snapshot: snap(6, 1) });
      const before = plain(await s.load());
      await s.compact(6);
      await s.compact(2);
      assert.deepEqual(plain(await s.load()), before);
      await rejectsWith(s.compact(7), 'ErrInvalidArgument');
      assert.deepEqual(plain(await s.load()), before);
    });

    withStorage('issue #4: after close every call rejects with ErrStopped', async (s) => {
      await s.save({ entries: ents(1, 2, 1) });
      await s.close();
      await rejectsWith(s.load(), 'ErrStopped');
      await rejectsWith(s.save({ entries: [ent(3, 1)] }), 'ErrStopped');
      await rejectsWith(s.compact(0), 'ErrStopped');
    });

    withStorage('issue #4: everything saved survives a restart (reopen), and appending continues', async (s, u, t) => {
      if (u.reopen === undefined) {
        t.diagnostic('factory has no reopen: checking the same instance instead');
      }
      await s.save({ entries: ents(1, 20, 1, 100), hardState: { term: 1, vote: 2, commit: 4 } });
      await s.save({ snapshot: snap(4, 1, 5000) });
      await s.save({ entries: ents(15, 25, 2, 100), hardState: { term: 2, vote: 2, commit: 12 } });
      const before = plain(await s.load());
      const s2 = u.reopen === undefined ? s : await u.reopen();
      assert.deepEqual(plain(await s2.load()), before);
      // Conflict truncation across the restart.
      await s2.save({ entries: [ent(20, 3)] });
      const s3 = u.reopen === undefined ? s2 : await u.reopen();
      const st = await s3.load();
      assert.equal(st.entries[st.entries.length - 1]?.index, 20);
      assert.equal(st.entries[st.entries.length - 1]?.term, 3);
      assert.equal(st.entries[0]?.index, 5);
      await s3.close();
    });

    withStorage('issue #4: randomised operations match a reference model (with restarts)', async (s0, u, t) => {
      const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
      t.diagnostic(`seed=${seed}`);
      const rng = new SeededRandom(seed);
      const model = new Model();
      let s = s0;
      let term = 1;
      let rejected = 0;
      let snapshots = 0;
      for (let step = 0; step < 300; step++) {
        const r = rng.next();
        const req: { entries?: Entry[]; hardState?: HardState; snapshot?: Snapshot; sync?: boolean } = {};
        if (rng.next() < 0.2) req.sync = false;
        const last = model.last();
        if (r < 0.6) {
          if (rng.next() < 0.2) term++;
          const lo = Math.max(1, last + 1 - rng.range(0, 4) + (rng.next() < 0.05 ? 3 : 0));
          req.entries = ents(lo, lo + rng.range(0, 5), term, rng.range(0, 40));
        }
        if (r >= 0.6 && r < 0.7) {
          const base = model.snapshot?.metadata.index ?? 0;
          const idx = base + rng.range(-1, last - base + 3);
          const t2 = model.log.get(idx)?.term ?? term;
          req.snapshot = snap(Math.max(0, idx), rng.next() < 0.8 ? t2 : t2 + 1, rng.range(0, 64));
        }
        if (rng.next() < 0.5) req.hardState = { term, vote: rng.range(0, 3), commit: rng.range(0, last + 1) };
        const ok = model.save(req);
        if (!ok) rejected++;
        if (ok && req.snapshot !== undefined) snapshots++;
        if (ok) await s.save(req);
        else await assert.rejects(s.save(req), `step ${step}: the model rejects this request`);
        if (step % 50 === 49) {
          assert.deepEqual(plain(await s.load()), plain(model.state()), `step ${step} (seed ${seed})`);
          if (u.reopen !== undefined) s = await u.reopen();
        }
      }
      assert.deepEqual(plain(await s.load()), plain(model.state()), `final (seed ${seed})`);
      t.diagnostic(`rejected=${rejected} snapshots=${snapshots} lastIndex=${model.last()}`);
      assert.ok(rejected > 0 && snapshots > 0, 'the run exercised rejections and snapshots');
      await s.close();
    });
  });
}
