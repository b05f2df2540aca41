/**
 * The durable half of a Raft member: hard state, log entries and the latest
 * snapshot. Implementations: `LevelStorage` (classic-level, checksummed,
 * fsync) and `MemoryStorage` (tests and simulation, with a crashable unsynced
 * tail). Users may supply their own; `test/storage-compliance.ts` is the suite
 * any implementation should pass.
 */
import type { Entry, HardState, Snapshot } from '../raft/types.ts';

/** What {@link Storage.load} returns: everything needed to restart a member. */
export interface PersistedState {
  /** Last saved hard state ({term:0, vote:0, commit:0} when new). */
  readonly hardState: HardState;
  /** Latest saved snapshot, or undefined when none was ever saved. */
  readonly snapshot?: Snapshot;
  /**
   * Log entries after the snapshot (or from index 1 without one), contiguous
   * and in index order.
   */
  readonly entries: readonly Entry[];
}

/** One batch for {@link Storage.save}. Every part is optional. */
export interface SaveRequest {
  readonly hardState?: HardState;
  /**
   * Entries to append. If the first entry's index is at or below the last
   * stored index, stored entries from that index on are replaced (Raft's
   * conflict truncation).
   */
  readonly entries?: readonly Entry[];
  /**
   * A snapshot to store. Entries it covers (index ≤ snapshot index) are
   * dropped, as are all entries if the snapshot's term at its index disagrees
   * with the log.
   */
  readonly snapshot?: Snapshot;
  /**
   * When false and the request carries only a hard state, the batch need not
   * be durable when save() resolves: it is applied in call order and becomes
   * durable with the next synced save, or may be lost in a power cut (as etcd
   * skips the fsync for a Ready whose `mustSync` is false, i.e. whose only
   * change is the commit index). Ignored for requests with entries or a
   * snapshot, which are always synced. Default true.
   */
  readonly sync?: boolean;
}

/** Durable Raft state. */
export interface Storage {
  /** Read back everything saved. Throws `ErrCorrupt` on damaged records. */
  load(): Promise<PersistedState>;
  /**
   * Persist a batch atomically. Resolves only once the batch is durable
   * (unless the implementation was opened with sync disabled). Concurrent
   * calls are applied in call order.
   */
  save(request: SaveRequest): Promise<void>;
  /**
   * Drop entries with index ≤ `index`; they must be covered by a saved
   * snapshot. Compacting at or below the current first index is a no-op.
   */
  compact(index: number): Promise<void>;
  /** Release resources. Further calls reject with `ErrStopped`. */
  close(): Promise<void>;
}
