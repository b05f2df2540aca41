/**
 * Linearizable reads for {@link RaftNode}: concurrent `readIndex()` calls
 * share one ReadIndex round (etcd's read loop); a round's waiters resolve
 * once the member applied the granted index. A round that gets no answer
 * (lost message, leader change) is re-issued; a waiter times out after its
 * deadline.
 */
import { strataError } from '../errors.ts';
import type { ReadState } from '../raft/types.ts';
import { Deferred } from './pending.ts';

interface PendingRead {
  readonly d: Deferred<number>;
  readonly deadline: number;
}

interface ReadRound {
  readonly ctx: number;
  readonly waiters: PendingRead[];
  readonly issuedAt: number;
}

function ctxBytes(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, n, true);
  return b;
}

function ctxValue(b: Uint8Array): number {
  if (b.length !== 8) return -1;
  return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
}

/** ReadIndex bookkeeping of one member. */
export class ReadTracker {
  private counter = 0;
  private queue: PendingRead[] = [];
  private round: ReadRound | undefined;
  private waiting: Array<{ index: number; waiters: PendingRead[] }> = [];

  /** @param issue hands a request context to the core's `readIndex` (may throw). */
  constructor(private readonly issue: (ctx: Uint8Array) => void) {}

  /** Queue a read (call {@link issueRound} from the core's turn). */
  add(d: Deferred<number>, deadline: number): void {
    this.queue.push({ d, deadline });
  }

  /** Start a round for every queued read unless one is outstanding. */
  issueRound(now: number): void {
    if (this.round !== undefined || this.queue.length === 0) return;
    const waiters = this.queue.filter((r) => !r.d.settled);
    this.queue = [];
    if (waiters.length === 0) return;
    const ctx = ++this.counter;
    this.round = { ctx, waiters, issuedAt: now };
    try {
      this.issue(ctxBytes(ctx));
    } catch (err) {
      this.round = undefined;
      for (const w of waiters) w.d.reject(err);
    }
  }

  /** ReadStates from a Ready. Returns true when queued reads need a new round. */
  onReadStates(states: readonly ReadState[]): boolean {
    for (const rs of states) {
      const round = this.round;
      if (round === undefined || ctxValue(rs.requestCtx) !== round.ctx) continue;
      this.round = undefined;
      this.waiting.push({ index: rs.index, waiters: round.waiters });
    }
    return this.round === undefined && this.queue.length > 0;
  }

  /** Resolve the reads whose index is applied. */
  resolve(applied: number): void {
    if (this.waiting.length === 0) return;
    const keep: Array<{ index: number; waiters: PendingRead[] }> = [];
    for (const w of this.waiting) {
      if (w.index <= applied) for (const r of w.waiters) r.d.resolve(w.index);
      else keep.push(w);
    }
    this.waiting = keep;
  }

  /** The leader changed: an outstanding round may never be answered. Returns true when a round should be re-issued. */
  onLeaderChange(hasLeader: boolean): boolean {
    if (this.round === undefined) return false;
    this.queue = [...this.round.waiters, ...this.queue];
    this.round = undefined;
    return hasLeader;
  }

  /** Per tick: re-issue an unanswered round after `retryTicks`, time out expired waiters. */
  tick(now: number, retryTicks: number): void {
    const round = this.round;
    if (round !== undefined && now - round.issuedAt >= retryTicks) {
      this.round = undefined;
      this.queue = [...round.waiters, ...this.queue];
    }
    if (this.queue.length > 0) {
      this.queue = this.queue.filter(
        (r) => !(r.deadline <= now && r.d.reject(strataError('ErrTimeout', 'read index timed out'))) && !r.d.settled,
      );
      this.issueRound(now);
    }
  }

  /** Reject every read (stop). */
  rejectAll(reason: unknown): void {
    for (const r of this.queue) r.d.reject(reason);
    for (const r of this.round?.waiters ?? []) r.d.reject(reason);
    for (const w of this.waiting) for (const r of w.waiters) r.d.reject(reason);
    this.queue = [];
    this.round = undefined;
    this.waiting = [];
  }
}
