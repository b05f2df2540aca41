/**
 * Raft's safety properties (Raft paper, Figure 3), checked incrementally
 * after every simulator step:
 *
 * - Election safety: at most one leader per term.
 * - Leader append-only: a leader never overwrites or deletes its entries.
 * - Log matching: entries with the same index and term carry the same data
 *   and follow the same entry (checked inductively on every persisted entry).
 * - Leader completeness: an entry known committed by term T is in the log of
 *   every leader of a later term.
 * - State-machine safety: no two members apply different entries at an index
 *   (and each member applies indexes in order, without gaps).
 * - Commit index monotonic per member incarnation.
 * - No acknowledged proposal lost: an acknowledged entry is what every member
 *   applies at its index.
 * - Configuration agreement: every member reaches the same configuration by
 *   applying the same conf-change entry.
 * - Commit quorum: what a leader commits is persisted by a majority of the
 *   configuration in force (of both halves of a joint configuration).
 */
import type { RaftNode } from '../node/raft-node.ts';
import type { LogStore } from '../raft/log-store.ts';
import { EntryType, StateRole } from '../raft/types.ts';
import type { ConfState, Entry, HardState, NodeId, Snapshot } from '../raft/types.ts';

/** A violated invariant. */
export interface Violation {
  /** Invariant name, e.g. `election-safety`. */
  readonly invariant: string;
  readonly message: string;
  /** Simulated time (ms) and tick when detected. */
  readonly time: number;
  readonly tick: number;
  /** Node states at detection. */
  readonly states?: string;
}

/** What the checker needs to see of a member. */
export interface CheckedNode {
  readonly id: NodeId;
  /** The running incarnation, or undefined while crashed. */
  readonly node: RaftNode | undefined;
}

interface Recorded {
  readonly term: number;
  readonly data: Uint8Array;
}

interface LogRecord extends Recorded {
  /** Term of the entry before it (-1 unknown). */
  prevTerm: number;
}

interface LeaderMark {
  readonly term: number;
  readonly index: number;
  readonly entryTerm: number;
  readonly data: Uint8Array | undefined;
}

/** Byte equality with a same-object fast path. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The incremental safety checker. */
export class SafetyChecker {
  /** Violations found so far (the first is the one to report). */
  readonly violations: Violation[] = [];
  /** Leader per term (election safety). */
  readonly leaders = new Map<number, NodeId>();

  private readonly applied = new Map<number, Recorded>();
  private readonly confAt = new Map<number, string>();
  private readonly lastConfig = new Map<NodeId, ConfState>();
  private readonly acked = new Map<number, Recorded>();
  private readonly logs = new Map<number, LogRecord[]>();
  private readonly lastApplied = new Map<NodeId, number>();
  private readonly commitMark = new Map<NodeId, number>();
  private readonly leaderMark = new Map<NodeId, LeaderMark>();
  /** observed term → highest index known committed by then (with its term). */
  private readonly committed = new Map<number, { index: number; term: number }>();
  private now: () => { time: number; tick: number };
  private describe: () => string;

  constructor(
    now: () => { time: number; tick: number },
    describe: () => string,
    /** The (durably) persisted log of a member, crashed or not; undefined if never started. */
    private readonly logOf: (id: NodeId) => LogStore | undefined = () => undefined,
  ) {
    this.now = now;
    this.describe = describe;
  }

  /**
   * Commit quorum: a leader that advanced its commit index to `index` must
   * find the entry (same term) persisted by a majority of every voter set of
   * its configuration (both halves of a joint one).
   */
  private checkQuorum(leader: RaftNode, index: number, term: number): void {
    // The commit may have been decided under the configuration the leader had
    // before a conf change it applied in the same step: either one will do.
    const now = leader.configuration;
    const before = this.lastConfig.get(leader.id) ?? now;
    const short = this.quorumGap(now, index, term);
    if (short === '' || (before !== now && this.quorumGap(before, index, term) === '')) return;
    this.fail('commit-quorum', `leader ${leader.id} committed index ${index} (term ${term}) ${short}`);
  }

