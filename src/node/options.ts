/**
 * Options, results and status shapes of {@link RaftNode}.
 */
import type { ConfChangeSingle, Entry, HardState, NodeId, Snapshot, StateRole } from '../raft/types.ts';
import type { Storage } from '../storage/storage.ts';
import type { Transport } from '../transport/transport.ts';
import type { Clock } from '../util/clock.ts';
import type { Random } from '../util/rng.ts';
import type { StateMachine } from './state-machine.ts';

/** Options of a {@link RaftNode}. Defaults follow etcd. */
export interface RaftNodeOptions<Result = unknown> {
  /** This member's id (positive integer). */
  readonly id: NodeId;
  /**
   * Initial voters of a brand-new cluster (including `id`). Ignored when the
   * storage already holds state. Empty (or omitted) on a fresh storage means
   * "joining an existing cluster": the member starts with no configuration
   * and learns it from the leader.
   */
  readonly peers?: readonly NodeId[];
  readonly storage: Storage;
  readonly transport: Transport;
  readonly stateMachine: StateMachine<Result>;
  readonly clock: Clock;
  /** Seeded randomness (election timeouts, proposer nonce). */
  readonly rng: Random;
  /** Ticks without hearing from a leader before campaigning (default 10). */
  readonly electionTick?: number;
  /** Ticks between leader heartbeats (default 1). */
  readonly heartbeatTick?: number;
  /** Milliseconds per tick (default 100). */
  readonly tickMs?: number;
  /** Pre-vote (default true). */
  readonly preVote?: boolean;
  /** Check quorum (default true). */
  readonly checkQuorum?: boolean;
  /** Max bytes of entries per MsgApp (core default 1 MiB). */
  readonly maxSizePerMsg?: number;
  /** Max in-flight MsgApp per follower (core default 256). */
  readonly maxInflightMsgs?: number;
  /** Take a snapshot every this many applied entries (default 100,000, as etcd since v3.2). */
  readonly snapshotCount?: number;
  /**
   * Also take a snapshot once the entries applied since the last one exceed
   * this many bytes, or the last snapshot's size if that is larger (default
   * 1 GiB). Bounds the log held in memory when entries are large (batched
   * proposals) while keeping snapshot work proportional to the data written.
   */
  readonly snapshotLogBytes?: number;
  /** Entries kept in memory behind a snapshot for slow followers (default 5,000). */
  readonly snapshotCatchUpEntries?: number;
  /**
   * Ticks a forwarded proposal may stay unseen in the local log before it is
   * rejected with `ErrProposalDropped`, and a read or transfer may wait
   * before `ErrTimeout` / `ErrTimeoutLeaderTransfer` (default 2 × electionTick
   * for proposals and transfers, 5 × electionTick for reads).
   */
  readonly requestTimeoutTicks?: number;
  /**
   * New proposals are refused with `ErrTooManyRequests` while the applied
   * index trails the commit index by more than this many entries (default
   * 5,000, etcd's gap between apply and commit index): the state machine is
   * not keeping up — e.g. a restarted member still replaying its log.
   */
  readonly maxApplyLag?: number;
  /**
   * Checks a membership change on the leader before it enters the log,
   * whether proposed there or forwarded by a follower; return an error to
   * refuse it (it then reaches the caller on whichever member proposed it).
   * Runs after the built-in learner-readiness check. StrataNode uses it for
   * etcd's strict reconfiguration checks (`ErrUnhealthy`,
   * `ErrNotEnoughStartedMembers`).
   */
  readonly reconfigCheck?: (changes: readonly ConfChangeSingle[], cluster: ReconfigView) => Error | undefined;
  /** A learner may be promoted once its match index ≥ this fraction of the leader's (default 0.9, etcd's rule). */
  readonly learnerReadyPercent?: number;
  /** Close storage and transport on {@link RaftNode.stop} (default true). */
  readonly closeOnStop?: boolean;
  /** Test-only planted bugs passed to the Raft core (the simulator's mutation check). Never set in production. */
  readonly testFaults?: { readonly voteTwice?: boolean; readonly commitWithoutQuorum?: boolean };
  /** Observation hooks (the simulator's invariant checker and trace). */
  readonly observer?: NodeObserver;
}

/** Hooks called synchronously from the Ready loop, for checkers and tracing. */
export interface NodeObserver {
  /** After a Ready's hard state / entries / snapshot became durable (before messages are sent). */
  persisted?(id: NodeId, hardState: HardState | undefined, entries: readonly Entry[], snapshot: Snapshot | undefined): void;
  /** After committed entries (raw, envelopes included; no-ops and conf changes too) were applied. */
  applied?(id: NodeId, entries: readonly Entry[]): void;
  /** After the state machine was restored from a snapshot. */
  restored?(id: NodeId, snapshot: Snapshot): void;
}

/** Options of calls that wait. */
export interface WaitOptions {
  /** Abort waiting; the call rejects with `ErrAborted` (the operation itself may still happen). */
  readonly signal?: AbortSignal;
}

/** What {@link RaftNode.propose} resolves with. */
export interface ProposeResult<Result = unknown> {
  /** Log index of the entry. */
  readonly index: number;
  /** Term of the entry. */
  readonly term: number;
  /** What the state machine's `apply` returned for it. */
  readonly result: Result;
}

/** What {@link RaftNode.status} returns. */
export interface NodeStatus {
  readonly id: NodeId;
  readonly role: StateRole;
  readonly term: number;
  /** Known leader, 0 if none. */
  readonly leader: NodeId;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** Events of a {@link RaftNode}. */
export type RaftNodeEvents = {
  /** The known leader changed (0 = none). */
  leaderChange: [leader: NodeId, term: number];
  /** This member's role changed. */
  roleChange: [role: StateRole];
  /** This member's removal from the configuration was applied. */
  removed: [];
};

/** What the leader knows of the members when it checks a membership change ({@link RaftNodeOptions.reconfigCheck}). */
export interface ReconfigView {
  /** The leader's id. */
  readonly self: NodeId;
  /** Voters of the applied configuration (both halves while joint). */
  readonly voters: readonly NodeId[];
  /** Learners of the applied configuration. */
  readonly learners: readonly NodeId[];
  /**
   * True if the leader heard from `id` within the last election timeout
   * (itself: always; during the first election timeout of its leadership,
   * also a peer it has never heard from).
   */
  isActive(id: NodeId): boolean;
  /**
   * True if `id` has ever been heard from or acknowledged log entries
   * (itself: always; anyone during the first election timeout of the
   * leadership), as etcd's "started".
   */
  isStarted(id: NodeId): boolean;
}
