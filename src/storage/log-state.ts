/**
 * An in-memory image of stored Raft state (hard state, snapshot, entries
 * after it) that applies {@link SavePlan}s in place. Used by
 * `MemoryStorage` for both its durable image and its current view.
 */
import type { Entry, HardState, Snapshot } from '../raft/types.ts';
import { EMPTY_HARD_STATE } from '../raft/types.ts';
import type { LogView, SavePlan } from './plan.ts';
import type { PersistedState } from './storage.ts';

/** Mutable stored state; `entries[i].index === snapshotIndex + 1 + i`. */
export class LogState implements LogView {
  /** Last stored hard state. */
  hardState: HardState = EMPTY_HARD_STATE;
  /** Stored snapshot, if any. */
  snapshot: Snapshot | undefined = undefined;
  /** Index of the stored snapshot (0 when none). */
  snapshotIndex = 0;
  /** Term of the stored snapshot (0 when none). */
  snapshotTerm = 0;
  /** Entries after the snapshot, consecutive. */
  entries: Entry[] = [];

  /** Index of the last entry (the snapshot index when the log is empty). */
  get lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  /** See {@link LogView.termAt}. */
  termAt(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    const k = index - this.snapshotIndex - 1;
    return k >= 0 && k < this.entries.length ? (this.entries[k] as Entry).term : undefined;
  }

  /** Apply a plan computed against this state (or an identical one). */
  apply(plan: SavePlan): void {
    const snap = plan.snapshot;
    if (snap !== undefined) {
      const idx = snap.metadata.index;
      // Dropping the covered prefix copies the surviving suffix once per
      // snapshot, which is rare; appends below never copy.
      this.entries = plan.dropAll ? [] : this.entries.slice(idx - this.snapshotIndex);
      this.snapshot = snap;
      this.snapshotIndex = idx;
      this.snapshotTerm = snap.metadata.term;
    }
    const ents = plan.entries;
    if (ents.length > 0) {
      const arr = this.entries;
      arr.length = (ents[0] as Entry).index - this.snapshotIndex - 1;
      for (let i = 0; i < ents.length; i++) arr.push(ents[i] as Entry);
    }
    if (plan.hardState !== undefined) this.hardState = plan.hardState;
  }

  /** An independent copy (entries are immutable and shared). */
  clone(): LogState {
    const c = new LogState();
    c.hardState = this.hardState;
    c.snapshot = this.snapshot;
    c.snapshotIndex = this.snapshotIndex;
    c.snapshotTerm = this.snapshotTerm;
    c.entries = this.entries.slice();
    return c;
  }

  /** A read-only copy in the {@link PersistedState} shape. */
  toPersisted(): PersistedState {
    const out: { hardState: HardState; entries: readonly Entry[]; snapshot?: Snapshot } = {
      hardState: this.hardState,
      entries: this.entries.slice(),
    };
    if (this.snapshot !== undefined) out.snapshot = this.snapshot;
    return out;
  }
}