  /** '' when every voter set of `cfg` has a majority holding (index, term); else what is missing. */
  private quorumGap(cfg: ConfState, index: number, term: number): string {
    for (const voters of [cfg.voters, cfg.votersOutgoing]) {
      if (voters.length === 0) continue;
      let have = 0;
      for (const v of voters) if (this.holds(v, index, term)) have++;
      if (have * 2 <= voters.length) return `held by only ${have} of voters [${voters.join(',')}]`;
    }
    return '';
  }

  private holds(id: NodeId, index: number, term: number): boolean {
    const ls = this.logOf(id);
    if (ls === undefined) return false;
    if (index < ls.firstIndex()) return ls.snapshot().metadata.index >= index; // covered by its snapshot
    if (index > ls.lastIndex()) return false;
    return ls.term(index) === term;
  }

  /** Record a violation. */
  fail(invariant: string, message: string): void {
    const { time, tick } = this.now();
    this.violations.push({ invariant, message, time, tick, states: this.violations.length === 0 ? this.describe() : undefined });
  }

  /** A new incarnation of `id` started from storage (commit index may restart lower; applied restarts at its snapshot). */
  restarted(id: NodeId, snapshotIndex: number): void {
    this.commitMark.delete(id);
    this.leaderMark.delete(id);
    this.lastConfig.delete(id);
    this.lastApplied.set(id, snapshotIndex);
  }

  /** Hook: a member persisted a Ready. */
  persisted(n: RaftNode, _hs: HardState | undefined, entries: readonly Entry[], _snap: Snapshot | undefined): void {
    const ls = n.log;
    const st = n.coreState();
    const mark = this.leaderMark.get(n.id);
    for (const e of entries) {
      if (mark !== undefined && st !== undefined && st.role === StateRole.Leader && st.term === mark.term && e.index <= mark.index) {
        this.fail('leader-append-only', `leader ${n.id} (term ${mark.term}) rewrote index ${e.index} (had entries up to ${mark.index})`);
      }
      let prevTerm = -1;
      if (e.index - 1 >= ls.firstIndex() - 1) {
        try {
          prevTerm = ls.term(e.index - 1);
        } catch {
          prevTerm = -1;
        }
      }
      let list = this.logs.get(e.index);
      if (list === undefined) {
        list = [];
        this.logs.set(e.index, list);
      }
      const rec = list.find((r) => r.term === e.term);
      if (rec === undefined) {
        list.push({ term: e.term, data: e.data, prevTerm });
        continue;
      }
      if (!bytesEqual(rec.data, e.data)) {
        this.fail('log-matching', `index ${e.index} term ${e.term}: member ${n.id} holds different data than another member`);
      } else if (prevTerm >= 0 && rec.prevTerm >= 0 && prevTerm !== rec.prevTerm) {
        this.fail('log-matching', `index ${e.index} term ${e.term}: member ${n.id} has term ${prevTerm} before it, another member ${rec.prevTerm}`);
      } else if (rec.prevTerm < 0) {
        rec.prevTerm = prevTerm;
      }
    }
  }

  /**
   * Hook: a member applied committed entries. `config` is its configuration
   * after them: when the last entry is a conf change, every member must reach
   * the same configuration at that index (configuration agreement).
   */
  appliedEntries(id: NodeId, entries: readonly Entry[], config?: ConfState): void {
    const lastEntry = entries[entries.length - 1];
    if (config !== undefined && lastEntry !== undefined && lastEntry.type === EntryType.ConfChange) {
      const key = `${[...config.voters].sort((a, b) => a - b).join(',')}|${[...config.learners].sort((a, b) => a - b).join(',')}|${[...config.votersOutgoing].sort((a, b) => a - b).join(',')}`;
      const prev = this.confAt.get(lastEntry.index);
      if (prev === undefined) this.confAt.set(lastEntry.index, key);
      else if (prev !== key) this.fail('configuration-agreement', `member ${id} reached configuration ${key} at index ${lastEntry.index}, another member ${prev}`);
    }
    let last = this.lastApplied.get(id) ?? 0;
    for (const e of entries) {
      if (e.index !== last + 1) {
        this.fail('state-machine-safety', `member ${id} applied index ${e.index} after ${last}`);
      }
      last = e.index;
      const rec = this.applied.get(e.index);
      if (rec === undefined) {
        this.applied.set(e.index, { term: e.term, data: e.data });
      } else if (rec.term !== e.term || !bytesEqual(rec.data, e.data)) {
        this.fail('state-machine-safety', `member ${id} applied a different entry at index ${e.index} (term ${e.term} vs ${rec.term})`);
      }
      const ack = this.acked.get(e.index);
      if (ack !== undefined && (ack.term !== e.term || !bytesEqual(ack.data, e.data))) {
        this.fail('acknowledged-lost', `member ${id} applied term ${e.term} at index ${e.index}, where an acknowledged entry (term ${ack.term}) was`);
      }
    }
    this.lastApplied.set(id, last);
  }

