/**
 * The tail of the log not yet handed to stable storage, as etcd-io/raft's
 * `unstable`: an optional incoming snapshot and the entries after
 * `offset - 1`. Entries move out when the driver confirms they are durable
 * (`stableTo`); `inProgress` marks those already returned in a Ready so they
 * are not reported twice.
 */
import type { Entry, Snapshot } from './types.ts';

/** Unstable entries and snapshot. Invariant: `entries[i].index === offset + i`. */
export class Unstable {
  /** Incoming snapshot not yet persisted. */
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];
  offset: number;
  /** Entries with index < this were already returned in a Ready. */
  offsetInProgress: number;
  /** The snapshot was already returned in a Ready. */
  snapshotInProgress = false;

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** First index if a snapshot is pending (its index + 1). */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  /** Last index held here, if any. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index;
  }

  /** Term of entry `i` if known here. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const e = this.entries[i - this.offset];
    return e === undefined ? undefined : e.term;
  }

  /** Entries not yet returned in a Ready. */
  nextEntries(): Entry[] {
    const k = this.offsetInProgress - this.offset;
    if (k >= this.entries.length) return [];
    return this.entries.slice(k);
  }

  /** The snapshot if not yet returned in a Ready. */
  nextSnapshot(): Snapshot | undefined {
    return this.snapshotInProgress ? undefined : this.snapshot;
  }

  /** Mark everything currently held as returned in a Ready. */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot !== undefined) this.snapshotInProgress = true;
  }

  /**
   * Entries up to `i` (with term `t`) are durable: drop them. Ignored when
   * the entry at `i` was since replaced by one of another term.
   */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined || gt !== t || i < this.offset) return;
    const k = i + 1 - this.offset;
    this.entries = k >= this.entries.length ? [] : this.entries.slice(k);
    this.offset = i + 1;
    if (this.offsetInProgress < this.offset) this.offsetInProgress = this.offset;
  }

  /** The snapshot at index `i` is durable: drop it. */
  stableSnapTo(i: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === i) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }

  /** Replace everything with an incoming snapshot. */
  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = s;
    this.snapshotInProgress = false;
  }

  /**
   * Append `ents` (consecutive), truncating any suffix they overwrite. When
   * they start at or before `offset` the whole unstable tail is replaced.
   */
  truncateAndAppend(ents: readonly Entry[]): void {
    if (ents.length === 0) return;
    const from = ents[0]!.index;
    if (from === this.offset + this.entries.length) {
      for (let i = 0; i < ents.length; i++) this.entries.push(ents[i]!);
    } else if (from <= this.offset) {
      this.entries = ents.slice();
      this.offset = from;
      this.offsetInProgress = from;
    } else {
      // Keep [offset, from) and append; a copy, since a Ready may hold the old array's slice.
      const kept = this.entries.slice(0, from - this.offset);
      for (let i = 0; i < ents.length; i++) kept.push(ents[i]!);
      this.entries = kept;
      if (this.offsetInProgress > from) this.offsetInProgress = from;
    }
  }

  /** Entries in [lo, hi); callers check bounds. */
  slice(lo: number, hi: number): Entry[] {
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
