/**
 * RaftNode: the driver that turns the pure Raft core into a running member.
 * It owns the clock (ticks), the Storage (durability), the Transport
 * (messages) and the StateMachine (apply), and runs the classic Ready loop:
 *
 *   persist hard state + entries + snapshot (await Storage.save), while
 *   applying the committed entries that were already durable here
 *   → send messages → restore snapshot / apply the other committed entries
 *   (in batches) → advance.
 *
 * A leader sends its messages before the write (they carry no term change and
 * no commit index that depends on the write); any member forwards proposals
 * and read requests before it, and a follower forwards proposals that arrive
 * while a Ready is handled straight to its leader.
 *
 * Everything that touches the core — inbound messages, ticks, proposals,
 * reads — goes through one inbox, drained before each Ready, so the core is
 * never stepped between `ready()` and `advance()` and many proposals and
 * messages are batched into one Ready and one `save`.
 *
 * A proposal is acknowledged only after its entry was applied locally, which
 * happens only once it is committed (durable on a quorum: followers
 * acknowledge MsgApp only after persisting, a leader counts acknowledgements
 * only after its own write, and this node applies only entries durable here).
 */
import { decode } from '../codec/index.ts';
import { isStrataError, strataError } from '../errors.ts';
import { LogStore, bootstrapSnapshot } from '../raft/log-store.ts';
import { decodeConfChange } from '../raft/confchange.ts';
import { decodeRefusal, encodeRefusal } from '../raft/refusal.ts';
import { RawNode } from '../raft/rawnode.ts';
import type { RaftStatus } from '../raft/rawnode.ts';
import { ConfChangeTransition, ConfChangeType, EntryType, MessageType, StateRole } from '../raft/types.ts';
import type {
  ConfChange,
  ConfChangeSingle,
  ConfState,
  Entry,
  Message,
  NodeId,
  Ready,
  Snapshot,
  SoftState,
} from '../raft/types.ts';
import type { Storage } from '../storage/storage.ts';
import type { Transport } from '../transport/transport.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import { log } from '../util/log.ts';
import { DedupTable } from './dedup.ts';
import { isFrom, payloadOf, readId, seqOf, wrap } from './envelope.ts';
import { TypedEmitter } from './events.ts';
import type { NodeObserver, NodeStatus, ProposeResult, RaftNodeEvents, RaftNodeOptions, ReconfigView, WaitOptions } from './options.ts';
import { Deferred } from './pending.ts';
import { ProposalTracker } from './proposal-tracker.ts';
import type { PendingProposal } from './proposal-tracker.ts';
import { ReadTracker } from './read-tracker.ts';
import { decodeSnapshotData, encodeSnapshotData } from './snapshot-data.ts';
import type { StateMachine } from './state-machine.ts';

interface PendingTransfer {
  readonly to: NodeId;
  readonly d: Deferred<void>;
  readonly deadline: number;
}

const EMPTY = new Uint8Array(0);

/** Wait for both; rethrow the first failure (after both settled, so nothing is left running unobserved). */
async function settleBoth(a: Promise<void>, b: Promise<void>): Promise<void> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
}
const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** A Raft member: the Ready loop around the pure core. See the module doc. */
export class RaftNode<Result = unknown> extends TypedEmitter<RaftNodeEvents> {
  /** This member's id. */
  readonly id: NodeId;

  private readonly storage: Storage;
  private readonly transport: Transport;
  private readonly sm: StateMachine<Result>;
  private readonly clock: Clock;
  private readonly opts: RaftNodeOptions<Result>;
  private readonly electionTick: number;
  private readonly tickMs: number;
  private readonly snapshotCount: number;
  private readonly catchUp: number;
  private readonly proposalTimeout: number;
  private readonly maxApplyLag: number;
  private readonly readTimeout: number;
  private readonly observer: NodeObserver | undefined;
  /** Distinguishes this start from earlier ones of the same member in proposal envelopes. */
  private readonly nonce: number;

  private raw: RawNode | undefined;
  private logStore = new LogStore();
  private started = false;
  private stopped = false;
  private failure: unknown;

  private inbox: Array<() => void> = [];
  private inReady = false;
  private forwardQueued = false;
  private running = false;
  private loopPromise: Promise<void> = Promise.resolve();
  private tickTimer: TimerHandle | undefined;
  private ticks = 0;

  private applied = 0;
  private snapshotIndex = 0;
  /** Bytes of entries applied since the last snapshot, and that snapshot's size (see `snapshotLogBytes`). */
  private appliedBytes = 0;
  private lastSnapshotBytes = 0;
  private readonly snapshotLogBytes: number;
  private snapshotDue = false;
  /** Tick at which each peer was last heard from while this member led (membership checks). */
  private readonly heard = new Map<NodeId, number>();
  /** Tick at which this member last became leader. */
  private leaderSince = 0;
  /** The background save and compaction of the last snapshot taken, while in flight. */
  private snapshotSaving: Promise<void> | undefined;
  private confState: ConfState = bootstrapSnapshot([]).metadata.confState;
  private role: StateRole = StateRole.Follower;
  private leader: NodeId = 0;
  private term = 0;
  private readonly dedup = new DedupTable();
  private readonly addresses = new Map<NodeId, string>();

