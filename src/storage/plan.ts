/**
 * The log arithmetic every Storage implementation shares: given what is
 * stored (snapshot index/term, last index, the term at an index) and a
 * {@link SaveRequest}, decide what the request does — which snapshot to
 * install, which stored entries to drop, from where to replace the suffix —
 * or reject it before anything changes. `MemoryStorage` and `LevelStorage`
 * both apply the resulting {@link SavePlan}, so their semantics are
 * identical by construction.
 */
import type { Entry, HardState, Snapshot } from '../raft/types.ts';
import { strataError } from '../errors.ts';
import type { SaveRequest } from './storage.ts';

/** The facts about a stored log that planning needs. */
export interface LogView {
  /** Index of the stored snapshot (0 when none). */
  readonly snapshotIndex: number;
  /** Index of the last stored entry (the snapshot index when there is none). */
  readonly lastIndex: number;
  /**
   * Term at `index`: the snapshot's term at its index, the entry's term for a
   * stored entry, 0 at index 0 without a snapshot; undefined otherwise.
   */
  termAt(index: number): number | undefined;
}

/** What one {@link SaveRequest} does, in order: snapshot, entries, hard state. */
export interface SavePlan {
  /** Snapshot to install, if any. */
  readonly snapshot?: Snapshot;
  /**
   * With a snapshot: true when every stored entry is dropped (the log
   * disagrees with the snapshot at its index, or does not reach it); false
   * when only entries with index ≤ snapshot index are dropped.
   */
  readonly dropAll: boolean;
  /**
   * Entries to append (already stripped of entries the snapshot covers).
   * Stored entries with index ≥ `entries[0].index` are replaced: the stored
   * suffix from there on is deleted first (conflict truncation).
   */
  readonly entries: readonly Entry[];
  /** Hard state to store, if any. */
  readonly hardState?: HardState;
  /** Snapshot index after the request. */
  readonly snapshotIndex: number;
  /** Last index after the request. */
  readonly lastIndex: number;
}

/**
 * Validate `request` against `view` and compute its effect. Throws (and so
 * changes nothing) on: entries that are not consecutive, entries that would
 * leave a gap after the last stored index, or a snapshot older than the
 * stored one (`ErrCompacted`).
 */
export function planSave(view: LogView, request: SaveRequest): SavePlan {
  let snapshotIndex = view.snapshotIndex;
  let lastIndex = view.lastIndex;
  let dropAll = false;
  const snap = request.snapshot;
  if (snap !== undefined) {
    const idx = snap.metadata.index;
    if (!Number.isSafeInteger(idx) || idx < 0) {
      throw strataError('ErrInvalidArgument', `snapshot index ${idx} is not a non-negative integer`);
    }
    if (idx < snapshotIndex) {
      throw strataError('ErrCompacted', `snapshot at ${idx} is older than the stored snapshot at ${snapshotIndex}`);
    }
    // Entries after the snapshot survive only if the log holds the snapshot's
    // own last entry (same index and term): then they extend the snapshot.
    dropAll = idx > lastIndex || view.termAt(idx) !== snap.metadata.term;
    snapshotIndex = idx;
    lastIndex = dropAll ? idx : lastIndex;
  }

  let entries: readonly Entry[] = request.entries ?? [];
  if (entries.length > 0) {
    const first = (entries[0] as Entry).index;
    for (let i = 1; i < entries.length; i++) {
      if ((entries[i] as Entry).index !== first + i) {
        throw strataError('ErrInvalidArgument', `entries are not consecutive at position ${i} (index ${(entries[i] as Entry).index}, expected ${first + i})`);
      }
    }
    if (!Number.isSafeInteger(first) || first < 1) {
      throw strataError('ErrInvalidArgument', `entry index ${first} is not a positive integer`);
    }
    if (first > lastIndex + 1) {
      throw strataError('ErrInvalidArgument', `entries start at ${first}, leaving a gap after last index ${lastIndex}`);
    }
    // Entries the snapshot already covers are redundant; skip them.
    if (first <= snapshotIndex) entries = entries.slice(snapshotIndex + 1 - first);
    if (entries.length > 0) lastIndex = (entries[entries.length - 1] as Entry).index;
  }

  const plan: { -readonly [K in keyof SavePlan]: SavePlan[K] } = { dropAll, entries, snapshotIndex, lastIndex };
  if (snap !== undefined) plan.snapshot = snap;
  if (request.hardState !== undefined) plan.hardState = request.hardState;
  return plan;
}

/**
 * Validate a compaction request. A saved snapshot already drops the entries
 * it covers, so every stored entry lies after the snapshot index: compacting
 * at or below it is a no-op, and compacting beyond it would drop entries no
 * snapshot covers, which is rejected with `ErrInvalidArgument`.
 */
export function checkCompact(view: LogView, index: number): void {
  if (!Number.isSafeInteger(index)) throw strataError('ErrInvalidArgument', `compact index ${index} is not an integer`);
  if (index > view.snapshotIndex) {
    throw strataError('ErrInvalidArgument', `compact index ${index} is beyond the snapshot index ${view.snapshotIndex}; only entries covered by a saved snapshot may be dropped`);
  }
}
