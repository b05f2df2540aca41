/**
 * Public surface of the Raft core: the data model, the in-memory log, the
 * RawNode driver API, and the building blocks (quorum arithmetic,
 * membership changes) for tools and tests.
 */
export * from './types.ts';
export { LogStore, bootstrapSnapshot, EMPTY_CONF_STATE } from './log-store.ts';
export { RawNode } from './rawnode.ts';
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