  private readonly props: ProposalTracker;
  private readonly reads = new ReadTracker((ctx) => this.core().readIndex(ctx));
  private transfers: PendingTransfer[] = [];

  /** Create a member; call {@link start} before anything else. */
  constructor(options: RaftNodeOptions<Result>) {
    super();
    if (!Number.isSafeInteger(options.id) || options.id <= 0) {
      throw strataError('ErrInvalidArgument', `node id must be a positive integer, got ${options.id}`);
    }
    this.id = options.id;
    this.opts = options;
    this.storage = options.storage;
    this.transport = options.transport;
    this.sm = options.stateMachine;
    this.clock = options.clock;
    this.electionTick = options.electionTick ?? 10;
    this.tickMs = options.tickMs ?? 100;
    this.snapshotCount = options.snapshotCount ?? 100_000;
    this.snapshotLogBytes = options.snapshotLogBytes ?? 1024 * 1024 * 1024;
    this.catchUp = options.snapshotCatchUpEntries ?? 5_000;
    this.proposalTimeout = options.requestTimeoutTicks ?? 2 * this.electionTick;
    this.maxApplyLag = options.maxApplyLag ?? 5_000;
    this.readTimeout = options.requestTimeoutTicks ?? 5 * this.electionTick;
    this.observer = options.observer;
    this.nonce = Math.floor(options.rng.next() * 0x1_0000_0000) >>> 0;
    this.props = new ProposalTracker(this.id, this.nonce);
  }

  /**
   * Load storage and join the cluster: restores the latest snapshot into the
   * state machine, rebuilds the in-memory log from hard state / snapshot /
   * entries (committed entries after the snapshot are re-applied), or — for a
   * new cluster — saves the bootstrap snapshot of `peers`. Starts ticking.
   */
  async start(): Promise<void> {
    if (this.started) throw strataError('ErrInvalidArgument', 'node already started');
    this.started = true;
    const st = await this.storage.load();
    const ls = new LogStore();
    const fresh = st.snapshot === undefined && st.entries.length === 0 && st.hardState.term === 0;
    if (st.snapshot !== undefined) {
      ls.applySnapshot(st.snapshot);
      if (st.snapshot.metadata.index > 0 && st.snapshot.data.length > 0) await this.restoreData(st.snapshot);
      this.applied = st.snapshot.metadata.index;
      this.snapshotIndex = st.snapshot.metadata.index;
      this.lastSnapshotBytes = st.snapshot.data.length;
      this.confState = st.snapshot.metadata.confState;
    } else if (fresh && (this.opts.peers?.length ?? 0) > 0) {
      const snap = bootstrapSnapshot(this.opts.peers ?? []);
      await this.storage.save({ snapshot: snap });
      ls.applySnapshot(snap);
      this.confState = snap.metadata.confState;
    }
    if (st.entries.length > 0) ls.append(st.entries);
    ls.setHardState(st.hardState);
    this.logStore = ls;
    this.term = st.hardState.term;
    const o = this.opts;
    this.raw = new RawNode(
      {
        id: this.id,
        rng: o.rng,
        electionTick: this.electionTick,
        heartbeatTick: o.heartbeatTick ?? 1,
        preVote: o.preVote ?? true,
        checkQuorum: o.checkQuorum ?? true,
        ...(o.maxSizePerMsg !== undefined ? { maxSizePerMsg: o.maxSizePerMsg } : {}),
        ...(o.maxInflightMsgs !== undefined ? { maxInflightMsgs: o.maxInflightMsgs } : {}),
        applied: this.applied,
        ...(o.testFaults !== undefined ? { testFaults: { ...o.testFaults } } : {}),
      },
      ls,
    );
    if (this.stopped) return;
    this.transport.onMessage((m) => this.submit(() => this.receive(m)));
    this.transport.onSnapshotStatus?.((peer, ok) => this.submit(() => this.core().reportSnapshot(peer, ok)));
    this.transport.onUnreachable?.((peer) => this.submit(() => this.core().reportUnreachable(peer)));
    this.tickTimer = this.clock.setTimer(this.onTick, this.tickMs);
    log.node('%d started: term %d applied %d last %d', this.id, this.term, this.applied, ls.lastIndex());
    this.kick();
  }

