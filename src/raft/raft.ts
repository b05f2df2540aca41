/**
 * The Raft state machine, as etcd-io/raft's `raft` struct: roles, terms,
 * votes, elections (with pre-vote and check-quorum), and the glue between
 * the log, the progress tracker and the role-specific step functions
 * (`step-leader.ts`, `step-follower.ts`) and replication (`replication.ts`).
 * Pure: time is `tick()`, randomness is the injected rng, output is queued
 * in `msgs` / `readStates` for the driver to collect.
 */
import { isStrataError, strataError } from '../errors.ts';
import { log } from '../util/log.ts';
import type { Random } from '../util/rng.ts';
import type { RaftConfig } from './config.ts';
import { RAFT_DEFAULTS } from './config.ts';
import type { ConfigAndProgress } from './confchange.ts';
import { Changer, LEAVE_JOINT_DATA, restoreConfig } from './confchange.ts';
import { RaftLog } from './log.ts';
import type { LogStore } from './log-store.ts';
import type { Progress } from './progress.ts';
import { ProgressTracker } from './progress-tracker.ts';
import { ReadOnly } from './read-only.ts';
import { commitHint, hup, inLease, maybeCommitFromHint, stepVoteRequest } from './election.ts';
import { bcastAppend, maybeSendAppend, sendAppend } from './replication.ts';
import { stepCandidate, stepFollower } from './step-follower.ts';
import { sendTimeoutNow, stepLeader } from './step-leader.ts';
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, ReadState, Snapshot, SoftState } from './types.ts';
import { EntryType, MessageType, NONE, StateRole } from './types.ts';

/** A message under construction: `type` and `to` required, the rest defaults. */
export type MessageInit = Partial<Message> & Pick<Message, 'type' | 'to'>;

const NO_ENTRIES: readonly Entry[] = Object.freeze([]) as readonly Entry[];
const EMPTY_DATA = new Uint8Array(0);

/** Kinds of campaign. */
export type CampaignType = 'pre-election' | 'election' | 'transfer';


