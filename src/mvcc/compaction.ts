/**
 * Physical compaction (R5.6): delete, in bounded batches with pauses in
 * between, every record with main < R that the logical compaction did not
 * keep. Reads and writes go on between batches.
 */
import type { Backend, BackendWrite } from './backend.ts';
import type { RevSet } from './rev-set.ts';
import type { Clock } from '../util/clock.ts';

/** How a physical compaction runs. */
export interface PhysicalCompactionOptions {
  /** Records examined per batch (etcd: 1000). */
  batch: number;
  /** Pause between batches in ms (etcd: 10). */
  pauseMs: number;
  /** The store's clock (a virtual clock makes the pauses deterministic). */
  clock: Clock;
  /** True when someone waits for this compaction to finish: skip the pauses. */
  hurry: () => boolean;
  /** Stop early (store closing, or its state replaced by a restore). */
  stopped: () => boolean;
  /** Write a batch of deletions. */
  persist: (w: BackendWrite) => Promise<void>;
}

/** Delete what compaction at `rev` does not keep; returns the count, or -1 if stopped early. */
export async function physicalCompact(backend: Backend, rev: number, keep: RevSet, o: PhysicalCompactionOptions): Promise<number> {
  let from = { main: 0, sub: 0 };
  let deleted = 0;
  for (;;) {
    if (o.stopped()) return -1;
    const recs = await backend.read(from, rev, o.batch);
    if (o.stopped()) return -1; // e.g. a restore replaced the records while we read
    // Records at exactly R all stay (a watch from R sees the whole revision, R5.4, R6.8).
    const dels = recs.filter((r) => r.main < rev && !keep.has(r.main, r.sub));
    if (dels.length > 0) await o.persist({ deletes: dels });
    deleted += dels.length;
    if (recs.length < o.batch) break;
    const last = recs[recs.length - 1]!;
    from = { main: last.main, sub: last.sub + 1 };
    if (o.pauseMs > 0 && !o.hurry()) await new Promise<void>((resolve) => o.clock.setTimer(resolve, o.pauseMs));
  }
  return o.stopped() ? -1 : deleted;
}
