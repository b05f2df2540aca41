/**
 * Exactly-once application of enveloped proposals (Raft dissertation §6.3,
 * in spirit): a replicated table of the sequence numbers applied per
 * proposer incarnation. It is part of the replicated state — derived only
 * from the committed log and carried in snapshots — so every member makes
 * the same "duplicate" decision for the same entry, whether it applied the
 * whole log or restored a snapshot.
 */
import type { NodeId } from '../raft/types.ts';

/** Per-incarnation record: every seq ≤ floor is done; `above` holds done seqs > floor. */
interface Session {
  floor: number;
  above: Set<number>;
  /** Log index of the last entry seen from this session (for pruning). */
  lastIndex: number;
}

/** Serialised form: [proposer, nonce, floor, above[], lastIndex]; proposer 0 carries the table's own state. */
export type DedupRecord = [NodeId, number, number, number[], number];

/** Most out-of-order sequence numbers remembered per session before the floor is forced up. */
const MAX_ABOVE = 4096;
/** Sessions idle for this many log entries are forgotten. */
const SESSION_TTL = 1_000_000;
/** Pruning happens at multiples of this index, at the first entry admitted past each. */
const PRUNE_EVERY = 65536;

/** The replicated dedup table. */
export class DedupTable {
  private readonly sessions = new Map<NodeId, Map<number, Session>>();
  /** Last pruning boundary passed. */
  private prunedTo = 0;

  /**
   * Record that (`proposer`, `nonce`, `seq`) is applied at `index`. Returns
   * false (and records nothing) when it was applied before — a duplicate.
   */
  admit(proposer: NodeId, nonce: number, seq: number, index: number): boolean {
    const boundary = Math.floor(index / PRUNE_EVERY) * PRUNE_EVERY;
    if (boundary > this.prunedTo) this.prune(boundary);
    let byNonce = this.sessions.get(proposer);
    if (byNonce === undefined) {
      byNonce = new Map();
      this.sessions.set(proposer, byNonce);
    }
    let s = byNonce.get(nonce);
    if (s === undefined) {
      s = { floor: 0, above: new Set(), lastIndex: index };
      byNonce.set(nonce, s);
    }
    s.lastIndex = index;
    if (seq <= s.floor || s.above.has(seq)) return false;
    if (seq === s.floor + 1) {
      s.floor = seq;
      while (s.above.delete(s.floor + 1)) s.floor++;
    } else {
      s.above.add(seq);
      if (s.above.size > MAX_ABOVE) {
        // A proposal that never committed leaves a gap; give up on the oldest gap.
        let min = Infinity;
        for (const x of s.above) if (x < min) min = x;
        s.floor = min;
        s.above.delete(min);
        while (s.above.delete(s.floor + 1)) s.floor++;
      }
    }
    return true;
  }

  /** Forget sessions idle for more than the TTL as of `boundary`. */
  private prune(boundary: number): void {
    this.prunedTo = boundary;
    for (const [p, byNonce] of this.sessions) {
      for (const [n, s] of byNonce) if (boundary - s.lastIndex > SESSION_TTL) byNonce.delete(n);
      if (byNonce.size === 0) this.sessions.delete(p);
    }
  }

  /** Serialise (deterministic order). */
  toRecords(): DedupRecord[] {
    const out: DedupRecord[] = [[0, 0, this.prunedTo, [], 0]];
    for (const p of [...this.sessions.keys()].sort((a, b) => a - b)) {
      const byNonce = this.sessions.get(p) as Map<number, Session>;
      for (const n of [...byNonce.keys()].sort((a, b) => a - b)) {
        const s = byNonce.get(n) as Session;
        out.push([p, n, s.floor, [...s.above].sort((a, b) => a - b), s.lastIndex]);
      }
    }
    return out;
  }

  /** Replace the table with serialised records. */
  load(records: readonly DedupRecord[]): void {
    this.sessions.clear();
    this.prunedTo = 0;
    for (const [p, n, floor, above, lastIndex] of records) {
      if (p === 0) {
        this.prunedTo = floor;
        continue;
      }
      let byNonce = this.sessions.get(p);
      if (byNonce === undefined) {
        byNonce = new Map();
        this.sessions.set(p, byNonce);
      }
      byNonce.set(n, { floor, above: new Set(above), lastIndex });
    }
  }
}
