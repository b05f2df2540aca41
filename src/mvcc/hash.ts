/**
 * HashKV (R9.9): CRC-32C over the raw records (revision bytes, then value
 * bytes) with main revision <= R, in revision order. Records at or below
 * the compact revision count only if a compaction at R would keep them,
 * and a tombstone exactly at the compact revision never counts, so the
 * hash does not depend on how far physical compaction has progressed:
 * stores with identical history hash identically.
 */
import { crc32c } from '../codec/index.ts';
import type { Backend } from './backend.ts';
import { isTombstoneRecord } from './record.ts';
import { RevSet } from './rev-set.ts';
import { revToBytes } from './revision.ts';
import type { TreeIndex } from './tree-index.ts';

const BUCKET = new TextEncoder().encode('key');
const BATCH = 10000;

/** The records a compaction at `rev` keeps, tombstones excluded (etcd's Keep). */
export function keepAt(index: TreeIndex, rev: number): RevSet {
  const keep = new RevSet();
  index.forEach((ki) => {
    const r = ki.keptAt(rev);
    if (r !== undefined) keep.add(r);
  });
  return keep;
}

/** Hash the records of `backend` up to `rev` under compact revision `compactRev`. */
export async function hashKV(backend: Backend, keep: RevSet, compactRev: number, rev: number): Promise<number> {
  let h = crc32c(BUCKET);
  let from = { main: 0, sub: 0 };
  for (;;) {
    const recs = await backend.read(from, rev, BATCH);
    for (const r of recs) {
      if (r.main <= compactRev) {
        if (!keep.has(r.main, r.sub)) continue;
        if (r.main === compactRev && isTombstoneRecord(r.value)) continue;
      }
      h = crc32c(revToBytes(r.main, r.sub), h);
      h = crc32c(r.value, h);
    }
    if (recs.length < BATCH) return h;
    const last = recs[recs.length - 1]!;
    from = { main: last.main, sub: last.sub + 1 };
  }
}

/** Hash every record in the backend (tests only: depends on physical compaction progress). */
export async function hashAll(backend: Backend): Promise<number> {
  let h = crc32c(BUCKET);
  let from = { main: 0, sub: 0 };
  for (;;) {
    const recs = await backend.read(from, Number.MAX_SAFE_INTEGER, BATCH);
    for (const r of recs) {
      h = crc32c(revToBytes(r.main, r.sub), h);
      h = crc32c(r.value, h);
    }
    if (recs.length < BATCH) return h;
    const last = recs[recs.length - 1]!;
    from = { main: last.main, sub: last.sub + 1 };
  }
}
