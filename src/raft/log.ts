/**
 * The log as the Raft core sees it, as etcd-io/raft's `raftLog`: the stable
 * part in the {@link LogStore}, the unstable tail, and the commit and apply
 * cursors. Invariant: applied <= applying <= committed <= lastIndex.
 */
import { strataError } from '../errors.ts';
import { log } from '../util/log.ts';
import { entriesSize, limitSize } from './entry-size.ts';
import type { LogStore } from './log-store.ts';
import { Unstable } from './log-unstable.ts';
import type { Entry, Snapshot } from './types.ts';

/** Stable storage plus unstable tail plus commit/apply cursors. */
export class RaftLog {
  readonly storage: LogStore;
  readonly unstable: Unstable;
  /** Highest index known to be committed. */
  committed: number;
  /** Highest index applied by the state machine (confirmed by advance). */
  applied: number;
  /** Highest index handed out for applying in a Ready. */
  applying: number;
  /** Cap on the size of committed entries returned in one Ready. */
  readonly maxApplyingSize: number;

  constructor(storage: LogStore, maxApplyingSize = Infinity) {
    this.storage = storage;
    const first = storage.firstIndex();
    this.unstable = new Unstable(storage.lastIndex() + 1);
    this.committed = first - 1;
    this.applied = first - 1;
    this.applying = first - 1;
    this.maxApplyingSize = maxApplyingSize;
  }

  /** First index with an entry available (snapshot index + 1). */
  firstIndex(): number {
    const i = this.unstable.maybeFirstIndex();
    return i !== undefined ? i : this.storage.firstIndex();
  }

  /** Index of the last entry. */
  lastIndex(): number {
    const i = this.unstable.maybeLastIndex();
    return i !== undefined ? i : this.storage.lastIndex();
  }

  /**
   * Term of entry `i`, or undefined when it is compacted or beyond the last
   * index. The term at firstIndex-1 (the snapshot) is available.
   */
  term(i: number): number | undefined {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    if (i + 1 < this.firstIndex() || i > this.lastIndex()) return undefined;
    try {
      return this.storage.term(i);
    } catch {
      return undefined;
    }
  }

  /** Term of entry `i`, 0 when unknown. */
  zeroTermOnOutOfBounds(i: number): number {
    const t = this.term(i);
    return t === undefined ? 0 : t;
  }

  /** Term of the last entry. */
  lastTerm(): number {
    return this.zeroTermOnOutOfBounds(this.lastIndex());
  }

  /** True if the entry at `i` exists and has term `t`. */
  matchTerm(i: number, t: number): boolean {
    return this.term(i) === t;
  }

  /**
   * §5.4.1: a candidate's log (last term `term`, last index `lasti`) is at
   * least as up to date as ours.
   */
  isUpToDate(lasti: number, term: number): boolean {
    const lt = this.lastTerm();
    return term > lt || (term === lt && lasti >= this.lastIndex());
  }

  /**
   * The AppendEntries consistency check and append (§5.3). Returns the index
   * of the last new entry, or -1 if the entry at `index` does not have
   * `logTerm`. Conflicting suffixes are truncated; committed entries are
   * never rewritten (returns -1 if that would be needed, which only a broken
   * leader can cause).
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number {
    if (!this.matchTerm(index, logTerm)) return -1;
    const lastnewi = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) {
        log.raft('refusing to overwrite committed entry %d (committed %d)', ci, this.committed);
        return -1;
      }
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastnewi));
    return lastnewi;
  }

  /** Append entries to the unstable tail (truncating what they overwrite). Returns the last index. */
  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) {
      throw strataError('ErrInvalidArgument', `append after ${after} is below committed ${this.committed}`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * Index of the first entry of `ents` whose term differs from ours (or
   * that we lack); 0 if all match.
   */
  findConflict(ents: readonly Entry[]): number {
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i]!;
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Fast backtracking: the largest index <= `index` whose term is <= `term`,
   * with that term. If the term is unknown (compacted) returns the index
   * with term 0.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      const t = this.term(index);
      if (t === undefined) return { index, term: 0 };
      if (t <= term) return { index, term: t };
    }
    return { index: 0, term: 0 };
  }

  /** Advance the commit index (never backwards, never beyond the last index). */
  commitTo(tocommit: number): void {
    if (tocommit <= this.committed) return;
    const last = this.lastIndex();
    if (tocommit > last) {
      log.raft('commit %d out of range [last %d]; clamped', tocommit, last);
      tocommit = last;
      if (tocommit <= this.committed) return;
    }
    this.committed = tocommit;
  }

  /**
   * Commit `maxIndex` if it is in term `term` (§5.4.2: a leader commits only
   * entries of its own term by counting replicas).
   */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.zeroTermOnOutOfBounds(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  /** The state machine applied up to `i`. */
  appliedTo(i: number): void {
    if (i === 0 || i <= this.applied) return;
    if (i > this.committed) {
      log.raft('applied %d beyond committed %d; clamped', i, this.committed);
      i = this.committed;
    }
    this.applied = i;
    if (this.applying < i) this.applying = i;
  }

  /** A pending incoming snapshot (not yet durable). */
  hasNextOrInProgressSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  /** True if committed entries wait to be handed out for applying. */
  hasNextCommittedEnts(): boolean {
    if (this.hasNextOrInProgressSnapshot()) return false;
    return this.committed > this.applying && this.applying + 1 >= this.firstIndex();
  }

  /** Committed entries not yet handed out, capped by `maxApplyingSize`. */
  nextCommittedEnts(): Entry[] {
    if (!this.hasNextCommittedEnts()) return [];
    return this.slice(this.applying + 1, this.committed + 1, this.maxApplyingSize);
  }

  /** Entries in [i, lastIndex], capped by `maxSize`. Throws ErrCompacted below firstIndex. */
  entries(i: number, maxSize = Infinity): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSize);
  }

  /** The current snapshot (pending incoming one first). */
  snapshot(): Snapshot {
    return this.unstable.snapshot !== undefined ? this.unstable.snapshot : this.storage.snapshot();
  }

  /** Replace the log with an incoming snapshot. */
  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /**
   * Entries in [lo, hi) capped by `maxSize` (at least one entry). Throws
   * ErrCompacted if lo < firstIndex.
   */
  slice(lo: number, hi: number, maxSize = Infinity): Entry[] {
    if (lo < this.firstIndex()) throw strataError('ErrCompacted', `entry ${lo} compacted`);
    if (hi > this.lastIndex() + 1) hi = this.lastIndex() + 1;
    if (lo >= hi) return [];
    const uoff = this.unstable.offset;
    if (lo >= uoff) return limitSize(this.unstable.entries, lo - uoff, hi - uoff, maxSize);
    const cut = Math.min(hi, uoff);
    const ents = this.storage.entries(lo, cut, maxSize);
    if (hi <= uoff || ents.length < cut - lo) return ents;
    if (maxSize === Infinity) {
      const u = this.unstable.entries;
      for (let i = 0; i < hi - uoff; i++) ents.push(u[i]!);
      return ents;
    }
    const size = entriesSize(ents);
    if (size >= maxSize) return ents;
    const more = limitSize(this.unstable.entries, 0, hi - uoff, maxSize - size);
    // limitSize returns at least one entry; drop it if it does not fit.
    if (more.length === 1 && entriesSize(more) > maxSize - size) return ents;
    for (let i = 0; i < more.length; i++) ents.push(more[i]!);
    return ents;
  }

  /** Entries up to `i` with term `t` are durable. */
  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  /** Snapshot at `i` is durable. */
  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }
}
