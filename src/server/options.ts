/**
 * Options of {@link StrataNode.open}, with etcd's defaults.
 */
import type { RaftNodeOptions } from '../node/options.ts';
import type { Storage } from '../storage/storage.ts';
import type { Transport } from '../transport/transport.ts';
import type { Clock } from '../util/clock.ts';
import type { Random } from '../util/rng.ts';
import type { InitialCluster } from './members.ts';

export { DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_TXN_OPS } from '../mvcc/validate.ts';
/** Default backend quota: 2 GiB (R9.7). */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;
/** Strata's version string reported by status(). */
export const STRATA_VERSION = '0.1.0';

/** How to open one member. */
export interface StrataNodeOptions {
  /** This member's name; must appear in `initialCluster`. */
  readonly name: string;
  /**
   * Directory for durable state (the Raft log and snapshots on LevelStorage).
   * Without it everything lives in memory.
   */
  readonly dataDir?: string;
  /** The initial cluster (etcd's `--initial-cluster`). */
  readonly initialCluster: InitialCluster;
  /** `'new'` bootstraps a cluster; `'existing'` joins one (default `'new'`). */
  readonly initialClusterState?: 'new' | 'existing';
  /** etcd's `--initial-cluster-token`; part of member and cluster ids. */
  readonly initialClusterToken?: string;
  /** This member's transport; its `id` must be this member's id. */
  readonly transport: Transport;
  /** Time source (default: the real clock). */
  readonly clock?: Clock;
  /** Randomness for elections (default: seeded from the member id and time). */
  readonly rng?: Random;
  /** Milliseconds per Raft tick (default 100: etcd's heartbeat interval). */
  readonly tickMs?: number;
  /** Ticks per election timeout (default 10: 1 s with 100 ms ticks). */
  readonly electionTick?: number;
  /** Ticks per heartbeat (default 1). */
  readonly heartbeatTick?: number;
  /** Applied entries between Raft snapshots (default 100,000, etcd's `--snapshot-count`). */
  readonly snapshotCount?: number;
  /** Use this Raft storage instead of one derived from `dataDir` (e.g. a MemoryStorage the simulator crashes). */
  readonly storage?: Storage;
  /** fsync Raft log writes (default true; only with `dataDir`). */
  readonly fsync?: boolean;
  /** Largest encoded write request (default 1.5 MiB). */
  readonly maxRequestBytes?: number;
  /** Largest txn list (default 128). */
  readonly maxTxnOps?: number;
  /** Backend quota in bytes (default 2 GiB). */
  readonly quotaBackendBytes?: number;
  /** Lease checkpoint interval in ms; 0 disables checkpoints (default 0, as etcd). */
  readonly leaseCheckpointIntervalMs?: number;
  /** Leases revoked per second at most (default 1000). */
  readonly leaseRevokeRate?: number;
  /**
   * Revision-mode auto-compaction: the leader keeps this many revisions and
   * compacts older history (etcd's `--auto-compaction-retention` in revision
   * mode). 0 (default) disables it.
   */
  readonly autoCompactionRetention?: number;
  /** How often auto-compaction checks, in ms (default 1000). */
  readonly autoCompactionIntervalMs?: number;
  /** Group writes proposed in the same event-loop turn into one Raft entry (default true). */
  readonly batchProposals?: boolean;
  /**
   * etcd's strict reconfiguration checks (default true): the leader refuses
   * a membership change that would leave no working quorum — `ErrUnhealthy`
   * (a voter is not connected, or removing an active voter leaves too few
   * active ones), `ErrNotEnoughStartedMembers` (too few members have started
   * for the new quorum). See `src/server/reconfig.ts`.
   */
  readonly strictReconfigCheck?: boolean;
  /** Further RaftNode settings (pre-vote, check-quorum, flow control, apply lag, observers for checkers). */
  readonly raft?: Partial<
    Pick<
      RaftNodeOptions,
      'preVote' | 'checkQuorum' | 'maxSizePerMsg' | 'maxInflightMsgs' | 'snapshotCatchUpEntries' | 'snapshotLogBytes' | 'learnerReadyPercent' | 'maxApplyLag' | 'observer'
    >
  >;
  /** Ticks a request may wait for the leader (RaftNode's requestTimeoutTicks). */
  readonly requestTimeoutTicks?: number;
}
