/**
 * Configuration of one Raft node, with etcd-io/raft's defaults.
 */
import type { Random } from '../util/rng.ts';
import type { NodeId } from './types.ts';

/** Options of a {@link RawNode}. Every optional field has a documented default. */
export interface RaftConfig {
  /** This node's id (positive). */
  id: NodeId;
  /** The only source of randomness (election timeout jitter). */
  rng: Random;
  /** Ticks without hearing from a leader before campaigning (randomised in [electionTick, 2·electionTick)). Default 10. */
  electionTick?: number;
  /** Ticks between leader heartbeats. Default 1. */
  heartbeatTick?: number;
  /** Run a pre-vote round before campaigning so a rejoining node does not bump the term. Default true. */
  preVote?: boolean;
  /** Leader steps down without a quorum for an election timeout; followers with a live leader ignore votes. Default true. */
  checkQuorum?: boolean;
  /** Bytes of entries (data + 16 per entry) per MsgApp. Default 1 MiB. */
  maxSizePerMsg?: number;
  /** MsgApps in flight per follower in replicate state. Default 256. */
  maxInflightMsgs?: number;
  /** Bytes in flight per follower (0: unlimited). Default 0. */
  maxInflightBytes?: number;
  /** Bytes of committed entries per Ready. Default: maxSizePerMsg × 8. */
  maxCommittedSizePerReady?: number;
  /** Last applied index on restart (default: the snapshot index). */
  applied?: number;
  /** Test-only planted bugs for the simulator's mutation check. Never set in production. */
  testFaults?: {
    /** Grant a vote even after voting for another candidate in the same term. */
    voteTwice?: boolean;
    /** The leader commits its own last index without waiting for a quorum. */
    commitWithoutQuorum?: boolean;
  };
}

/** Defaults applied to a {@link RaftConfig}. */
export const RAFT_DEFAULTS = {
  electionTick: 10,
  heartbeatTick: 1,
  preVote: true,
  checkQuorum: true,
  maxSizePerMsg: 1024 * 1024,
  maxInflightMsgs: 256,
  maxInflightBytes: 0,
} as const;
