/**
 * Quorum arithmetic, as etcd-io/raft's `quorum` package: the commit index and
 * the vote outcome of a majority configuration, and of a joint configuration
 * (both majorities must agree). Only voters appear here; learners never count.
 */
import type { NodeId } from './types.ts';

/** Outcome of a vote (or of a quorum-liveness check). */
export type VoteResult = 'pending' | 'lost' | 'won';

/** Index acknowledged by a voter, or undefined if unknown (counts as 0). */
export type AckedIndexer = (id: NodeId) => number | undefined;

/**
 * The largest index acknowledged by a majority of `voters`. An empty
 * configuration returns Infinity so that it never limits a joint config.
 */
export function majorityCommittedIndex(voters: ReadonlySet<NodeId>, acked: AckedIndexer): number {
  const n = voters.size;
  if (n === 0) return Infinity;
  const srt: number[] = new Array<number>(n);
  let i = 0;
  for (const id of voters) {
    const v = acked(id);
    srt[i++] = v === undefined ? 0 : v;
  }
  // Insertion sort, ascending: configurations are small.
  for (let a = 1; a < n; a++) {
    const x = srt[a]!;
    let b = a - 1;
    while (b >= 0 && srt[b]! > x) {
      srt[b + 1] = srt[b]!;
      b--;
    }
    srt[b + 1] = x;
  }
  // The (n/2+1)-th largest value is held by a majority.
  return srt[n - (Math.floor(n / 2) + 1)]!;
}

/**
 * Vote outcome over `voters` given recorded votes (true = granted). An empty
 * configuration wins (it never blocks a joint config).
 */
export function majorityVoteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const n = voters.size;
  if (n === 0) return 'won';
  let yes = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) yes++;
  }
  const q = Math.floor(n / 2) + 1;
  if (yes >= q) return 'won';
  if (yes + missing >= q) return 'pending';
  return 'lost';
}

/** A joint configuration: incoming and outgoing voters (outgoing empty when not joint). */
export interface JointVoters {
  readonly incoming: ReadonlySet<NodeId>;
  readonly outgoing: ReadonlySet<NodeId>;
}

/** Commit index of a joint configuration: the smaller of the two majorities'. */
export function jointCommittedIndex(cfg: JointVoters, acked: AckedIndexer): number {
  const a = majorityCommittedIndex(cfg.incoming, acked);
  const b = majorityCommittedIndex(cfg.outgoing, acked);
  return a < b ? a : b;
}

/** Vote outcome of a joint configuration: won only if both halves won, lost if either lost. */
export function jointVoteResult(cfg: JointVoters, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const r1 = majorityVoteResult(cfg.incoming, votes);
  const r2 = majorityVoteResult(cfg.outgoing, votes);
  if (r1 === r2) return r1;
  if (r1 === 'lost' || r2 === 'lost') return 'lost';
  return 'pending';
}
