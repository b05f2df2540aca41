/**
 * Public surface of the Raft core: the data model, the in-memory log, the
 * RawNode driver API, and the building blocks (quorum arithmetic,
 * membership changes) for tools and tests.
 *
 * Behaviour follows etcd-io/raft (classic Ready/Advance, pre-vote,
 * check-quorum, ReadIndex in safe mode, joint consensus applied on apply).
 * Where Strata differs, and why:
 * - The bootstrap config lives in an index-0 snapshot, not in log entries,
 *   so a member joining with an empty log adopts it from the leader's first
 *   MsgApp (which carries that snapshot); its next Ready holds the index-0
 *   snapshot, which the driver must persist like any other.
 * - A leader that applies its own removal hands leadership to the most
 *   up-to-date voter of the new config (MsgTimeoutNow) instead of just
 *   stepping down, and vote rejections carry the rejecter's commit index:
 *   both avoid a leaderless cluster whose remaining voters still run the
 *   joint config and need the removed node's vote.
 * - A snapshot is installed even if its config predates the receiver's
 *   addition (the receiver joins when it applies the entry adding it).
 * - Proposals and commit-index updates are broadcast when the next Ready is
 *   collected, so all proposals between two Readies share one MsgApp per
 *   follower; `RawNode.proposeBatch` proposes many entries in one step.
 * - `RawNode.advance()` records the Ready's snapshot, entries and hard state
 *   in the LogStore itself (idempotently), and `applyConfChange` records the
 *   new config there, so a restart from the LogStore resumes correctly.
 */
export * from './types.ts';
export { LogStore, bootstrapSnapshot, EMPTY_CONF_STATE } from './log-store.ts';
export { RawNode } from './rawnode.ts';
export { encodeRefusal, decodeRefusal } from './refusal.ts';
export type { RaftStatus } from './rawnode.ts';
export type { RaftConfig } from './config.ts';
export { RAFT_DEFAULTS } from './config.ts';
export { entrySize, ENTRY_OVERHEAD } from './entry-size.ts';
export {
  majorityCommittedIndex,
  majorityVoteResult,
  jointCommittedIndex,
  jointVoteResult,
} from './quorum.ts';
export type { VoteResult, JointVoters, AckedIndexer } from './quorum.ts';
export { Changer, restoreConfig, enterJointMode, isLeaveJoint } from './confchange.ts';
export type { TrackerConfig } from './progress-tracker.ts';
export { configToConfState } from './progress-tracker.ts';
export { decodeConfChange, LEAVE_JOINT_DATA } from './confchange.ts';
