/**
 * The proposals a {@link RaftNode} is waiting on: where each landed in the
 * log (its envelope names this member incarnation and a sequence number),
 * which never reached the log in time, and the ones buffered for the next
 * batch to the core.
 */
import { decode } from '../codec/index.ts';
import { strataError } from '../errors.ts';
import { EntryType } from '../raft/types.ts';
import type { ConfChange, Entry, NodeId } from '../raft/types.ts';
import { isFrom, seqOf } from './envelope.ts';
import type { ProposeResult } from './options.ts';
import { Deferred, Fifo } from './pending.ts';

/** One waiting proposal. */
export interface PendingProposal {
  readonly seq: number;
  readonly d: Deferred<ProposeResult<unknown>>;
  /** Log index where our entry was seen (0 = not seen yet). */
  index: number;
  /** Tick by which it must have been seen in the local log. */
  readonly deadline: number;
}

/** Proposal bookkeeping of one member incarnation. */
export class ProposalTracker {
  private seq = 0;
  private readonly pending = new Map<number, PendingProposal>();
  /** index → seq of our entry seen there, until that index is applied. */
  private readonly seenAt = new Map<number, number>();
  private readonly unseen = new Fifo<PendingProposal>();
  private buf: Uint8Array[] = [];
  private owners: PendingProposal[] = [];

  constructor(
    private readonly id: NodeId,
    private readonly nonce: number,
  ) {}

  /** A new proposal (not yet registered: call {@link register} unless it was rejected at once). */
  create(signal: AbortSignal | undefined, deadline: number): PendingProposal {
    const seq = ++this.seq;
    const d = new Deferred<ProposeResult<unknown>>(signal, () => this.forget(seq));
    return { seq, d, index: 0, deadline };
  }

  /** Start tracking `p`. */
  register(p: PendingProposal): void {
    if (!p.d.settled) this.pending.set(p.seq, p);
  }

  /** The waiting proposal with sequence `seq`. */
  get(seq: number): PendingProposal | undefined {
    return this.pending.get(seq);
  }

  /** Buffer an enveloped entry for the next batch. */
  buffer(p: PendingProposal, data: Uint8Array): void {
    this.buf.push(data);
    this.owners.push(p);
  }

  /** True when entries are buffered. */
  get hasBuffered(): boolean {
    return this.buf.length > 0;
  }

  /** Hand the buffered entries to `propose` in one call (all or none accepted). */
  flush(propose: (data: readonly Uint8Array[]) => void): void {
    const data = this.buf;
    const owners = this.owners;
    this.buf = [];
    this.owners = [];
    const live: Uint8Array[] = [];
    const liveOwners: PendingProposal[] = [];
    for (let i = 0; i < data.length; i++) {
      const p = owners[i] as PendingProposal;
      if (p.d.settled) continue;
      live.push(data[i] as Uint8Array);
      liveOwners.push(p);
    }
    if (live.length === 0) return;
    try {
      propose(live);
      for (const p of liveOwners) this.unseen.push(p);
    } catch (err) {
      for (const p of liveOwners) this.settle(p, err);
    }
  }

  /** `p` was handed to the core: expect it in the log by its deadline. */
  proposed(p: PendingProposal): void {
    this.unseen.push(p);
  }

  /** Settle `p`: resolve with `ok` when given, else reject with `err`. */
  settle(p: PendingProposal, err: unknown, ok?: ProposeResult<unknown>): void {
    this.forget(p.seq);
    if (ok !== undefined) p.d.resolve(ok);
    else p.d.reject(err);
  }

  /** Note where our own proposals landed in newly persisted entries; one replaced by another entry is lost. */
  noteEntries(entries: readonly Entry[]): void {
    for (const e of entries) {
      let seq = -1;
      if (e.type === EntryType.Normal) {
        if (isFrom(e.data, this.id, this.nonce)) seq = seqOf(e.data);
      } else {
        const ctx = decode<ConfChange>(e.data).context;
        if (ctx !== undefined && isFrom(ctx, this.id, this.nonce)) seq = seqOf(ctx);
      }
      const prev = this.seenAt.get(e.index);
      if (prev !== undefined && prev !== seq) {
        const lost = this.pending.get(prev);
        if (lost !== undefined) this.settle(lost, strataError('ErrLeaderChanged', `entry ${e.index} replaced`));
      }
      if (seq < 0) continue;
      const p = this.pending.get(seq);
      if (p === undefined) continue;
      p.index = e.index;
      this.seenAt.set(e.index, seq);
    }
  }

  /** The sequence number of ours expected at `index` (forgotten by this call). */
  takeExpected(index: number): number | undefined {
    const seq = this.seenAt.get(index);
    if (seq !== undefined) this.seenAt.delete(index);
    return seq;
  }

  /** Another entry was applied where `seq` was expected: it is lost. */
  lostAt(seq: number, index: number): void {
    const p = this.pending.get(seq);
    if (p !== undefined) this.settle(p, strataError('ErrLeaderChanged', `another entry committed at ${index}`));
  }

  /** A snapshot up to `index` was installed: proposals seen at or below it lost their results. */
  coveredBy(index: number): void {
    for (const [i, seq] of [...this.seenAt]) {
      if (i > index) continue;
      this.seenAt.delete(i);
      const p = this.pending.get(seq);
      if (p !== undefined) this.settle(p, strataError('ErrLeaderChanged', `entry ${i} covered by a snapshot`));
    }
  }

  /** Per tick: proposals handed to the core but never seen in the log by their deadline are dropped. */
  expire(now: number): void {
    for (let p = this.unseen.peek(); p !== undefined && p.deadline <= now; p = this.unseen.peek()) {
      this.unseen.shift();
      if (!p.d.settled && p.index === 0) {
        this.settle(p, strataError('ErrProposalDropped', 'proposal did not reach the log in time'));
      }
    }
  }

  /** Reject everything (stop). */
  rejectAll(reason: unknown): void {
    this.buf = [];
    this.owners = [];
    for (const p of [...this.pending.values()]) p.d.reject(reason);
    this.pending.clear();
    this.seenAt.clear();
    this.unseen.drain();
  }

  private forget(seq: number): void {
    const p = this.pending.get(seq);
    this.pending.delete(seq);
    if (p !== undefined && p.index > 0 && this.seenAt.get(p.index) === seq) this.seenAt.delete(p.index);
  }
}
