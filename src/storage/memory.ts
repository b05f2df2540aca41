/**
 * A {@link Storage} in memory, for tests and the simulator. It models a disk
 * with a durable part and an unsynced tail: {@link MemoryStorage.crash} is a
 * power cut that loses everything not yet durable. Semantics (conflict
 * truncation, snapshots dropping covered entries, compaction, validation)
 * are those of `LevelStorage`: both apply the same {@link planSave}.
 *
 * Cost: a save costs O(entries in the request); the log is never copied on
 * save (only when a snapshot drops a prefix, and once on the first save that
 * is not immediately durable).
 */
import { strataError } from '../errors.ts';
import type { Entry, HardState } from '../raft/types.ts';
import type { TimerHandle, Clock } from '../util/clock.ts';
import { LogState } from './log-state.ts';
import { checkCompact, planSave } from './plan.ts';
import type { SavePlan } from './plan.ts';
import type { PersistedState, SaveRequest, Storage } from './storage.ts';

/** Options of {@link MemoryStorage}. */
export interface MemoryStorageOptions {
  /**
   * When true (default) a save is durable by the time it resolves. When false
   * save() resolves at once but the data stays in the unsynced tail until
   * {@link MemoryStorage.sync} (a disk with a volatile write cache).
   */
  readonly syncOnSave?: boolean;
  /**
   * Time source used to wait out delays returned by
   * {@link MemoryStorage.beforeSave} (slow disk). Without a clock such delays
   * are ignored.
   */
  readonly clock?: Clock;
}

/** Counters of a {@link MemoryStorage}. */
export interface MemoryStorageStats {
  /** save() calls accepted. */
  saves: number;
  /** Entries appended by those saves. */
  entriesSaved: number;
  /** Times data became durable (one per immediate save, one per sync()). */
  syncs: number;
}

/** A save that is not durable yet. */
interface PendingWrite {
  readonly plan: SavePlan;
  /** The (possibly slow) write completed; it is durable once synced. */
  written: boolean;
  /** Durable when it resolves (with syncOnSave); false for SaveRequest.sync === false. */
  readonly sync: boolean;
  readonly resolve: () => void;
  timer: TimerHandle | undefined;
}

/** In-memory {@link Storage} with a crashable unsynced tail. */
export class MemoryStorage implements Storage {
  /**
   * Fault knob (slow disk): when set, it is called at the start of each
   * save() with the request and may return a delay in ms. With a `clock`
   * option the save is written (and resolves) only after that delay on that
   * clock; later saves complete after it (the disk writes in order); a crash
   * before then loses it. Plain settable property; undefined by default.
   */
  beforeSave: ((request: SaveRequest) => number | void) | undefined = undefined;
  /** Counters; reset by nothing. */
  readonly stats: MemoryStorageStats = { saves: 0, entriesSaved: 0, syncs: 0 };

  private readonly syncOnSave: boolean;
  private readonly clock: Clock | undefined;
  /** What survives a crash. */
  private durable = new LogState();
  /** What load() sees; the same object as `durable` until the first unsynced save. */
  private current: LogState = this.durable;
  /** Saves applied to `current` but not to `durable`, in call order. */
  private pending: PendingWrite[] = [];
  /** How many of `pending` (a prefix) have resolved without being durable yet. */
  private acked = 0;
  private closed = false;

  /** Create an empty storage. */
  constructor(options: MemoryStorageOptions = {}) {
    this.syncOnSave = options.syncOnSave ?? true;
    this.clock = options.clock;
  }

  /** Everything saved so far (durable or not); after {@link crash}, only what was durable. */
  load(): Promise<PersistedState> {
    if (this.closed) return Promise.reject(stopped());
    return Promise.resolve(this.current.toPersisted());
  }

