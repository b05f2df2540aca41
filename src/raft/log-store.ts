/**
 * The in-memory log the Raft core reads synchronously, as etcd-io/raft's
 * `MemoryStorage`: a dummy entry standing for the latest snapshot, followed by
 * the entries after it. The driver (or {@link RawNode.advance}) keeps it in
 * step with durable storage; the core only reads it.
 */
import { strataError } from '../errors.ts';
import type { ConfState, Entry, HardState, NodeId, Snapshot } from './types.ts';
import { EMPTY_HARD_STATE, EntryType } from './types.ts';
import { limitSize } from './entry-size.ts';

const EMPTY_DATA = new Uint8Array(0);

/** The configuration with nobody in it. */
export const EMPTY_CONF_STATE: ConfState = Object.freeze({
  voters: [],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
});

/**
 * A snapshot at index 0 / term 0 with the initial voters: how a brand-new
 * cluster is bootstrapped. A snapshot with `metadata.index === 0` carries no
 * state-machine data to restore.
 */
export function bootstrapSnapshot(voters: readonly NodeId[], learners: readonly NodeId[] = []): Snapshot {
  return {
    metadata: {
      index: 0,
      term: 0,
      confState: {
        voters: [...voters].sort((a, b) => a - b),
        learners: [...learners].sort((a, b) => a - b),
        votersOutgoing: [],
        learnersNext: [],
        autoLeave: false,
      },
    },
    data: EMPTY_DATA,
  };
}

/**
 * The log as an array whose element 0 is a dummy entry at the snapshot's
 * index and term. Invariant: `ents[i].index === ents[0].index + i`.
 */
export class LogStore {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot = bootstrapSnapshot([]);
  /** Config as of the applied index (the snapshot's config is fixed at its index). */
  private confState: ConfState = EMPTY_CONF_STATE;
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_DATA }];

  /**
   * Hard state and conf state as last set: the conf state is the last
   * snapshot's, or what {@link setConfState} recorded since (the config as of
   * the applied index, which a restart must pass as `applied`).
   */
  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.confState };
  }

  /** Record the hard state (the core reads it back only on restart). */
  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  /**
   * Record the configuration after applying a conf change, so a restart
   * starts from it. The snapshot (sent to followers) keeps the config at its
   * own index.
   */
  setConfState(cs: ConfState): void {
    this.confState = cs;
  }

  /**
   * Replace the log with `snap`: every entry is dropped and the snapshot's
   * index/term become the dummy entry. Throws `ErrCompacted` (etcd's
   * ErrSnapOutOfDate) for a snapshot older than the current one.
   */
  applySnapshot(snap: Snapshot): void {
    if (snap.metadata.index < this.snap.metadata.index) {
      throw strataError('ErrCompacted', `snapshot ${snap.metadata.index} older than ${this.snap.metadata.index}`);
    }
    this.snap = snap;
    this.confState = snap.metadata.confState;
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: EntryType.Normal, data: EMPTY_DATA }];
  }

  /**
   * Append entries (consecutive indexes). Entries at indexes already present
   * replace them and the suffix after is truncated; entries at or below the
   * snapshot index are ignored. A gap after the last index throws.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const offset = this.ents[0]!.index;
    let from = 0;
    // Skip entries already covered by the snapshot.
    if (entries[0]!.index <= offset) {
      from = offset + 1 - entries[0]!.index;
      if (from >= entries.length) return;
    }
    const first = entries[from]!.index;
    const pos = first - offset;
    if (pos > this.ents.length) {
      throw strataError('ErrInvalidArgument', `missing log entries [last ${this.lastIndex()}, append at ${first}]`);
    }
    if (pos < this.ents.length) this.ents.length = pos;
    for (let i = from; i < entries.length; i++) this.ents.push(entries[i]!);
  }

  /**
   * Entries in [lo, hi), total size capped by `maxSize` (always at least one
   * entry). Throws `ErrCompacted` if `lo` is at or below the snapshot index.
   */
  entries(lo: number, hi: number, maxSize = Infinity): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw strataError('ErrCompacted', `entry ${lo} compacted (first ${offset + 1})`);
    if (hi > this.lastIndex() + 1) {
      throw strataError('ErrInvalidArgument', `entries hi ${hi} beyond last index ${this.lastIndex()}`);
    }
    if (lo >= hi) return [];
    return limitSize(this.ents, lo - offset, hi - offset, maxSize);
  }

  /** Term of the entry at `index` (the snapshot's term at its index). Throws `ErrCompacted` below that. */
  term(index: number): number {
    const offset = this.ents[0]!.index;
    if (index < offset) throw strataError('ErrCompacted', `term of ${index} compacted (snapshot ${offset})`);
    const e = this.ents[index - offset];
    if (e === undefined) throw strataError('ErrInvalidArgument', `term of ${index} beyond last index ${this.lastIndex()}`);
    return e.term;
  }

  /** Snapshot index + 1. */
  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  /** Index of the last entry (the snapshot index if there are none). */
  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  /** The latest snapshot (index 0 if none). */
  snapshot(): Snapshot {
    return this.snap;
  }

  /**
   * Record a snapshot at `index` (which must be in the log and newer than
   * the current snapshot) with the given config and state-machine data.
   * Entries are kept; call {@link compact} to drop them.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) {
      throw strataError('ErrCompacted', `snapshot ${index} not newer than ${this.snap.metadata.index}`);
    }
    if (index > this.lastIndex()) {
      throw strataError('ErrInvalidArgument', `snapshot ${index} beyond last index ${this.lastIndex()}`);
    }
    const term = this.term(index);
    this.snap = { metadata: { index, term, confState }, data };
    return this.snap;
  }

  /** Discard entries before `index`; the entry at `index` becomes the new dummy. */
  compact(index: number): void {
    const offset = this.ents[0]!.index;
    if (index <= offset) throw strataError('ErrCompacted', `compact ${index} at or below ${offset}`);
    if (index > this.lastIndex()) {
      throw strataError('ErrInvalidArgument', `compact ${index} beyond last index ${this.lastIndex()}`);
    }
    const i = index - offset;
    const dummy: Entry = { term: this.ents[i]!.term, index, type: EntryType.Normal, data: EMPTY_DATA };
    const rest = this.ents.slice(i);
    rest[0] = dummy;
    this.ents = rest;
  }
}