  /** Hook: a member installed a snapshot. */
  restored(id: NodeId, snap: Snapshot): void {
    const prev = this.lastApplied.get(id) ?? 0;
    if (snap.metadata.index > prev) this.lastApplied.set(id, snap.metadata.index);
  }

  /** A proposal was acknowledged to a client at (index, term). */
  acknowledged(id: NodeId, index: number, term: number): void {
    const rec = this.applied.get(index);
    if (rec === undefined || rec.term !== term) {
      this.fail('acknowledged-lost', `member ${id} acknowledged (${index}, ${term}) but applied ${rec === undefined ? 'nothing' : `term ${rec.term}`} there`);
      return;
    }
    this.acked.set(index, rec);
  }

  /** Number of acknowledged entries. */
  get ackedCount(): number {
    return this.acked.size;
  }

  /** Check one member's current state (after a step touched it). */
  check(c: CheckedNode): void {
    const n = c.node;
    if (n === undefined || n.isStopped) return;
    const st = n.coreState();
    if (st === undefined) return;
    const ls = n.log;
    // Commit index monotonic within an incarnation.
    const prevCommit = this.commitMark.get(n.id) ?? 0;
    if (st.commit < prevCommit) this.fail('commit-monotonic', `member ${n.id} commit went ${prevCommit} → ${st.commit}`);
    this.commitMark.set(n.id, st.commit);
    // Record what is known committed, keyed by the term it was observed in.
    if (st.commit > 0 && st.commit <= ls.lastIndex() && st.commit >= ls.firstIndex() - 1) {
      const cur = this.committed.get(st.term);
      if (cur === undefined || cur.index < st.commit) this.committed.set(st.term, { index: st.commit, term: ls.term(st.commit) });
    }
    if (st.role === StateRole.Leader && st.commit > prevCommit && st.commit >= ls.firstIndex() && st.commit <= ls.lastIndex()) {
      this.checkQuorum(n, st.commit, ls.term(st.commit));
    }
    this.lastConfig.set(n.id, n.configuration);
    if (st.role !== StateRole.Leader) return;
    // Election safety.
    const other = this.leaders.get(st.term);
    if (other === undefined) this.leaders.set(st.term, n.id);
    else if (other !== n.id) this.fail('election-safety', `members ${other} and ${n.id} are both leader of term ${st.term}`);
    // Leader append-only: the entry at the mark is still there, unchanged.
    const last = ls.lastIndex();
    const mark = this.leaderMark.get(n.id);
    if (mark !== undefined && mark.term === st.term && mark.index >= ls.firstIndex()) {
      const now = mark.index <= last ? ls.entries(mark.index, mark.index + 1)[0] : undefined;
      if (now === undefined || now.term !== mark.entryTerm || (mark.data !== undefined && !bytesEqual(now.data, mark.data))) {
        this.fail('leader-append-only', `leader ${n.id} (term ${st.term}) lost or changed its entry at ${mark.index}`);
      }
    }
    if (last >= ls.firstIndex()) {
      const e = ls.entries(last, last + 1)[0];
      if (e !== undefined) this.leaderMark.set(n.id, { term: st.term, index: last, entryTerm: e.term, data: e.data });
    }
    // Leader completeness: everything known committed before this term is in our log.
    let need: { index: number; term: number } | undefined;
    for (const [t, c2] of this.committed) if (t < st.term && (need === undefined || c2.index > need.index)) need = c2;
    if (need !== undefined && need.index >= ls.firstIndex()) {
      if (need.index > last || ls.term(need.index) !== need.term) {
        this.fail('leader-completeness', `leader ${n.id} of term ${st.term} lacks committed entry ${need.index} (term ${need.term})`);
      }
    }
  }
}
