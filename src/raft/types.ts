/**
 * The Raft data model, as etcd-io/raft's `raftpb`: entries, hard state,
 * snapshots, configuration state and messages. Plain data, encodable with the
 * codec; shared by the core, storage, transports and the node driver.
 */

/** A member id. Positive safe integer; 0 means "none". */
export type NodeId = number;

/** No node (no vote, no leader). */
export const NONE: NodeId = 0;

/** Kinds of log entries. */
export const EntryType = {
  /** Application data (or an empty no-op when `data` is empty). */
  Normal: 0,
  /** A membership change; `data` is an encoded {@link ConfChange}. */
  ConfChange: 1,
} as const;
/** See {@link EntryType}. */
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** One log entry. Immutable once created. */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** State that must be durable before messages depending on it are sent. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

/** The empty hard state of a brand-new node. */
export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: NONE, commit: 0 });

/**
 * A membership configuration. `votersOutgoing` is non-empty only in a joint
 * configuration (C_old,new); `learnersNext` are voters of the outgoing config
 * that become learners when the joint config is left.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly votersOutgoing: readonly NodeId[];
  readonly learnersNext: readonly NodeId[];
  /** Leave the joint config automatically once it is committed. */
  readonly autoLeave: boolean;
}

/** Metadata of a snapshot: the last index/term it covers and the config then. */
export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/** A state-machine snapshot. `data` is opaque to Raft. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

/** Kinds of membership change in one {@link ConfChangeSingle}. */
export const ConfChangeType = {
  AddNode: 0,
  RemoveNode: 1,
  AddLearnerNode: 2,
} as const;
/** See {@link ConfChangeType}. */
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

/** One membership change. Promoting a learner is `AddNode` of its id. */
export interface ConfChangeSingle {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

/** How a multi-change configuration change is carried out. */
export const ConfChangeTransition = {
  /** Simple if it changes at most one voter, otherwise joint with auto-leave. */
  Auto: 0,
  /** Joint consensus, left automatically once committed. */
  JointImplicit: 1,
  /** Joint consensus, left only by an explicit empty ConfChange. */
  JointExplicit: 2,
} as const;
/** See {@link ConfChangeTransition}. */
export type ConfChangeTransition = (typeof ConfChangeTransition)[keyof typeof ConfChangeTransition];

/**
 * A membership change proposal (etcd-io/raft's ConfChangeV2). An empty
 * `changes` list means "leave the joint configuration". `context` is opaque
 * to Raft; the node uses it to carry the new member's address.
 */
export interface ConfChange {
  readonly transition: ConfChangeTransition;
  readonly changes: readonly ConfChangeSingle[];
  readonly context?: Uint8Array;
}

/** Message types, named as in etcd-io/raft's `raftpb.MessageType`. */
export const MessageType = {
  /** Local: start an election (sent by tick to self). */
  MsgHup: 0,
  /** Local: leader sends heartbeats (sent by tick to self). */
  MsgBeat: 1,
  /** Local or forwarded: propose entries. */
  MsgProp: 2,
  MsgApp: 3,
  MsgAppResp: 4,
  MsgVote: 5,
  MsgVoteResp: 6,
  MsgSnap: 7,
  MsgHeartbeat: 8,
  MsgHeartbeatResp: 9,
  /** Local: report an unreachable peer. */
  MsgUnreachable: 10,
  /** Local: report the outcome of sending a snapshot. */
  MsgSnapStatus: 11,
  /** Local: leader checks it still hears from a quorum. */
  MsgCheckQuorum: 12,
  /** Local or forwarded: ask the leader to transfer leadership. */
  MsgTransferLeader: 13,
  /** Leader tells the transferee to campaign now. */
  MsgTimeoutNow: 14,
  MsgReadIndex: 15,
  MsgReadIndexResp: 16,
  MsgPreVote: 17,
  MsgPreVoteResp: 18,
  /**
   * The leader refuses a forwarded proposal: `entries` holds the refused
   * entry, `context` the reason (`refusal.ts`), so the forwarding member can
   * fail its caller with the typed error at once. Handled by the forwarding
   * member's driver (RaftNode); the core ignores it.
   */
  MsgPropReject: 19,
} as const;
/** See {@link MessageType}. */
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/**
 * A Raft message. Fields not used by a given type are left at their zero
 * values (0, false, empty array) so every message has one shape.
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** Term of the entry at `index` (MsgApp: the entry preceding `entries`). */
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  /** MsgSnap only. */
  readonly snapshot?: Snapshot;
  readonly reject: boolean;
  /** On a rejected MsgAppResp: the follower's hint for where to probe next. */
  readonly rejectHint: number;
  /** Opaque context (ReadIndex request id, campaign-transfer marker, …). */
  readonly context?: Uint8Array;
}

/** The role a node plays. */
export const StateRole = {
  Follower: 'follower',
  PreCandidate: 'pre-candidate',
  Candidate: 'candidate',
  Leader: 'leader',
} as const;
/** See {@link StateRole}. */
export type StateRole = (typeof StateRole)[keyof typeof StateRole];

/** Volatile state worth reporting: who leads, and our role. */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: StateRole;
}

/**
 * A linearizable-read grant: once the node has applied `index`, a read
 * issued with `requestCtx` may be served from local state.
 */
export interface ReadState {
  readonly index: number;
  readonly requestCtx: Uint8Array;
}

/**
 * Everything the core asks its driver to do, as etcd-io/raft's `Ready`.
 * The driver must: persist `hardState`/`entries`/`snapshot` (durably), then
 * send `messages`, apply `snapshot` and then `committedEntries` to the state
 * machine, and finally call `advance()`.
 */
export interface Ready {
  /** Present when it changed since the last Ready. */
  readonly softState?: SoftState;
  /** Present when it changed since the last Ready; persist before sending. */
  readonly hardState?: HardState;
  /** Entries to append to stable storage (may overwrite a suffix). */
  readonly entries: readonly Entry[];
  /** A snapshot to persist and restore (when non-undefined). */
  readonly snapshot?: Snapshot;
  /** Entries committed and ready to apply, in index order. */
  readonly committedEntries: readonly Entry[];
  /** Messages to send after persisting. */
  readonly messages: readonly Message[];
  /** Linearizable-read grants. */
  readonly readStates: readonly ReadState[];
  /** True if hardState/entries/snapshot must be synced before sending. */
  readonly mustSync: boolean;
}

/** Reported progress states of a follower, for status. */
export type ProgressStateName = 'probe' | 'replicate' | 'snapshot';
