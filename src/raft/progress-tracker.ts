/**
 * The leader's view of the cluster, as etcd-io/raft's `tracker`: the active
 * configuration (joint voters, learners), a {@link Progress} per member, and
 * the votes of the current election.
 */
import { Inflights } from './inflights.ts';
import { Progress } from './progress.ts';
import type { JointVoters, VoteResult } from './quorum.ts';
import { jointCommittedIndex, jointVoteResult } from './quorum.ts';
import type { ConfState, NodeId } from './types.ts';

/** A membership configuration as the tracker holds it. */
export interface TrackerConfig {
  /** Incoming (current) and outgoing voters; outgoing is empty unless joint. */
  voters: { incoming: Set<NodeId>; outgoing: Set<NodeId> };
  /** Learners; disjoint from both voter sets. */
  learners: Set<NodeId>;
  /** Outgoing voters that become learners when the joint config is left. */
  learnersNext: Set<NodeId>;
  /** Leave the joint config automatically once it is applied. */
  autoLeave: boolean;
}

/** A deep copy of a configuration. */
export function cloneConfig(c: TrackerConfig): TrackerConfig {
  return {
    voters: { incoming: new Set(c.voters.incoming), outgoing: new Set(c.voters.outgoing) },
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
    autoLeave: c.autoLeave,
  };
}

/** The configuration with nobody in it. */
export function emptyConfig(): TrackerConfig {
  return { voters: { incoming: new Set(), outgoing: new Set() }, learners: new Set(), learnersNext: new Set(), autoLeave: false };
}

/** True when the configuration is joint (has outgoing voters). */
export function isJoint(c: TrackerConfig): boolean {
  return c.voters.outgoing.size > 0;
}

const sorted = (s: ReadonlySet<NodeId>): NodeId[] => [...s].sort((a, b) => a - b);

/** The {@link ConfState} describing a configuration (ids sorted). */
export function configToConfState(c: TrackerConfig): ConfState {
  return {
    voters: sorted(c.voters.incoming),
    learners: sorted(c.learners),
    votersOutgoing: sorted(c.voters.outgoing),
    learnersNext: sorted(c.learnersNext),
    autoLeave: c.autoLeave,
  };
}

/** Configuration, per-member progress and election votes. */
export class ProgressTracker {
  config: TrackerConfig = emptyConfig();
  progress: Map<NodeId, Progress> = new Map();
  votes: Map<NodeId, boolean> = new Map();
  readonly maxInflight: number;
  readonly maxInflightBytes: number;

  constructor(maxInflight: number, maxInflightBytes = 0) {
    this.maxInflight = maxInflight;
    this.maxInflightBytes = maxInflightBytes;
  }

  /** A fresh progress for a member. */
  newProgress(match: number, next: number, isLearner: boolean): Progress {
    return new Progress(match, next, new Inflights(this.maxInflight, this.maxInflightBytes), isLearner);
  }

  /** Voters as a joint configuration for the quorum functions. */
  jointVoters(): JointVoters {
    return this.config.voters;
  }

  /** The current configuration as a ConfState. */
  confState(): ConfState {
    return configToConfState(this.config);
  }

  /** True if the only voter is a single node (no outgoing config). */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  /** The largest index replicated on a quorum (joint-aware; learners excluded). */
  committed(): number {
    return jointCommittedIndex(this.config.voters, this.matchOf);
  }

  /** Match index of a member (bound once: the commit computation runs on every ack). */
  private readonly matchOf = (id: NodeId): number | undefined => {
    const pr = this.progress.get(id);
    return pr === undefined ? undefined : pr.match;
  };

  /** True if a quorum of voters was recently active (`self` always counts). */
  quorumActive(self: NodeId): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      votes.set(id, id === self || pr.recentActive);
    }
    return jointVoteResult(this.config.voters, votes) === 'won';
  }

  /** Union of incoming and outgoing voters, sorted. */
  voterNodes(): NodeId[] {
    const s = new Set<NodeId>(this.config.voters.incoming);
    for (const id of this.config.voters.outgoing) s.add(id);
    return sorted(s);
  }

  /** Learners, sorted. */
  learnerNodes(): NodeId[] {
    return sorted(this.config.learners);
  }

  /** True if `id` is a voter in either half of the configuration. */
  isVoter(id: NodeId): boolean {
    return this.config.voters.incoming.has(id) || this.config.voters.outgoing.has(id);
  }

  /** Forget the votes of the last election. */
  resetVotes(): void {
    this.votes = new Map();
  }

  /** Record `id`'s vote (only its first vote in an election counts). */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** Granted and rejected counts among voters, and the election outcome. */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) };
  }
}
