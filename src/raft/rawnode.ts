/**
 * The driver-facing surface of the Raft core, as etcd-io/raft's `RawNode`
 * with classic Ready/Advance: the driver feeds ticks, messages and requests
 * in, collects a {@link Ready} (state to persist, messages to send, entries
 * to apply), does the work, and calls {@link RawNode.advance}.
 */
import { encode } from '../codec/index.ts';
import { isStrataError, strataError } from '../errors.ts';
import { log } from '../util/log.ts';
import type { RaftConfig } from './config.ts';
import type { LogStore } from './log-store.ts';
import { Raft } from './raft.ts';
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  ProgressStateName,
  Ready,
  Snapshot,
  SoftState,
  StateRole,
} from './types.ts';
import { EntryType, MessageType, NONE } from './types.ts';

export type { RaftConfig } from './config.ts';

/** A snapshot of the node's Raft state, for monitoring and tests. */
export interface RaftStatus {
  id: NodeId;
  term: number;
  vote: NodeId;
  commit: number;
  applied: number;
  lead: NodeId;
  role: StateRole;
  lastIndex: number;
  firstIndex: number;
  config: { voters: NodeId[]; votersOutgoing: NodeId[]; learners: NodeId[]; learnersNext: NodeId[] };
  /** Leader only: per-peer replication progress. */
  progress: Map<NodeId, { match: number; next: number; state: ProgressStateName; recentActive: boolean; isLearner: boolean }>;
  /** Target of an ongoing leader transfer, 0 if none. */
  leadTransferee: NodeId;
}

const NO_ENTRIES: readonly Entry[] = Object.freeze([]) as readonly Entry[];

function isLocalMsg(t: MessageType): boolean {
  return (
    t === MessageType.MsgHup ||
    t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum
  );
}

function isResponseMsg(t: MessageType): boolean {
  return (
    t === MessageType.MsgAppResp ||
    t === MessageType.MsgVoteResp ||
    t === MessageType.MsgHeartbeatResp ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgPreVoteResp
  );
}

const isCount = (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** Structural sanity of a remote message; malformed ones are dropped. */
function wellFormed(m: Message): boolean {
  if (m === null || typeof m !== 'object') return false;
  if (!isCount(m.term) || !isCount(m.index) || !isCount(m.logTerm) || !isCount(m.commit) || !isCount(m.from)) return false;
  if (!Array.isArray(m.entries)) return false;
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i]!;
    if (e === null || typeof e !== 'object' || !(e.data instanceof Uint8Array)) return false;
    if (m.type === MessageType.MsgApp && (e.index !== m.index + 1 + i || !isCount(e.term))) return false;
  }
  return true;
}

/** Bookkeeping of the Ready handed out and not yet advanced. */
interface PendingReady {
  lastEntry: { index: number; term: number } | undefined;
  snapshot: Snapshot | undefined;
  hardState: HardState | undefined;
  appliedTo: number;
}

/** The Raft core for one node. Not thread-safe; one driver calls it. */
export class RawNode {
  /** The underlying state machine (exposed for tests and the simulator). */
  readonly raft: Raft;
  private readonly store: LogStore;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private pending: PendingReady | undefined = undefined;
  /** Entries of the outstanding Ready, appended to the LogStore by advance(). */
  private pendingEntries: readonly Entry[] = NO_ENTRIES;

  /** State (term, vote, commit, config) is restored from `log.initialState()`. */
  constructor(config: RaftConfig, log: LogStore) {
    this.store = log;
    this.raft = new Raft(config, log);
    this.prevSoft = this.raft.softState();
    this.prevHard = this.raft.hardState();
  }

  /** Advance logical time by one tick. */
  tick(): void {
    this.raft.tick();
  }

  /**
   * Feed a message from the network. Messages for other terms are handled
   * per Raft; local-only and malformed messages, and responses from unknown
   * peers, are dropped. Never throws for remote input.
   */
  step(msg: Message): void {
    if (isLocalMsg(msg.type)) return;
    if (!wellFormed(msg)) {
      log.raft('%d dropping malformed message type %s from %s', this.raft.id, msg.type, msg.from);
      return;
    }
    if (isResponseMsg(msg.type) && !this.raft.trk.progress.has(msg.from)) return;
    try {
      this.raft.step(msg);
    } catch (err) {
      if (!isStrataError(err)) throw err;
      log.raft('%d dropped %s from %d: %s', this.raft.id, msg.type, msg.from, err.message);
    }
  }