  /**
   * Propose `data`. Resolves with the entry's index, term and the state
   * machine's result once the entry is applied on this member. Rejects with
   * `ErrProposalDropped` (no leader, transfer in progress, or the forwarded
   * proposal never reached the log), `ErrLeaderChanged` (another entry took
   * its place), `ErrStopped`, or `ErrAborted` (signal; the entry may still
   * commit later).
   */
  propose(data: Uint8Array, options: WaitOptions = {}): Promise<ProposeResult<Result>> {
    const p = this.newProposal(options.signal);
    if (p.d.settled) return p.d.promise as Promise<ProposeResult<Result>>;
    this.props.buffer(p, wrap(this.id, this.nonce, p.seq, data));
    if (this.inReady) this.scheduleForward();
    this.kick();
    return p.d.promise as Promise<ProposeResult<Result>>;
  }

  /**
   * Linearizable read barrier (ReadIndex): resolves with the read index once
   * this member has applied at least that far, so local state may be read.
   * Concurrent calls share one round. Rejects with `ErrTimeout`, `ErrStopped`
   * or `ErrAborted`.
   */
  readIndex(options: WaitOptions = {}): Promise<number> {
    const d = new Deferred<number>(options.signal);
    if (this.rejectIfDown(d)) return d.promise;
    this.reads.add(d, this.ticks + this.readTimeout);
    this.submit(() => this.reads.issueRound(this.ticks));
    return d.promise;
  }

  /**
   * Ask the leader to hand leadership to voter `to`; resolves once `to` is
   * the known leader. Rejects with `ErrBadLeaderTransferee` (not a voter),
   * `ErrTimeoutLeaderTransfer`, `ErrStopped` or `ErrAborted`.
   */
  transferLeadership(to: NodeId, options: WaitOptions = {}): Promise<void> {
    const d = new Deferred<void>(options.signal);
    if (this.rejectIfDown(d)) return d.promise;
    if (!this.confState.voters.includes(to)) {
      d.reject(strataError('ErrBadLeaderTransferee', `${to} is not a voter`));
      return d.promise;
    }
    if (this.leader === to) {
      d.resolve();
      return d.promise;
    }
    this.transfers.push({ to, d, deadline: this.ticks + this.proposalTimeout });
    this.submit(() => this.core().transferLeader(to));
    return d.promise;
  }

  /**
   * Add member `id` as a voter (or a learner with `learner: true`). `context`
   * is its peer address (a string) or opaque bytes; a string is handed to
   * every member's `Transport.addPeer`. Resolves with the new configuration
   * once the change is applied here.
   */
  addMember(id: NodeId, options: { learner?: boolean; context?: string | Uint8Array } & WaitOptions = {}): Promise<ConfState> {
    if (this.confState.voters.includes(id) || (this.confState.learners.includes(id) && options.learner === true)) {
      return Promise.reject(strataError('ErrMemberExists', `member ${id} exists`));
    }
    const ctx = typeof options.context === 'string' ? utf8.encode(options.context) : (options.context ?? EMPTY);
    const type = options.learner === true ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode;
    return this.changeConf([{ type, nodeId: id }], ctx, options.signal);
  }

  /**
   * Promote learner `id` to voter, from any member (a follower forwards the
   * change; the leader, which knows how far the learner is, checks it).
   * Rejects with `ErrMemberNotLearner`, or `ErrLearnerNotReady` unless the
   * learner's match index is within `learnerReadyPercent` of the leader's.
   */
  promoteMember(id: NodeId, options: WaitOptions = {}): Promise<ConfState> {
    if (!this.confState.learners.includes(id)) {
      return Promise.reject(strataError('ErrMemberNotLearner', `member ${id} is not a learner`));
    }
    return this.changeConf([{ type: ConfChangeType.AddNode, nodeId: id }], EMPTY, options.signal);
  }

  /** Remove member `id` (voter or learner). Rejects with `ErrMemberNotFound` when it is not one. */
  removeMember(id: NodeId, options: WaitOptions = {}): Promise<ConfState> {
    const cs = this.confState;
    if (!cs.voters.includes(id) && !cs.learners.includes(id) && !cs.votersOutgoing.includes(id)) {
      return Promise.reject(strataError('ErrMemberNotFound', `member ${id} not found`));
    }
    return this.changeConf([{ type: ConfChangeType.RemoveNode, nodeId: id }], EMPTY, options.signal);
  }

  /**
   * Several membership changes at once, through joint consensus when more
   * than one voter changes (C_old,new then C_new; left automatically unless
   * `transition` is `JointExplicit`, in which case call again with no
   * changes to leave). Resolves with the configuration once applied here.
   * Rejects with `ErrConfChangePending` while another change is in flight.
   */
  changeMembership(
    changes: readonly ConfChangeSingle[],
    options: { transition?: ConfChangeTransition; context?: string | Uint8Array } & WaitOptions = {},
  ): Promise<ConfState> {
    const ctx = typeof options.context === 'string' ? utf8.encode(options.context) : (options.context ?? EMPTY);
    return this.changeConf([...changes], ctx, options.signal, options.transition);
  }

