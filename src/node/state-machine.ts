/**
 * The replicated application: what a RaftNode applies committed entries to.
 * StrataNode's MVCC store + lessor is one; users may bring their own (and fuzz
 * it in the simulator).
 */
import type { Entry } from '../raft/types.ts';

/** A deterministic state machine driven by the committed log. */
export interface StateMachine<Result = unknown> {
  /**
   * Apply a batch of committed normal entries (never no-ops or conf changes),
   * in index order, and return one result per entry; each result resolves the
   * matching `propose()` on the member that proposed it. Must be
   * deterministic: the same entries in the same order give the same state on
   * every member. May be async; batches are applied strictly one after
   * another. Batching lets an implementation write one backend batch for
   * many entries.
   */
  apply(entries: readonly Entry[]): Result[] | Promise<Result[]>;
  /** Serialise the whole state (called after applying up to some index). */
  snapshot(): Uint8Array | Promise<Uint8Array>;
  /** Replace the whole state with a snapshot produced by {@link snapshot}. */
  restore(data: Uint8Array): void | Promise<void>;
}
