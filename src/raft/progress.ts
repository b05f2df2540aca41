/**
 * What a leader knows about one follower's log, as etcd-io/raft's
 * `tracker.Progress`. Three states:
 * - probe: the leader does not know where the follower's log ends; it sends
 *   one MsgApp per heartbeat interval and waits for the answer, because
 *   sending more before knowing the match point would only be rejected;
 * - replicate: the match point is known; entries stream optimistically
 *   (next advances on send) within the {@link Inflights} window;
 * - snapshot: the follower needs a snapshot; nothing is sent until it is
 *   reported applied or failed.
 * Invariant: match < next.
 */
import { Inflights } from './inflights.ts';
import type { ProgressStateName } from './types.ts';

/** Replication state of one peer. */
export class Progress {
  /** Highest index known to be replicated on the peer. */
  match: number;
  /** Index of the next entry to send. */
  next: number;
  state: ProgressStateName = 'probe';
  /** Snapshot index being sent (snapshot state only). */
  pendingSnapshot = 0;
  /** Heard from the peer since the last check-quorum round. */
  recentActive = false;
  /**
   * Sending is paused: in probe, a MsgApp is outstanding; in replicate, the
   * inflight window is full.
   */
  msgAppFlowPaused = false;
  /** Highest commit index sent to the peer (to skip redundant empty MsgApps). */
  sentCommit = 0;
  /** Tracked but never counted in quorums. */
  isLearner: boolean;
  readonly inflights: Inflights;

  constructor(match: number, next: number, inflights: Inflights, isLearner: boolean) {
    this.match = match;
    this.next = next;
    this.inflights = inflights;
    this.isLearner = isLearner;
  }

  /** A copy sharing nothing mutable with this one. */
  clone(): Progress {
    const p = new Progress(this.match, this.next, this.inflights.clone(), this.isLearner);
    p.state = this.state;
    p.pendingSnapshot = this.pendingSnapshot;
    p.recentActive = this.recentActive;
    p.msgAppFlowPaused = this.msgAppFlowPaused;
    p.sentCommit = this.sentCommit;
    return p;
  }

  private resetState(state: ProgressStateName): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** Back to probing from just after the match point (or after a sent snapshot). */
  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  /** Start streaming from just after the match point. */
  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  /** Wait for the snapshot at `snapshotIndex` to be applied. */
  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /**
   * Record a MsgApp carrying `entries` entries (`bytes` of payload) was sent.
   * In replicate, next advances optimistically and the window fills; in
   * probe, further sends pause until an answer or the next heartbeat.
   */
  sentEntries(entries: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (entries > 0) {
        this.next += entries;
        this.inflights.add(this.next - 1, bytes);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === 'probe') {
      this.msgAppFlowPaused = true;
    }
  }

  /**
   * The peer acknowledged up to `n`. Returns false for a stale (already
   * known) acknowledgement.
   */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false;
    this.match = n;
    if (this.next < n + 1) this.next = n + 1;
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * The peer rejected a MsgApp whose preceding index was `rejected`, hinting
   * its log may match up to `matchHint`. Returns false if the rejection is
   * stale (so nothing changes).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      // Stale if the peer already matched beyond the rejected index.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe, exactly one MsgApp (at next-1) is outstanding; anything else is stale.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** True if no MsgApp carrying entries should be sent now. */
  isPaused(): boolean {
    if (this.state === 'snapshot') return true;
    return this.msgAppFlowPaused;
  }
}