  /** A snapshot of this member's view. */
  status(): NodeStatus {
    const st = this.raw?.status();
    return {
      id: this.id,
      role: st?.role ?? this.role,
      term: st?.term ?? this.term,
      leader: st?.lead ?? this.leader,
      commitIndex: st?.commit ?? 0,
      appliedIndex: this.applied,
      lastIndex: st?.lastIndex ?? this.logStore.lastIndex(),
      voters: [...this.confState.voters],
      learners: [...this.confState.learners],
    };
  }

  /** The core's full status (progress per peer on the leader). For tools and the simulator. */
  raftStatus(): RaftStatus | undefined {
    return this.raw?.status();
  }

  /** The core's term, vote, role, leader and commit index, read without building a full status (checkers). */
  coreState(): { term: number; vote: NodeId; role: StateRole; lead: NodeId; commit: number } | undefined {
    const r = this.raw?.raft;
    if (r === undefined) return undefined;
    return { term: r.term, vote: r.vote, role: r.state, lead: r.lead, commit: r.raftLog.committed };
  }

  /** The in-memory log (read-only use: invariant checks). */
  get log(): LogStore {
    return this.logStore;
  }

  /** The commit index as this member knows it (0 before start). */
  get commitIndex(): number {
    return this.raw?.raft.raftLog.committed ?? 0;
  }

  /** Last applied index. */
  get appliedIndex(): number {
    return this.applied;
  }

  /** The configuration as last applied here. */
  get configuration(): ConfState {
    return this.confState;
  }

  /** True once stopped (or failed). */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** The error that stopped the node (a state machine or storage failure), if any. */
  get error(): unknown {
    return this.failure;
  }

  /** True while the Ready loop is running (or scheduled to run). */
  get busy(): boolean {
    return this.running;
  }

  /** Resolves when the Ready loop has nothing left to do right now. */
  idle(): Promise<void> {
    return this.loopPromise;
  }