  /**
   * Propose data. Throws ErrProposalDropped when there is no leader or a
   * leader transfer is in progress. A follower forwards it to the leader (no
   * guarantee it commits: watch the applied entries).
   */
  propose(data: Uint8Array): void {
    this.stepProp({ term: 0, index: 0, type: EntryType.Normal, data });
  }

  /**
   * Propose a membership change. On the leader throws ErrConfChangePending
   * if an earlier one is not yet applied, ErrInvalidArgument if it cannot
   * apply to the current config; ErrProposalDropped as for {@link propose}.
   */
  proposeConfChange(cc: ConfChange): void {
    this.stepProp({ term: 0, index: 0, type: EntryType.ConfChange, data: encode(cc) });
  }

  /**
   * Propose several data items at once (one MsgProp): cheaper than calling
   * {@link propose} for each. All or none are accepted.
   */
  proposeBatch(data: readonly Uint8Array[]): void {
    if (data.length === 0) return;
    const ents: Entry[] = new Array<Entry>(data.length);
    for (let i = 0; i < data.length; i++) ents[i] = { term: 0, index: 0, type: EntryType.Normal, data: data[i]! };
    this.stepProps(ents);
  }

  private stepProp(e: Entry): void {
    this.stepProps([e]);
  }

  private stepProps(entries: Entry[]): void {
    this.raft.step({
      type: MessageType.MsgProp,
      from: this.raft.id,
      to: NONE,
      term: 0,
      logTerm: 0,
      index: 0,
      entries,
      commit: 0,
      reject: false,
      rejectHint: 0,
    });
  }

  private stepLocal(type: MessageType, from: NodeId, extra: Partial<Message> = {}): void {
    this.raft.step({
      type,
      from,
      to: this.raft.id,
      term: 0,
      logTerm: 0,
      index: 0,
      entries: NO_ENTRIES,
      commit: 0,
      reject: false,
      rejectHint: 0,
      ...extra,
    });
  }

  /**
   * Apply a committed ConfChange entry's change; returns the new ConfState.
   * A change that cannot apply (validated on proposal, so only after a
   * config race) is ignored, identically on every node, and the current
   * ConfState is returned. Also records it in the LogStore.
   */
  applyConfChange(cc: ConfChange): ConfState {
    let cs: ConfState;
    try {
      cs = this.raft.applyConfChange(cc);
    } catch (err) {
      if (!isStrataError(err)) throw err;
      log.raft('%d ignoring conf change: %s', this.raft.id, err.message);
      cs = this.raft.trk.confState();
    }
    this.store.setConfState(cs);
    return cs;
  }

  /**
   * Request a linearizable read; a ReadState with `ctx` appears in a later
   * Ready. A follower forwards it to the leader; without a leader it is
   * dropped silently (as etcd does: the caller times out and retries).
   * `ctx` must be non-empty and unique among pending reads.
   */
  readIndex(ctx: Uint8Array): void {
    if (ctx.length === 0) throw strataError('ErrInvalidArgument', 'read index context must be non-empty');
    this.stepLocal(MessageType.MsgReadIndex, this.raft.id, { context: ctx });
  }

  /** Ask the leader (this node or, forwarded, the current one) to hand leadership to `to`. */
  transferLeader(to: NodeId): void {
    this.stepLocal(MessageType.MsgTransferLeader, to);
  }

  /** Start an election now (pre-vote first if enabled). */
  campaign(): void {
    this.stepLocal(MessageType.MsgHup, this.raft.id);
  }

  /** The transport could not reach `id`: stop streaming to it optimistically. */
  reportUnreachable(id: NodeId): void {
    this.stepLocal(MessageType.MsgUnreachable, id);
  }

  /** Outcome of sending a snapshot to `id`. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.stepLocal(MessageType.MsgSnapStatus, id, { reject: !ok });
  }

  private hardStateChanged(hs: HardState): boolean {
    const p = this.prevHard;
    return hs.term !== p.term || hs.vote !== p.vote || hs.commit !== p.commit;
  }

  /** True if {@link ready} would return any work. */
  hasReady(): boolean {
    const r = this.raft;
    r.flushAppends();
    if (r.lead !== this.prevSoft.lead || r.state !== this.prevSoft.role) return true;
    if (r.term !== this.prevHard.term || r.vote !== this.prevHard.vote || r.raftLog.committed !== this.prevHard.commit) return true;
    const u = r.raftLog.unstable;
    if (u.nextSnapshot() !== undefined) return true;
    if (u.offsetInProgress < u.offset + u.entries.length) return true;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    return r.raftLog.hasNextCommittedEnts();
  }

