/**
 * Entry sizes for message batching and apply limits: payload length plus a
 * small constant for the header, so it is O(1) per entry.
 */
import type { Entry } from './types.ts';

/** Bytes counted per entry on top of its data. */
export const ENTRY_OVERHEAD = 16;

/** The size an entry counts for in `maxSizePerMsg` and inflight budgets. */
export function entrySize(e: Entry): number {
  return e.data.length + ENTRY_OVERHEAD;
}

/** Total size of `ents`. */
export function entriesSize(ents: readonly Entry[]): number {
  let n = 0;
  for (let i = 0; i < ents.length; i++) n += ents[i]!.data.length + ENTRY_OVERHEAD;
  return n;
}

/**
 * `src[lo, hi)` cut to the longest prefix whose total size is at most
 * `maxSize`, but always at least one entry (a big entry must still go out).
 */
export function limitSize(src: readonly Entry[], lo: number, hi: number, maxSize: number): Entry[] {
  if (hi <= lo) return [];
  if (maxSize === Infinity) return src.slice(lo, hi);
  let size = src[lo]!.data.length + ENTRY_OVERHEAD;
  let end = lo + 1;
  while (end < hi) {
    size += src[end]!.data.length + ENTRY_OVERHEAD;
    if (size > maxSize) break;
    end++;
  }
  return src.slice(lo, end);
}