  /**
   * Stop: no more ticks or messages, every waiting call rejects with
   * `ErrStopped`, then (by default) the transport and storage are closed.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.halt(strataError('ErrStopped', 'node stopped'));
    await this.loopPromise.catch(() => undefined);
    await this.snapshotSaving;
    if (this.opts.closeOnStop ?? true) {
      await this.transport.close();
      await this.storage.close();
    }
  }

  /**
   * Stop at once without waiting for or closing anything — a crashed
   * process (the simulator). Waiting calls reject with `ErrStopped`.
   */
  halt(reason: unknown = strataError('ErrStopped', 'node halted')): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tickTimer !== undefined) this.clock.clearTimer(this.tickTimer);
    this.tickTimer = undefined;
    this.inbox = [];
    this.transport.onMessage(() => undefined);
    this.props.rejectAll(reason);
    this.reads.rejectAll(reason);
    for (const t of this.transfers) t.d.reject(reason);
    this.transfers = [];
  }

  // ---------------------------------------------------------------- internals

  private core(): RawNode {
    if (this.raw === undefined) throw strataError('ErrStopped', 'node not started');
    return this.raw;
  }

  private rejectIfDown<T>(d: Deferred<T>): boolean {
    if (!this.started || this.raw === undefined) return d.reject(strataError('ErrStopped', 'node not started'));
    if (this.stopped) return d.reject(this.failure ?? strataError('ErrStopped', 'node stopped'));
    return d.settled;
  }

  private newProposal(signal: AbortSignal | undefined): PendingProposal {
    const p = this.props.create(signal, this.ticks + this.proposalTimeout);
    if (this.rejectIfDown(p.d)) return p;
    const lag = this.commitIndex - this.applied;
    if (lag > this.maxApplyLag) {
      p.d.reject(strataError('ErrTooManyRequests', `too many requests: applied index trails the commit index by ${lag} entries`, { lag }));
      return p;
    }
    this.props.register(p);
    return p;
  }

  private changeConf(
    changes: ConfChangeSingle[],
    ctx: Uint8Array,
    signal: AbortSignal | undefined,
    transition: ConfChangeTransition = ConfChangeTransition.Auto,
  ): Promise<ConfState> {
    const p = this.newProposal(signal);
    const cc: ConfChange = { transition, changes, context: wrap(this.id, this.nonce, p.seq, ctx) };
    this.submit(() => {
      if (p.d.settled) return;
      try {
        const refusal = this.core().raft.state === StateRole.Leader ? this.reconfigRefusal(cc.changes) : undefined;
        if (refusal !== undefined) throw refusal;
        this.core().proposeConfChange(cc);
        this.props.proposed(p);
      } catch (err) {
        this.props.settle(p, err);
      }
    });
    return p.d.promise.then((r) => r.result as ConfState);
  }

  /** A message from the transport: membership checks and refusals are the driver's; the rest goes to the core. */
  private receive(m: Message): void {
    if (m.type === MessageType.MsgPropReject) {
      this.onRefused(m);
      return;
    }
    const raw = this.core();
    const leading = raw.raft.state === StateRole.Leader;
    // Only the leader's membership checks use it (a new leader has a grace period).
    if (leading) this.heard.set(m.from, this.ticks);
    if (leading && m.type === MessageType.MsgProp && m.entries.some((e) => e.type === EntryType.ConfChange)) {
      const entries = m.entries.filter((e) => e.type !== EntryType.ConfChange || this.admitForwarded(m.from, e));
      if (entries.length === 0) return;
      m = { ...m, entries };
    }
    raw.step(m);
  }

  /** Check a forwarded conf change; a refused one is answered with MsgPropReject and dropped. */
  private admitForwarded(from: NodeId, e: Entry): boolean {
    const cc = decodeConfChange(e.data);
    if (cc === undefined) return true; // the core refuses it
    const refusal = this.reconfigRefusal(cc.changes);
    if (refusal === undefined) return true;
    log.node('%d refused a conf change from %d: %s', this.id, from, refusal.message);
    this.transport.send([
      {
        type: MessageType.MsgPropReject, from: this.id, to: from, term: 0, logTerm: 0, index: 0,
        entries: [e], commit: 0, reject: true, rejectHint: 0, context: encodeRefusal(refusal),
      },
    ]);
    return false;
  }

  /** The leader refused a conf change we forwarded: fail its caller with the leader's error. */
  private onRefused(m: Message): void {
    const e = m.entries[0];
    if (e === undefined || e.type !== EntryType.ConfChange) return;
    const ctx = decodeConfChange(e.data)?.context;
    if (ctx === undefined || !isFrom(ctx, this.id, this.nonce)) return;
    const p = this.props.get(seqOf(ctx));
    if (p !== undefined) this.props.settle(p, decodeRefusal(m.context));
  }

  /**
   * On the leader: why a membership change must not enter the log, or
   * undefined. A learner is promoted only once its match index is within
   * `learnerReadyPercent` of the leader's last index (etcd's rule); then the
   * user's {@link RaftNodeOptions.reconfigCheck}.
   */
  private reconfigRefusal(changes: readonly ConfChangeSingle[]): Error | undefined {
    const st = this.core().status();
    for (const ch of changes) {
      if (ch.type !== ConfChangeType.AddNode || !this.confState.learners.includes(ch.nodeId)) continue;
      const match = st.progress.get(ch.nodeId)?.match ?? 0;
      if (match < (this.opts.learnerReadyPercent ?? 0.9) * st.lastIndex) {
        return strataError('ErrLearnerNotReady', `learner ${ch.nodeId} at ${match}, leader at ${st.lastIndex}`);
      }
    }
    const check = this.opts.reconfigCheck;
    if (check === undefined) return undefined;
    const cs = this.confState;
    const recent = this.ticks - this.electionTick;
    // Just after an election a peer may not have answered yet: for one election
    // timeout, one never heard from gets the benefit of the doubt.
    const grace = this.ticks - this.leaderSince < this.electionTick;
    const view: ReconfigView = {
      self: this.id,
      voters: [...new Set([...cs.voters, ...cs.votersOutgoing])],
      learners: [...cs.learners],
      isActive: (id) => id === this.id || (this.heard.get(id) ?? -Infinity) >= recent || (grace && !this.heard.has(id)),
      isStarted: (id) => id === this.id || this.heard.has(id) || (st.progress.get(id)?.match ?? 0) > 0 || grace,
    };
    return check(changes, view);
  }

  /**
   * While a Ready is being handled (the core cannot be stepped), a follower
   * that knows its leader forwards buffered proposals itself, as the core
   * would: one MsgProp (term 0, carrying no promise) with the enveloped
   * entries. Batched per microtask; the tracker then expects them in the log
   * by their deadline, exactly as after `proposeBatch`.
   */
  private scheduleForward(): void {
    if (this.forwardQueued) return;
    this.forwardQueued = true;
    queueMicrotask(() => {
      this.forwardQueued = false;
      const lead = this.leader;
      if (!this.inReady || this.stopped || this.role !== StateRole.Follower || lead === 0 || lead === this.id) return;
      if (!this.props.hasBuffered) return;
      this.props.flush((data) => {
        const entries: Entry[] = data.map((d) => ({ term: 0, index: 0, type: EntryType.Normal, data: d }));
        this.transport.send([
          { type: MessageType.MsgProp, from: this.id, to: lead, term: 0, logTerm: 0, index: 0, entries, commit: 0, reject: false, rejectHint: 0 },
        ]);
      });
    });
  }

  /** Run `op` against the core now, or after the outstanding Ready when one is being handled. */
  private submit(op: () => void): void {
    if (this.stopped || this.raw === undefined) return;
    if (this.inReady || this.inbox.length > 0) this.inbox.push(op);
    else this.runOp(op);
    this.kick();
  }

  private runOp(op: () => void): void {
    try {
      op();
    } catch (err) {
      // The core never throws for remote input; a throw here is a local misuse.
      log.node('%d: op failed: %O', this.id, err);
    }
  }

  private kick(): void {
    if (this.running || this.stopped || this.raw === undefined) return;
    this.running = true;
    this.loopPromise = Promise.resolve().then(() => this.loop());
  }

  private readonly onTick = (): void => {
    if (this.stopped) return;
    this.tickTimer = this.clock.setTimer(this.onTick, this.tickMs);
    this.submit(() => {
      this.ticks++;
      this.core().tick();
      this.checkDeadlines();
    });
  };

  private async loop(): Promise<void> {
    try {
      for (;;) {
        if (this.stopped) return;
        const ops = this.inbox;
        if (ops.length > 0) {
          this.inbox = [];
          for (const op of ops) this.runOp(op);
        }
        const raw = this.core();
        if (this.props.hasBuffered) this.props.flush((data) => raw.proposeBatch(data));
        if (!raw.hasReady()) return;
        this.inReady = true;
        await this.handleReady(raw, raw.ready());
        if (this.stopped) return;
        raw.advance();
        this.inReady = false;
        if (this.snapshotWanted() && this.snapshotSaving === undefined) {
          this.snapshotDue = false;
          await this.takeSnapshot();
        }
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.inReady = false;
      this.running = false;
    }
  }

  private fail(err: unknown): void {
    if (this.stopped) return;
    log.node('%d: fatal: %O', this.id, err);
    this.failure = err;
    this.halt(err);
  }

  private async handleReady(raw: RawNode, rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.onSoftState(rd.softState);
    const snap = rd.snapshot !== undefined && rd.snapshot.metadata.index > 0 ? rd.snapshot : undefined;
    // A leader may replicate in parallel with its own write (etcd does): its
    // messages carry no vote or term change, and a commit index that depends on
    // these entries can only go out in a later Ready, after this write is durable.
    // Any member may forward proposals and read requests at once: they carry
    // no term (term 0, local at the leader), vote or log promise.
    const early =
      this.role === StateRole.Leader && rd.messages.length > 0 && (rd.hardState === undefined || rd.hardState.term === this.term);
    let late: readonly Message[] = rd.messages;
    if (early) this.sendMessages(raw, rd.messages);
    else if (rd.messages.length > 0) {
      const now: Message[] = [];
      const rest: Message[] = [];
      for (const m of rd.messages) {
        if (m.term === 0 && (m.type === MessageType.MsgProp || m.type === MessageType.MsgReadIndex)) now.push(m);
        else rest.push(m);
      }
      late = rest;
      if (now.length > 0) this.transport.send(now);
    }
    let committed = rd.committedEntries;
    // An installed snapshot is saved only after our own (older) one is: saves
    // then reach the storage in snapshot order.
    if (snap !== undefined && this.snapshotSaving !== undefined) await this.snapshotSaving;
    if (this.stopped) return;
    if (rd.hardState !== undefined || rd.entries.length > 0 || snap !== undefined) {
      const saving = this.storage.save({
        ...(rd.hardState !== undefined ? { hardState: rd.hardState } : {}),
        ...(rd.entries.length > 0 ? { entries: rd.entries } : {}),
        ...(snap !== undefined ? { snapshot: snap } : {}),
        ...(rd.mustSync ? {} : { sync: false }),
      });
      // Apply while writing (as etcd does) the committed entries that were
      // already durable here before this Ready and are not rewritten by it:
      // committed means durable on a quorum, and proposals still resolve only
      // once applied. Stops before a conf change (applied after the write, as
      // before) and when a snapshot is being installed.
      const k = snap === undefined ? this.durablePrefix(committed, rd.entries) : 0;
      if (k > 0) {
        const early = k === committed.length ? committed : committed.slice(0, k);
        committed = k === committed.length ? [] : committed.slice(k);
        await settleBoth(saving, this.applyCommitted(early));
      } else {
        await saving;
      }
      if (this.stopped) return;
      if (snap !== undefined) this.logStore.applySnapshot(snap);
      if (rd.entries.length > 0) this.logStore.append(rd.entries);
      if (rd.hardState !== undefined) {
        this.logStore.setHardState(rd.hardState);
        this.term = rd.hardState.term;
      }
      this.observer?.persisted?.(this.id, rd.hardState, rd.entries, snap);
      if (rd.entries.length > 0) this.props.noteEntries(rd.entries);
    }
    if (!early && late.length > 0) this.sendMessages(raw, late);
    if (snap !== undefined && snap.metadata.index > this.applied) await this.installSnapshot(snap);
    if (committed.length > 0 && !this.stopped) await this.applyCommitted(committed);
    if (rd.readStates.length > 0 && this.reads.onReadStates(rd.readStates)) {
      this.inbox.push(() => this.reads.issueRound(this.ticks));
    }
    this.reads.resolve(this.applied);
  }

  /**
   * How many leading `committed` entries may be applied while this Ready's
   * write is in flight: normal entries already in the local (persisted) log
   * and below the first index `entries` (re)writes.
   */
  private durablePrefix(committed: readonly Entry[], entries: readonly Entry[]): number {
    let stable = this.logStore.lastIndex();
    const first = entries[0];
    if (first !== undefined) stable = Math.min(stable, first.index - 1);
    let k = 0;
    while (k < committed.length) {
      const e = committed[k] as Entry;
      if (e.index > stable || e.type === EntryType.ConfChange) break;
      k++;
    }
    return k;
  }

  private sendMessages(raw: RawNode, messages: readonly Message[]): void {
    this.transport.send(messages);
    if (this.transport.onSnapshotStatus === undefined) {
      // Without transport feedback, report a sent snapshot as delivered so the
      // follower's progress leaves the snapshot state (a loss is then probed).
      for (const m of messages) if (m.snapshot !== undefined) this.inbox.push(() => raw.reportSnapshot(m.to, true));
    }
  }

  private onSoftState(ss: SoftState): void {
    const roleChanged = ss.role !== this.role;
    const leaderChanged = ss.lead !== this.leader;
    this.role = ss.role;
    this.leader = ss.lead;
    if (roleChanged && ss.role === StateRole.Leader) this.leaderSince = this.ticks;
    if (roleChanged) this.emit('roleChange', ss.role);
    if (leaderChanged) {
      const term = this.raw?.status().term ?? this.term;
      this.emit('leaderChange', ss.lead, term);
      this.transfers = this.transfers.filter((t) => !(t.to === ss.lead && t.d.resolve()));
      // A read round sent to the old leader may never be answered: re-issue it.
      if (this.reads.onLeaderChange(ss.lead !== 0)) this.inbox.push(() => this.reads.issueRound(this.ticks));
    }
  }

  private async applyCommitted(entries: readonly Entry[]): Promise<void> {
    let batch: Entry[] = [];
    let owners: Array<PendingProposal | undefined> = [];
    let done: Entry[] = [];
    let last = this.applied;
    // Observers hear about applied entries before any proposal among them resolves.
    const notify = (): void => {
      this.applied = last;
      if (done.length > 0) this.observer?.applied?.(this.id, done);
      done = [];
    };
    const flush = async (): Promise<void> => {
      if (batch.length > 0) {
        const b = batch;
        const o = owners;
        batch = [];
        owners = [];
        const results = await this.sm.apply(b);
        if (this.stopped) return;
        notify();
        for (let i = 0; i < b.length; i++) {
          const p = o[i];
          const e = b[i] as Entry;
          if (p !== undefined) this.props.settle(p, undefined, { index: e.index, term: e.term, result: results[i] });
        }
      } else {
        notify();
      }
    };
    for (const e of entries) {
      if (e.index <= last) continue;
      const expected = this.props.takeExpected(e.index);
      if (e.type === EntryType.ConfChange) {
        await flush();
        if (this.stopped) return;
        const settle = this.applyConfEntry(e, expected);
        // Snapshot right after a membership change, so a member that joins sees
        // itself in the snapshot it is sent (an older one would be ignored).
        this.snapshotDue = true;
        last = e.index;
        done.push(e);
        notify();
        settle?.();
        continue;
      }
      last = e.index;
      done.push(e);
      this.appliedBytes += e.data.length;
      const id = e.data.length > 0 ? readId(e.data) : undefined;
      const mine = id !== undefined && id.proposer === this.id && id.nonce === this.nonce;
      if (expected !== undefined && !(mine && id.seq === expected)) this.props.lostAt(expected, e.index);
      if (e.data.length === 0) continue; // the leader's no-op
      if (id !== undefined && !this.dedup.admit(id.proposer, id.nonce, id.seq, e.index)) continue; // duplicate
      batch.push(id === undefined ? e : { term: e.term, index: e.index, type: e.type, data: payloadOf(e.data) });
      owners.push(mine ? this.props.get(id.seq) : undefined);
    }
    await flush();
  }

  /** Apply a conf change entry; returns how to settle its proposal (run after observers heard of it). */
  private applyConfEntry(e: Entry, expected: number | undefined): (() => void) | undefined {
    const cc = decode<ConfChange>(e.data);
    const ctx = cc.context;
    const mine = ctx !== undefined && isFrom(ctx, this.id, this.nonce);
    const seq = mine ? seqOf(ctx) : -1;
    if (expected !== undefined && expected !== seq) this.props.lostAt(expected, e.index);
    const p = mine ? this.props.get(seq) : undefined;
    let cs: ConfState;
    try {
      cs = this.core().applyConfChange(cc);
    } catch (err) {
      log.node('%d: conf change at %d refused: %O', this.id, e.index, err);
      return p === undefined ? undefined : () => this.props.settle(p, err);
    }
    this.confState = cs;
    const address = ctx !== undefined ? utf8d.decode(payloadOf(ctx)) : '';
    for (const ch of cc.changes) {
      if (ch.type === ConfChangeType.RemoveNode) {
        this.addresses.delete(ch.nodeId);
        if (ch.nodeId === this.id) this.emit('removed');
        else this.transport.removePeer(ch.nodeId);
      } else if (ch.nodeId !== this.id) {
        if (address.length > 0) this.addresses.set(ch.nodeId, address);
        this.transport.addPeer(ch.nodeId, address || (this.addresses.get(ch.nodeId) ?? ''));
      }
    }
    return p === undefined ? undefined : () => this.props.settle(p, undefined, { index: e.index, term: e.term, result: cs });
  }

  private async installSnapshot(snap: Snapshot): Promise<void> {
    await this.restoreData(snap);
    if (this.stopped) return;
    this.applied = snap.metadata.index;
    this.snapshotIndex = snap.metadata.index;
    this.appliedBytes = 0;
    this.lastSnapshotBytes = snap.data.length;
    this.confState = snap.metadata.confState;
    this.props.coveredBy(snap.metadata.index);
    this.observer?.restored?.(this.id, snap);
    log.node('%d installed snapshot at %d', this.id, snap.metadata.index);
  }

  private async restoreData(snap: Snapshot): Promise<void> {
    const doc = decodeSnapshotData(snap.data);
    await this.sm.restore(doc.a);
    this.dedup.load(doc.d);
    this.addresses.clear();
    for (const [id, addr] of doc.m) {
      this.addresses.set(id, addr);
      if (id !== this.id) this.transport.addPeer(id, addr);
    }
  }

  /**
   * Time for a snapshot: after a membership change, every `snapshotCount`
   * applied entries, or once the entries applied since the last one (held in
   * memory until then) outweigh both `snapshotLogBytes` and the last
   * snapshot — batched entries can be large, and comparing with the last
   * snapshot keeps snapshot work proportional to the data written.
   */
  private snapshotWanted(): boolean {
    return (
      this.snapshotDue ||
      this.applied - this.snapshotIndex >= this.snapshotCount ||
      this.appliedBytes >= Math.max(this.snapshotLogBytes, this.lastSnapshotBytes)
    );
  }

  /**
   * Take a snapshot of the applied state in the loop (the state machine sees
   * no apply meanwhile) and compact the in-memory log behind it at once — a
   * joining member must be sent this snapshot, never entry 1 (the initial
   * configuration lives only in the bootstrap snapshot). Saving it and
   * compacting the storage happen in the background while the loop goes on,
   * as in etcd: a big snapshot must not hold up replication and client writes
   * while it is written. Until the save is durable, storage keeps the
   * previous snapshot and the whole log, so a crash loses nothing.
   */
  private async takeSnapshot(): Promise<void> {
    const index = this.applied;
    const d = this.dedup.toRecords();
    const m = [...this.addresses].sort((a, b) => a[0] - b[0]);
    const appData = await this.sm.snapshot();
    if (this.stopped || index <= this.logStore.snapshot().metadata.index) return;
    const snap = this.logStore.createSnapshot(index, this.confState, encodeSnapshotData(d, m, appData));
    this.snapshotIndex = index;
    this.appliedBytes = 0;
    this.lastSnapshotBytes = snap.data.length;
    // Keep a margin for slow followers, but never the very first entries.
    const compactTo = Math.max(1, index - this.catchUp);
    if (compactTo >= this.logStore.firstIndex()) this.logStore.compact(compactTo);
    log.node('%d snapshot at %d, log from %d', this.id, index, this.logStore.firstIndex());
    this.snapshotSaving = this.storage.save({ snapshot: snap }).then(
      async () => {
        if (!this.stopped) await this.storage.compact(index);
      },
    ).then(
      () => {
        this.snapshotSaving = undefined;
      },
      (err: unknown) => {
        this.snapshotSaving = undefined;
        if (!isStrataError(err, 'ErrCompacted')) this.fail(err);
      },
    );
  }

  /** Per-tick expiry of forwarded proposals never seen, read rounds, and transfers. */
  private checkDeadlines(): void {
    const now = this.ticks;
    this.props.expire(now);
    this.reads.tick(now, this.electionTick);
    if (this.transfers.length > 0) {
      this.transfers = this.transfers.filter(
        (t) => !(t.deadline <= now && t.d.reject(strataError('ErrTimeoutLeaderTransfer', 'leader transfer timed out'))) && !t.d.settled,
      );
    }
  }
}