/** One Raft peer's protocol state. */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  readonly maxMsgSize: number;
  trk: ProgressTracker;
  state: StateRole = StateRole.Follower;
  /** This node is a learner in the current configuration. */
  isLearner = false;
  /** Outgoing messages, collected by the driver through Ready. */
  msgs: Message[] = [];
  lead: NodeId = NONE;
  /** Target of an ongoing leader transfer (leader only), or NONE. */
  leadTransferee: NodeId = NONE;
  /** Index of the latest conf change the leader appended; no new one until it is applied. */
  pendingConfIndex = 0;
  readOnly = new ReadOnly();
  /** Ticks since the last election timeout reset (leader: since the last check-quorum). */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  /** Randomised in [electionTimeout, 2·electionTimeout) on every reset. */
  randomizedElectionTimeout = 0;
  /**
   * Proposals were appended but not yet broadcast. Broadcasting is deferred
   * to the next Ready so that every proposal between two Readies travels in
   * one MsgApp per follower.
   */
  pendingBcast = false;
  /** The commit index advanced since the last broadcast: send even empty MsgApps. */
  pendingCommitBcast = false;
  /** Read requests that arrived before the leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  readonly rng: Random;
  readonly voteTwice: boolean;
  readonly commitWithoutQuorum: boolean;

  constructor(c: RaftConfig, storage: LogStore) {
    if (!(Number.isSafeInteger(c.id) && c.id > 0)) throw strataError('ErrInvalidArgument', 'raft id must be a positive integer');
    this.id = c.id;
    this.rng = c.rng;
    this.electionTimeout = c.electionTick ?? RAFT_DEFAULTS.electionTick;
    this.heartbeatTimeout = c.heartbeatTick ?? RAFT_DEFAULTS.heartbeatTick;
    if (this.heartbeatTimeout <= 0) throw strataError('ErrInvalidArgument', 'heartbeatTick must be > 0');
    if (this.electionTimeout <= this.heartbeatTimeout) {
      throw strataError('ErrInvalidArgument', 'electionTick must be greater than heartbeatTick');
    }
    this.preVote = c.preVote ?? RAFT_DEFAULTS.preVote;
    this.checkQuorum = c.checkQuorum ?? RAFT_DEFAULTS.checkQuorum;
    this.maxMsgSize = c.maxSizePerMsg ?? RAFT_DEFAULTS.maxSizePerMsg;
    const maxInflight = c.maxInflightMsgs ?? RAFT_DEFAULTS.maxInflightMsgs;
    if (maxInflight <= 0) throw strataError('ErrInvalidArgument', 'maxInflightMsgs must be > 0');
    this.voteTwice = c.testFaults?.voteTwice === true;
    this.commitWithoutQuorum = c.testFaults?.commitWithoutQuorum === true;
    this.raftLog = new RaftLog(storage, c.maxCommittedSizePerReady ?? Math.max(this.maxMsgSize, 1) * 8);
    this.trk = new ProgressTracker(maxInflight, c.maxInflightBytes ?? RAFT_DEFAULTS.maxInflightBytes);

    const { hardState, confState } = storage.initialState();
    this.switchToConfig(restoreConfig(this.trk, this.raftLog.lastIndex(), confState));
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);
    log.raft('%d started: term %d commit %d applied %d last %d', this.id, this.term, this.raftLog.committed, this.raftLog.applied, this.raftLog.lastIndex());
  }

  private loadState(hs: HardState): void {
    let commit = hs.commit;
    if (commit < this.raftLog.committed || commit > this.raftLog.lastIndex()) {
      log.raft('%d hard state commit %d out of range [%d, %d]', this.id, commit, this.raftLog.committed, this.raftLog.lastIndex());
      commit = Math.min(Math.max(commit, this.raftLog.committed), this.raftLog.lastIndex());
    }
    this.raftLog.committed = commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** Volatile state (leader and role). */
  softState(): SoftState {
    return { lead: this.lead, role: this.state };
  }

  /** Durable state (term, vote, commit). */
  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  /** Queue a message. Term is filled in except for votes (which carry their own) and forwarded proposals/reads (term 0, local at the receiver). */
  send(init: MessageInit): void {
    const t = init.type;
    let term = init.term ?? 0;
    if (
      t !== MessageType.MsgVote &&
      t !== MessageType.MsgVoteResp &&
      t !== MessageType.MsgPreVote &&
      t !== MessageType.MsgPreVoteResp &&
      t !== MessageType.MsgProp &&
      t !== MessageType.MsgReadIndex
    ) {
      term = this.term;
    }
    const m: Message = {
      type: t,
      from: init.from ?? this.id,
      to: init.to,
      term,
      logTerm: init.logTerm ?? 0,
      index: init.index ?? 0,
      entries: init.entries ?? NO_ENTRIES,
      commit: init.commit ?? 0,
      reject: init.reject ?? false,
      rejectHint: init.rejectHint ?? 0,
    };
    if (init.snapshot !== undefined) (m as { snapshot?: Snapshot }).snapshot = init.snapshot;
    if (init.context !== undefined) (m as { context?: Uint8Array }).context = init.context;
    this.msgs.push(m);
  }

  // ---- role transitions -------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.raftLog.lastIndex();
    const fresh = new Map<NodeId, Progress>();
    for (const [id, pr] of this.trk.progress) {
      const np = this.trk.newProgress(0, last + 1, pr.isLearner);
      if (id === this.id) np.match = last;
      fresh.set(id, np);
    }
    this.trk.progress = fresh;
    this.pendingConfIndex = 0;
    this.pendingBcast = false;
    this.pendingCommitBcast = false;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  /** Become a follower of `lead` (NONE if unknown) in `term`. */
  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateRole.Follower;
    log.raft('%d became follower at term %d (leader %d)', this.id, this.term, lead);
  }

  /** Start a real election: new term, vote for self. */
  becomeCandidate(): void {
    if (this.state === StateRole.Leader) throw new Error('invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateRole.Candidate;
    log.raft('%d became candidate at term %d', this.id, this.term);
  }

  /** Start a pre-vote: neither term nor vote change. */
  becomePreCandidate(): void {
    if (this.state === StateRole.Leader) throw new Error('invalid transition [leader -> pre-candidate]');
    this.trk.resetVotes();
    this.lead = NONE;
    this.state = StateRole.PreCandidate;
    log.raft('%d became pre-candidate at term %d', this.id, this.term);
  }

  /** Won the election: take the lead and append the no-op of the new term. */
  becomeLeader(): void {
    if (this.state === StateRole.Follower) throw new Error('invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateRole.Leader;
    const self = this.trk.progress.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Conservatively assume the log tail may hold an unapplied conf change.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // The no-op lets the leader commit (and learn the commit index of) earlier-term entries (§5.4.2, §8).
    this.appendEntry([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_DATA }]);
    log.raft('%d became leader at term %d', this.id, this.term);
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.rng.int(this.electionTimeout);
  }

  /** True once the randomised election timeout has elapsed. */
  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  /** Can campaign: a voter in the config, not restoring a snapshot. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasNextOrInProgressSnapshot();
  }

  /** True if this node is a voter of its current configuration. */
  isVoterSelf(): boolean {
    return this.trk.isVoter(this.id);
  }

  /**
   * A leader that applied its own removal (or demotion) steps down by
   * handing leadership to the most up-to-date voter of the new config (as a
   * leader transfer: catch it up, then MsgTimeoutNow). Simply stepping down
   * could leave the cluster without a leader: configs take effect when
   * applied, so the remaining voters may still be in the joint config that
   * needs our vote, while our longer log makes us refuse it. Proposals are
   * refused meanwhile; the transfer is retried every election timeout, and
   * check-quorum still applies. With no voter left to hand to, step down.
   */
  handOffLeadership(): void {
    let target: NodeId = NONE;
    let best = -1;
    for (const id of this.trk.config.voters.incoming) {
      const pr = this.trk.progress.get(id);
      if (id === this.id || pr === undefined) continue;
      if (pr.match > best || (pr.match === best && id < target)) {
        best = pr.match;
        target = id;
      }
    }
    if (target === NONE) {
      this.becomeFollower(this.term, NONE);
      return;
    }
    log.raft('%d was removed from the configuration; handing leadership to %d', this.id, target);
    this.electionElapsed = 0;
    this.leadTransferee = target;
    if (best === this.raftLog.lastIndex()) sendTimeoutNow(this, target);
    else sendAppend(this, target);
  }

  /** Stop an ongoing leader transfer. */
  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---- time -------------------------------------------------------------

  /** Advance logical time by one tick. */
  tick(): void {
    if (this.state === StateRole.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.stepLocal(MessageType.MsgHup);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.stepLocal(MessageType.MsgCheckQuorum);
      // A transfer that did not finish within an election timeout is abandoned
      // (a removed leader tries again: it must hand over, see handOffLeadership).
      if (this.state === StateRole.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer();
      if (this.state === StateRole.Leader && !this.isVoterSelf()) this.handOffLeadership();
    }
    if (this.state !== StateRole.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.stepLocal(MessageType.MsgBeat);
    }
  }

  private stepLocal(type: MessageType): void {
    this.step({ type, from: this.id, to: this.id, term: 0, logTerm: 0, index: 0, entries: NO_ENTRIES, commit: 0, reject: false, rejectHint: 0 });
  }

  // ---- step -------------------------------------------------------------

  /**
   * Process one message. Term handling (§5.1) happens here; the rest goes
   * to the role's step function. Throws StrataError only for local requests
   * that cannot be served (proposal dropped, conf change pending, …).
   */
  step(m: Message): void {
    if (m.reject && (m.type === MessageType.MsgVoteResp || m.type === MessageType.MsgPreVoteResp)) maybeCommitFromHint(this, m);
    if (m.term === 0) {
      // Local message (or a forwarded proposal / read).
    } else if (m.term > this.term) {
      if ((m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) && inLease(this, m)) {
        log.raft('%d ignored vote request from %d at term %d: lease not expired', this.id, m.from, m.term);
        return;
      }
      if (m.type === MessageType.MsgPreVote) {
        // Never change term in response to a pre-vote.
      } else if (m.type === MessageType.MsgPreVoteResp && !m.reject) {
        // The term is bumped only when the pre-vote wins.
      } else if (m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)) {
        // A stale leader (e.g. after a partition) learns our term from this
        // response and steps down; otherwise, with check-quorum or pre-vote,
        // it could never find out and we would never hear from it again.
        this.send({ type: MessageType.MsgAppResp, to: m.from });
      } else if (m.type === MessageType.MsgPreVote) {
        this.send({ type: MessageType.MsgPreVoteResp, to: m.from, term: this.term, reject: true, ...commitHint(this) });
      }
      // Other stale messages are ignored (§5.1).
      return;
    }

    switch (m.type) {
      case MessageType.MsgHup:
        hup(this, this.preVote ? 'pre-election' : 'election');
        return;
      case MessageType.MsgPropReject:
        return; // for the forwarding member's driver

      case MessageType.MsgVote:
      case MessageType.MsgPreVote:
        stepVoteRequest(this, m);
        return;
      default:
        break;
    }
    switch (this.state) {
      case StateRole.Leader:
        stepLeader(this, m);
        break;
      case StateRole.Follower:
        stepFollower(this, m);
        break;
      default:
        stepCandidate(this, m);
        break;
    }
  }

  // ---- log --------------------------------------------------------------

  /** Append entries of the current term at the end of the log (leader). */
  appendEntry(es: readonly Entry[]): void {
    const li = this.raftLog.lastIndex();
    const ents: Entry[] = new Array<Entry>(es.length);
    for (let i = 0; i < es.length; i++) {
      const e = es[i]!;
      ents[i] = { term: this.term, index: li + 1 + i, type: e.type, data: e.data };
    }
    const last = this.raftLog.append(ents);
    this.trk.progress.get(this.id)?.maybeUpdate(last);
    // Only a single voter commits by its own append; others wait for acks.
    const v = this.trk.config.voters;
    if (this.commitWithoutQuorum || (v.incoming.size <= 1 && v.outgoing.size <= 1)) this.maybeCommit();
  }

  /**
   * Send the deferred broadcast (leader; called before collecting a Ready):
   * new entries to every follower, and the new commit index (in an empty
   * MsgApp if there is nothing new) if it advanced.
   */
  flushAppends(): void {
    if (!this.pendingBcast) return;
    const withCommit = this.pendingCommitBcast;
    this.pendingBcast = false;
    this.pendingCommitBcast = false;
    if (this.state !== StateRole.Leader) return;
    const commit = this.raftLog.committed;
    for (const [id, pr] of this.trk.progress) {
      if (id === this.id) continue;
      // An empty MsgApp only if this follower was not yet sent the commit index.
      if (maybeSendAppend(this, id, withCommit && pr.sentCommit < commit)) {
        // Stream the rest in further batches while the window allows (replicate only).
        while (pr.state === 'replicate' && maybeSendAppend(this, id, false)) {
          /* keep sending */
        }
      }
    }
  }

  /** Advance the commit index to what a quorum holds, if that entry is of the current term. */
  maybeCommit(): boolean {
    const mci = this.commitWithoutQuorum ? this.raftLog.lastIndex() : this.trk.committed();
    return this.raftLog.maybeCommit(mci, this.term);
  }

  /** True if the leader committed an entry in its own term (it then knows the real commit index). */
  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.zeroTermOnOutOfBounds(this.raftLog.committed) === this.term;
  }

  // ---- configuration ----------------------------------------------------

  /** Replace the configuration with the one described by `cs` (snapshot install). */
  resetConfig(cs: ConfState): void {
    this.trk = new ProgressTracker(this.trk.maxInflight, this.trk.maxInflightBytes);
    this.switchToConfig(restoreConfig(this.trk, this.raftLog.lastIndex(), cs));
  }

  /** Apply a committed conf change. Throws ErrInvalidArgument (changing nothing) if it is not applicable. */
  applyConfChange(cc: ConfChange): ConfState {
    const v = this.trk.config.voters;
    if (v.incoming.size === 0 && v.outgoing.size === 0) {
      // Clusters start from a bootstrap snapshot, never from an empty config:
      // an empty one here means the (index-0) bootstrap snapshot was not
      // persisted. Applying e.g. "add self" would make a one-voter cluster
      // of us alone; staying config-less keeps us a harmless follower.
      throw strataError('ErrInvalidArgument', 'conf change on an empty configuration (bootstrap snapshot missing)');
    }
    const next = new Changer(this.trk, this.raftLog.lastIndex()).change(cc);
    return this.switchToConfig(next);
  }

  /** Validate `cc` against the current config without applying it (throws as applyConfChange). */
  checkConfChange(cc: ConfChange): void {
    new Changer(this.trk, this.raftLog.lastIndex()).change(cc);
  }

  /** Install a configuration and react to it (step down if removed, commit, probe new members). */
  switchToConfig(next: ConfigAndProgress): ConfState {
    this.trk.config = next.config;
    this.trk.progress = next.progress;
    const cs = this.trk.confState();
    const pr = this.trk.progress.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;
    if ((pr === undefined || this.isLearner) && this.state === StateRole.Leader) {
      this.handOffLeadership();
      return cs;
    }
    if (this.state !== StateRole.Leader || cs.voters.length === 0) return cs;
    if (this.maybeCommit()) {
      // The new config may commit more: tell everyone.
      bcastAppend(this);
    } else {
      // Probe newly added members right away rather than at the next heartbeat.
      for (const id of this.trk.progress.keys()) {
        if (id !== this.id) maybeSendAppend(this, id, false);
      }
    }
    if (this.leadTransferee !== NONE && !this.trk.isVoter(this.leadTransferee)) this.abortLeaderTransfer();
    return cs;
  }

  /**
   * The state machine applied up to `index`. A leader in a joint config
   * with auto-leave proposes leaving it once the entering change is applied.
   */
  appliedTo(index: number): void {
    const old = this.raftLog.applied;
    this.raftLog.appliedTo(Math.max(index, old));
    if (this.trk.config.autoLeave && this.raftLog.applied >= this.pendingConfIndex && this.state === StateRole.Leader) {
      try {
        this.proposeLeaveJoint();
        log.raft('%d initiating automatic transition out of joint configuration', this.id);
      } catch (err) {
        // E.g. a leader transfer is in progress; retried on the next apply.
        if (!isStrataError(err)) throw err;
        log.raft('%d not leaving joint config now: %s', this.id, err.message);
      }
    }
  }

  private proposeLeaveJoint(): void {
    stepLeader(this, {
      type: MessageType.MsgProp,
      from: this.id,
      to: this.id,
      term: 0,
      logTerm: 0,
      index: 0,
      entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: LEAVE_JOINT_DATA }],
      commit: 0,
      reject: false,
      rejectHint: 0,
    });
  }
}