  /** See {@link Storage.save}. Invalid requests reject and change nothing. */
  save(request: SaveRequest): Promise<void> {
    if (this.closed) return Promise.reject(stopped());
    let plan: SavePlan;
    try {
      plan = planSave(this.current, request);
    } catch (err) {
      return Promise.reject(err);
    }
    this.stats.saves++;
    this.stats.entriesSaved += plan.entries.length;
    const asked = this.beforeSave?.(request);
    const delay = this.clock !== undefined && typeof asked === 'number' && asked > 0 ? asked : 0;
    const slow = delay > 0;
    // As LevelStorage: only a hard-state-only request may skip the sync.
    const sync = request.sync !== false || plan.entries.length > 0 || plan.snapshot !== undefined;
    if (!slow && sync && this.syncOnSave && this.pending.length === 0) {
      // Fast path: nothing queued ahead, durable at once.
      this.current.apply(plan);
      if (this.durable !== this.current) this.durable.apply(plan);
      this.stats.syncs++;
      return Promise.resolve();
    }
    if (this.current === this.durable) this.current = this.durable.clone();
    this.current.apply(plan);
    return new Promise<void>((resolve) => {
      const w: PendingWrite = { plan, written: !slow, sync, resolve, timer: undefined };
      this.pending.push(w);
      if (slow) {
        w.timer = (this.clock as Clock).setTimer(() => {
          w.timer = undefined;
          w.written = true;
          this.settle();
        }, delay);
      } else {
        this.settle();
      }
    });
  }

  /** See {@link Storage.compact}: a validated no-op, since snapshots already drop what they cover. */
  compact(index: number): Promise<void> {
    if (this.closed) return Promise.reject(stopped());
    try {
      checkCompact(this.current, index);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve();
  }

  /** Stop serving calls (they reject with `ErrStopped`) until {@link reopen} or {@link crash}. Unsynced data is kept. */
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Serve calls again after {@link close}, as a restarted process would; keeps all data. */
  reopen(): void {
    this.closed = false;
  }

  /**
   * Simulated power cut: everything not yet durable is lost; saves still in
   * flight never settle (their process is gone). The instance stays usable,
   * as if reopened.
   */
  crash(): void {
    for (const w of this.pending) {
      if (w.timer !== undefined) (this.clock as Clock).clearTimer(w.timer);
    }
    this.pending = [];
    this.acked = 0;
    this.current = this.durable;
    this.closed = false;
  }

  /** Make everything saved so far durable (waiting out no delays) and resolve every pending save. */
  sync(): void {
    if (this.pending.length === 0) return;
    const ws = this.pending;
    this.pending = [];
    this.acked = 0;
    for (const w of ws) {
      if (w.timer !== undefined) (this.clock as Clock).clearTimer(w.timer);
      this.durable.apply(w.plan);
      w.resolve();
    }
    this.stats.syncs++;
  }

  /** The durable state, what a crash now would leave (for invariant checks; copies the entry list, O(n)). */
  durableState(): PersistedState {
    return this.durable.toPersisted();
  }

  /** The durable hard state (O(1), for per-step invariant checks). */
  durableHardState(): HardState {
    return this.durable.hardState;
  }

  /** Index of the last durable entry (the durable snapshot index when none). O(1). */
  durableLastIndex(): number {
    return this.durable.lastIndex;
  }

  /** The durable entry at `index`, or undefined (compacted or absent). O(1). */
  durableEntry(index: number): Entry | undefined {
    return this.durable.entries[index - this.durable.snapshotIndex - 1];
  }

  /** Number of saves not yet durable. */
  get unsyncedSaves(): number {
    return this.pending.length;
  }

  /**
   * Complete writes in order (a write finishes only after those before it):
   * with syncOnSave, the written prefix up to its last synced write becomes
   * durable (a sync covers every earlier write); every write in the written
   * prefix resolves.
   */
  private settle(): void {
    const p = this.pending;
    let n = this.acked;
    while (n < p.length && (p[n] as PendingWrite).written) n++;
    if (this.syncOnSave) {
      let k = n - 1;
      while (k >= 0 && !(p[k] as PendingWrite).sync) k--;
      if (k >= 0) {
        const done = p.splice(0, k + 1);
        for (const w of done) this.durable.apply(w.plan);
        this.stats.syncs++;
        this.acked = Math.max(0, this.acked - done.length);
        n -= done.length;
        for (const w of done) w.resolve();
      }
    }
    for (let i = this.acked; i < n; i++) (p[i] as PendingWrite).resolve();
    this.acked = n;
  }
}

function stopped(): Error {
  return strataError('ErrStopped', 'storage is closed');
}