  /**
   * Collect outstanding work. The driver must persist (hardState, entries,
   * snapshot), then send messages, apply the snapshot and committedEntries,
   * then call {@link advance}. Throws if the previous Ready was not advanced.
   */
  ready(): Ready {
    if (this.pending !== undefined) throw strataError('ErrInvalidArgument', 'ready() called before advance()');
    const r = this.raft;
    r.flushAppends();
    const rl = r.raftLog;
    const entries = rl.unstable.nextEntries();
    const snapshot = rl.unstable.nextSnapshot();
    const committedEntries = rl.nextCommittedEnts();
    const soft = r.softState();
    const hard = r.hardState();
    const softChanged = soft.lead !== this.prevSoft.lead || soft.role !== this.prevSoft.role;
    const hardChanged = this.hardStateChanged(hard);
    const mustSync = entries.length > 0 || snapshot !== undefined || hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote;
    // One object shape for every Ready (absent parts are undefined).
    const rd: Ready = {
      softState: softChanged ? soft : undefined,
      hardState: hardChanged ? hard : undefined,
      entries,
      snapshot,
      committedEntries,
      messages: r.msgs,
      readStates: r.readStates,
      mustSync,
    };
    // Accept the Ready: nothing in it is reported again.
    if (softChanged) this.prevSoft = soft;
    if (hardChanged) this.prevHard = hard;
    r.msgs = [];
    r.readStates = [];
    rl.unstable.acceptInProgress();
    const last = entries.length > 0 ? entries[entries.length - 1]! : undefined;
    const appliedTo = committedEntries.length > 0 ? committedEntries[committedEntries.length - 1]!.index : 0;
    if (appliedTo > 0) rl.applying = appliedTo;
    this.pending = {
      lastEntry: last === undefined ? undefined : { index: last.index, term: last.term },
      snapshot,
      hardState: hardChanged ? hard : undefined,
      appliedTo,
    };
    // Keep the entry list for the LogStore sync in advance().
    this.pendingEntries = entries;
    return rd;
  }

  /**
   * The last Ready was handled. Records its snapshot, entries and hard state
   * in the LogStore (idempotent: a driver that already did, as with etcd's
   * MemoryStorage, loses nothing), marks them stable, and marks its
   * committed entries applied. A leader in an auto-leave joint config may
   * propose leaving it here.
   */
  advance(): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    const entries = this.pendingEntries;
    this.pendingEntries = NO_ENTRIES;
    const r = this.raft;
    const rl = r.raftLog;
    const store = this.store;
    if (p.snapshot !== undefined) {
      const si = p.snapshot.metadata.index;
      const cur = store.snapshot().metadata.index;
      // Idempotent; an index-0 (bootstrap) snapshot applies to an empty store.
      if (cur < si || (cur === si && store.lastIndex() === si)) store.applySnapshot(p.snapshot);
      rl.stableSnapTo(p.snapshot.metadata.index);
      r.appliedTo(p.snapshot.metadata.index);
    }
    if (p.lastEntry !== undefined) {
      const li = p.lastEntry.index;
      let present = false;
      if (store.lastIndex() >= li && li >= store.firstIndex()) {
        try {
          present = store.term(li) === p.lastEntry.term && store.lastIndex() === li;
        } catch {
          present = false;
        }
      }
      if (!present) store.append(entries);
      rl.stableTo(li, p.lastEntry.term);
    }
    if (p.hardState !== undefined) store.setHardState(p.hardState);
    if (p.appliedTo > 0) r.appliedTo(p.appliedTo);
  }

  /** Current state, for monitoring and tests. */
  status(): RaftStatus {
    const r = this.raft;
    const cs = r.trk.confState();
    const progress: RaftStatus['progress'] = new Map();
    if (r.state === 'leader') {
      for (const [id, pr] of r.trk.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive, isLearner: pr.isLearner });
      }
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.raftLog.committed,
      applied: r.raftLog.applied,
      lead: r.lead,
      role: r.state,
      lastIndex: r.raftLog.lastIndex(),
      firstIndex: r.raftLog.firstIndex(),
      config: { voters: [...cs.voters], votersOutgoing: [...cs.votersOutgoing], learners: [...cs.learners], learnersNext: [...cs.learnersNext] },
      progress,
      leadTransferee: r.leadTransferee,
    };
  }
}
