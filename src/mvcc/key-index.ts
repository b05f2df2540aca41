/**
 * One key's history in the in-memory index: a list of generations (R1.7).
 * A generation is the life of the key from a creating Put to the tombstone
 * that ends it; the last generation is the current one and is empty while
 * the key is deleted. Pure: no I/O, no clocks.
 *
 * Invariant: every generation but the last is non-empty and ends with its
 * tombstone; revisions inside the list strictly increase.
 */
import type { Revision } from './revision.ts';

/** One generation: revisions from creation to (for closed ones) the tombstone. */
export interface Generation {
  /** Main revision of the creating Put (kept even when compaction trims `revs`). */
  created: number;
  /** Version at the last revision in `revs` (a tombstone counts one, as in etcd, so versions are `ver` minus the distance from the end). */
  ver: number;
  revs: Revision[];
}

/** What a read at some revision finds for a key. */
export interface IndexEntry {
  /** Address of the record holding the key's state. */
  rev: Revision;
  createRevision: number;
  version: number;
}

/** A key's generations. */
export class KeyIndex {
  /** The key as a binary string. */
  readonly key: string;
  /** Oldest first; the last one is current. */
  generations: Generation[] = [{ created: 0, ver: 0, revs: [] }];

  constructor(key: string) {
    this.key = key;
  }

  /** True when no history is left (a compaction removed it all). */
  isEmpty(): boolean {
    return this.generations.length === 1 && this.generations[0]!.revs.length === 0;
  }

  /** True when the key currently exists (its current generation has a put). */
  isLive(): boolean {
    return this.generations[this.generations.length - 1]!.revs.length > 0;
  }

  /** The current state, if the key is live. */
  latest(): IndexEntry | undefined {
    const g = this.generations[this.generations.length - 1]!;
    const n = g.revs.length;
    if (n === 0) return undefined;
    return { rev: g.revs[n - 1]!, createRevision: g.created, version: g.ver };
  }

  /** Newest revision of any kind (put or tombstone), if any. */
  modified(): Revision | undefined {
    for (let i = this.generations.length - 1; i >= 0; i--) {
      const revs = this.generations[i]!.revs;
      if (revs.length > 0) return revs[revs.length - 1];
    }
    return undefined;
  }

  /**
   * Record a put at `rev`. `createRevision`/`version` are the record's
   * (R1.6): for a live key they continue the generation, otherwise they
   * start it (on rebuild from a compacted backend they may start mid-way).
   */
  put(rev: Revision, createRevision: number, version: number): void {
    const g = this.generations[this.generations.length - 1]!;
    if (g.revs.length === 0) g.created = createRevision;
    g.revs.push(rev);
    g.ver = version;
  }

  /** Record a tombstone at `rev`, ending the current generation. Returns false if the key is not live. */
  tombstone(rev: Revision): boolean {
    const g = this.generations[this.generations.length - 1]!;
    if (g.revs.length === 0) return false;
    g.revs.push(rev);
    g.ver++;
    this.generations.push({ created: 0, ver: 0, revs: [] });
    return true;
  }

  /** The generation holding the key's state at `atRev`, or undefined if it was absent then. */
  private findGeneration(atRev: number): Generation | undefined {
    const last = this.generations.length - 1;
    for (let i = last; i >= 0; i--) {
      const g = this.generations[i]!;
      if (g.revs.length === 0) continue;
      // A closed generation whose tombstone is at or before atRev: deleted then.
      if (i !== last && g.revs[g.revs.length - 1]!.main <= atRev) return undefined;
      if (g.revs[0]!.main <= atRev) return g;
    }
    return undefined;
  }

  /** The key's state at `atRev` (R1.8, R2.5), or undefined if absent or deleted then. */
  get(atRev: number): IndexEntry | undefined {
    const g = this.findGeneration(atRev);
    if (g === undefined) return undefined;
    const revs = g.revs;
    for (let n = revs.length - 1; n >= 0; n--) {
      if (revs[n]!.main <= atRev) return { rev: revs[n]!, createRevision: g.created, version: g.ver - (revs.length - 1 - n) };
    }
    return undefined;
  }

  /**
   * Locate what a compaction at `atRev` keeps (R5.3): the newest generation
   * that started at or before atRev (earlier ones all ended before it), and
   * in it the newest revision with main <= atRev (-1 if none: then the
   * first generation, which starts after atRev). Searching from the newest
   * generation also covers a Txn that deleted and re-put a key in one
   * revision (a "\0"-ended delete passes etcd's duplicate check), where two
   * generations share a main revision.
   */
  private locate(atRev: number): { genIdx: number; revIdx: number } {
    let genIdx = this.generations.length - 1;
    while (genIdx > 0) {
      const revs = this.generations[genIdx]!.revs;
      if (revs.length > 0 && revs[0]!.main <= atRev) break;
      genIdx--;
    }
    const revs = this.generations[genIdx]!.revs;
    let revIdx = -1;
    for (let n = revs.length - 1; n >= 0; n--) {
      if (revs[n]!.main <= atRev) {
        revIdx = n;
        break;
      }
    }
    return { genIdx, revIdx };
  }

  /**
   * The record a compaction at `atRev` keeps for this key, excluding a
   * tombstone (what HashKV counts below the compact revision, R9.9).
   * Does not change the index.
   */
  keptAt(atRev: number): Revision | undefined {
    if (this.isEmpty()) return undefined;
    const { genIdx, revIdx } = this.locate(atRev);
    if (revIdx < 0) return undefined;
    const g = this.generations[genIdx]!;
    const isTomb = revIdx === g.revs.length - 1 && genIdx !== this.generations.length - 1;
    return isTomb ? undefined : g.revs[revIdx];
  }

  /**
   * Compact at `atRev` (R5.3): drop every revision with main <= atRev
   * except the newest one; drop whole generations that ended before; a
   * generation whose kept revision is its tombstone leaves the index.
   * `keep` receives the kept put, if any. (Records at exactly atRev, such
   * as a tombstone there, survive physically anyway: R5.4.)
   */
  compact(atRev: number, keep: (rev: Revision) => void): void {
    if (this.isEmpty()) return;
    let { genIdx, revIdx } = this.locate(atRev);
    const g = this.generations[genIdx]!;
    if (revIdx >= 0) {
      g.revs = g.revs.slice(revIdx);
      const isTomb = g.revs.length === 1 && genIdx !== this.generations.length - 1;
      if (isTomb) genIdx++;
      else keep(g.revs[0]!);
    }
    if (genIdx > 0) this.generations = this.generations.slice(genIdx);
  }
}
