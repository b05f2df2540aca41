/**
 * The MVCC backend: durable records addressed by revision, plus a few named
 * meta values (compact revisions, applied index). The store keeps its key
 * index in memory and reads records by revision.
 *
 * Contract every implementation keeps:
 * - `write()` is atomic (all of it or nothing) and ordered after every
 *   earlier `write()`; what it writes is visible to `get()`/`getMeta()`
 *   as soon as `write()` returns (before the promise settles);
 * - `read()` sees every write issued before it was called;
 * - the promise of `write()` settles once the data is in the backend
 *   (durable against a process crash for the level backend, not fsynced:
 *   like etcd's backend, durability comes from the Raft log).
 */
import type { Revision } from './revision.ts';

/** One stored record. */
export interface BackendRecord {
  main: number;
  sub: number;
  value: Uint8Array;
}

/** One atomic backend write. */
export interface BackendWrite {
  records?: readonly BackendRecord[];
  deletes?: readonly Revision[];
  /** Meta values to set; `undefined` deletes the name. */
  meta?: ReadonlyArray<readonly [string, Uint8Array | undefined]>;
}

/** Storage of MVCC records (see the module comment for the contract). */
export interface Backend {
  /** The record at (main, sub), if stored. */
  get(main: number, sub: number): Uint8Array | undefined;
  /** A meta value. */
  getMeta(name: string): Uint8Array | undefined;
  /** Apply one atomic write (records, deletions, meta). */
  write(w: BackendWrite): Promise<void>;
  /** Optional synchronous {@link write} (a backend that has nothing to wait for): done when it returns. */
  writeSync?(w: BackendWrite): void;
  /** Up to `limit` records with revision >= `from` and main <= `toMain`, in revision order. */
  read(from: Revision, toMain: number, limit: number): Promise<BackendRecord[]>;
  /** Remove every record and meta value (before a restore); like write(), visible at once and ordered. */
  clear(): Promise<void>;
  /** Rewrite storage so deleted records stop taking space (R9.8); changes no data. */
  defragment(): Promise<void>;
  /** Approximate bytes the records take in storage. */
  size(): Promise<number>;
  /** Release resources; pending writes finish first. */
  close(): Promise<void>;
}

/** Index of the first element of ascending `arr` that is >= x. */
export function lowerBoundNum(arr: readonly number[], x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** An in-memory backend (tests, simulation, ephemeral stores). */
export class MemoryBackend implements Backend {
  /** Records by main revision: the record itself when it is the only one, at sub 0 (the common case), else slots by sub. */
  private readonly byMain = new Map<number, Uint8Array | (Uint8Array | undefined)[]>();
  /** Ascending main revisions; may contain mains already emptied (skipped, pruned lazily). */
  private mains: number[] = [];
  private stale = 0;
  private readonly meta = new Map<string, Uint8Array>();
  private bytes = 0;

  get(main: number, sub: number): Uint8Array | undefined {
    const e = this.byMain.get(main);
    if (e === undefined) return undefined;
    if (e instanceof Uint8Array) return sub === 0 ? e : undefined;
    return e[sub];
  }

  getMeta(name: string): Uint8Array | undefined {
    return this.meta.get(name);
  }

  write(w: BackendWrite): Promise<void> {
    this.writeSync(w);
    return Promise.resolve();
  }

  /** Synchronous {@link write}. */
  apply(w: BackendWrite): void {
    this.writeSync(w);
  }

  writeSync(w: BackendWrite): void {
    if (w.records !== undefined) for (const r of w.records) this.putRecord(r);
    if (w.deletes !== undefined) for (const d of w.deletes) this.deleteRecord(d.main, d.sub);
    if (w.meta !== undefined) {
      for (const [name, value] of w.meta) {
        const old = this.meta.get(name);
        if (old !== undefined) this.bytes -= old.length + name.length;
        if (value === undefined) this.meta.delete(name);
        else {
          this.meta.set(name, value);
          this.bytes += value.length + name.length;
        }
      }
    }
  }

  private putRecord(r: BackendRecord): void {
    let e = this.byMain.get(r.main);
    if (e === undefined) {
      const n = this.mains.length;
      if (n === 0 || this.mains[n - 1]! < r.main) this.mains.push(r.main);
      else {
        const i = lowerBoundNum(this.mains, r.main);
        if (this.mains[i] !== r.main) this.mains.splice(i, 0, r.main);
        else this.stale--;
      }
      if (r.sub === 0) {
        this.byMain.set(r.main, r.value);
        this.bytes += r.value.length + 16;
        return;
      }
      e = [];
      this.byMain.set(r.main, e);
    } else if (e instanceof Uint8Array) {
      if (r.sub === 0) {
        this.bytes += r.value.length - e.length;
        this.byMain.set(r.main, r.value);
        return;
      }
      e = [e];
      this.byMain.set(r.main, e);
    }
    const old = e[r.sub];
    if (old !== undefined) this.bytes -= old.length + 16;
    e[r.sub] = r.value;
    this.bytes += r.value.length + 16;
  }

  private deleteRecord(main: number, sub: number): void {
    const e = this.byMain.get(main);
    if (e === undefined) return;
    let empty: boolean;
    if (e instanceof Uint8Array) {
      if (sub !== 0) return;
      this.bytes -= e.length + 16;
      empty = true;
    } else {
      const old = e[sub];
      if (old === undefined) return;
      e[sub] = undefined;
      this.bytes -= old.length + 16;
      empty = e.every((x) => x === undefined);
    }
    if (empty) {
      this.byMain.delete(main);
      if (++this.stale > 1024 && this.stale > this.mains.length / 2) {
        this.mains = this.mains.filter((m) => this.byMain.has(m));
        this.stale = 0;
      }
    }
  }

  read(from: Revision, toMain: number, limit: number): Promise<BackendRecord[]> {
    return Promise.resolve(this.readSync(from, toMain, limit));
  }

  /** Synchronous {@link read}. */
  readSync(from: Revision, toMain: number, limit: number): BackendRecord[] {
    const out: BackendRecord[] = [];
    const mains = this.mains;
    for (let i = lowerBoundNum(mains, from.main); i < mains.length && out.length < limit; i++) {
      const main = mains[i]!;
      if (main > toMain) break;
      const e = this.byMain.get(main);
      if (e === undefined) continue;
      if (e instanceof Uint8Array) {
        if (main !== from.main || from.sub === 0) out.push({ main, sub: 0, value: e });
        continue;
      }
      const slots = e;
      for (let sub = main === from.main ? from.sub : 0; sub < slots.length && out.length < limit; sub++) {
        const value = slots[sub];
        if (value !== undefined) out.push({ main, sub, value });
      }
    }
    return out;
  }

  clear(): Promise<void> {
    this.byMain.clear();
    this.mains = [];
    this.stale = 0;
    this.meta.clear();
    this.bytes = 0;
    return Promise.resolve();
  }

  /** Bytes held by records and meta. */
  sizeBytes(): number {
    return this.bytes;
  }

  /** Nothing to rewrite in memory. */
  defragment(): Promise<void> {
    return Promise.resolve();
  }

  size(): Promise<number> {
    return Promise.resolve(this.bytes);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
