/**
 * Options, views and results of a {@link Simulation}.
 */
import type { RaftNode } from '../node/raft-node.ts';
import type { StateMachine } from '../node/state-machine.ts';
import type { NodeId } from '../raft/types.ts';
import type { FaultAction } from './faults.ts';
import type { Violation } from './invariants.ts';
import type { FaultProfile } from './profile.ts';
import type { TraceOptions } from './trace.ts';
import type { Workload } from './workload.ts';

/** A user invariant: return a message (or throw) when violated. */
export type Invariant = (view: SimView) => string | undefined | void;

/** A member as invariants see it. */
export interface NodeView {
  readonly id: NodeId;
  readonly alive: boolean;
  readonly paused: boolean;
  readonly node: RaftNode | undefined;
  readonly stateMachine: StateMachine<unknown> | undefined;
}

/** The whole cluster as invariants see it. */
export interface SimView {
  readonly tick: number;
  readonly time: number;
  readonly nodes: readonly NodeView[];
}

/** Fault selection: a profile (partial: the rest is off), a preset, or 'swarm' (drawn per seed). */
export type FaultsOption = Partial<FaultProfile> | 'swarm' | 'none' | 'all';

/** Options of a {@link Simulation}. */
export interface SimulationOptions {
  readonly seed: number;
  /** Cluster size (initial voters 1..nodes). */
  readonly nodes: number;
  /** Factory of the replicated application (default: {@link DigestStateMachine}). */
  readonly stateMachine?: () => StateMachine<unknown>;
  /** Client workload (default: {@link proposeWorkload}). */
  readonly workload?: Workload;
  /** Extra invariants, checked after every step. */
  readonly invariants?: readonly Invariant[];
  /** Faults (default 'swarm'). */
  readonly faults?: FaultsOption;
  /** Random membership changes during the fault phase. */
  readonly membership?: boolean;
  /** Snapshot every N applied entries (default 200, so installs happen). */
  readonly snapshotCount?: number;
  /** Entries kept behind a snapshot (default 50). */
  readonly snapshotCatchUpEntries?: number;
  readonly electionTick?: number;
  readonly heartbeatTick?: number;
  /** Milliseconds per tick (default 100). */
  readonly tickMs?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  /** Trace sink / keep events. */
  readonly trace?: TraceOptions;
  /** Planted core bugs (mutation testing). */
  readonly testFaults?: { voteTwice?: boolean; commitWithoutQuorum?: boolean };
  /** Replay this decision log instead of drawing faults. */
  readonly schedule?: readonly FaultAction[];
}

/** Options of {@link Simulation.run}. */
export interface RunOptions {
  /** Ticks of the fault phase (default 400). */
  readonly ticks?: number;
  /** Override the fault profile for this run. */
  readonly faults?: FaultsOption;
  /** Override the workload. */
  readonly workload?: Workload;
  /** Liveness phase after the faults (default true); `ticks` bounds it (default 40 × electionTick). */
  readonly liveness?: boolean | { readonly ticks?: number };
}

/** Counters of a run. */
export interface SimStats {
  elections: number;
  leaderChanges: number;
  proposalsCommitted: number;
  proposalsFailed: number;
  readsServed: number;
  messagesSent: number;
  messagesDelivered: number;
  messagesDropped: number;
  crashes: number;
  restarts: number;
  partitions: number;
  pauses: number;
  snapshotsInstalled: number;
  membershipChanges: number;
  ticks: number;
  steps: number;
}

/** Outcome of {@link Simulation.run}. */
export interface SimResult {
  readonly ok: boolean;
  readonly seed: number;
  readonly violations: readonly Violation[];
  readonly stats: SimStats;
  readonly traceHash: string;
  readonly profile: FaultProfile;
  /** {@link describeProfile} of the profile. */
  readonly profileText: string;
  /** The decision log (every fault action taken). */
  readonly schedule: readonly FaultAction[];
  /** Fault-phase length used. */
  readonly ticks: number;
  /** A command that replays this run (`npm run fuzz -- --seed …`). */
  readonly replay: string;
}



