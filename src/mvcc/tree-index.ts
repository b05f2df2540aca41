/**
 * The ordered in-memory index over keys (etcd's treeIndex): key → its
 * {@link KeyIndex}, iterable in byte order. Keys are binary strings (see
 * bytes.ts). Storage is a two-level B-tree: a list of sorted chunks of at
 * most {@link CHUNK} keys, located by binary search over the chunks' last
 * keys, so lookups, inserts and range starts are O(log n) plus a small
 * splice. Pure: no I/O.
 */
import { KeyIndex } from './key-index.ts';

const CHUNK = 512;

/** Ordered key → KeyIndex map. */
export class TreeIndex {
  private chunks: string[][] = [];
  private readonly map = new Map<string, KeyIndex>();

  /** Number of keys with any history. */
  get size(): number {
    return this.map.size;
  }

  /** The key's index, if it has history. */
  get(key: string): KeyIndex | undefined {
    return this.map.get(key);
  }

  /** The key's index, created (empty) if missing. */
  getOrCreate(key: string): KeyIndex {
    let ki = this.map.get(key);
    if (ki !== undefined) return ki;
    ki = new KeyIndex(key);
    this.map.set(key, ki);
    this.insertKey(key);
    return ki;
  }

  /** Forget a key (used when compaction removed all of its history). */
  delete(key: string): void {
    if (!this.map.delete(key)) return;
    const c = this.chunkFor(key);
    const chunk = this.chunks[c]!;
    const i = lowerBound(chunk, key);
    chunk.splice(i, 1);
    if (chunk.length === 0) this.chunks.splice(c, 1);
  }

  /**
   * Visit keys in `[start, end)` in order; `end === ''` means unbounded.
   * The visitor returns false to stop.
   */
  visit(start: string, end: string, fn: (ki: KeyIndex) => boolean | void): void {
    const chunks = this.chunks;
    let c = this.chunkFor(start);
    if (c >= chunks.length) return;
    let i = lowerBound(chunks[c]!, start);
    const bounded = end !== '';
    for (; c < chunks.length; c++, i = 0) {
      const chunk = chunks[c]!;
      for (; i < chunk.length; i++) {
        const k = chunk[i]!;
        if (bounded && k >= end) return;
        if (fn(this.map.get(k)!) === false) return;
      }
    }
  }

  /** Visit every key in order. */
  forEach(fn: (ki: KeyIndex) => void): void {
    for (const chunk of this.chunks) for (const k of chunk) fn(this.map.get(k)!);
  }

  /** Index of the first chunk whose last key is >= key (chunks.length if none). */
  private chunkFor(key: string): number {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const ch = chunks[mid]!;
      if (ch[ch.length - 1]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insertKey(key: string): void {
    const chunks = this.chunks;
    if (chunks.length === 0) {
      chunks.push([key]);
      return;
    }
    let c = this.chunkFor(key);
    if (c === chunks.length) c--; // larger than every key: append to the last chunk
    const chunk = chunks[c]!;
    const i = lowerBound(chunk, key);
    if (i === chunk.length) chunk.push(key);
    else chunk.splice(i, 0, key);
    if (chunk.length > CHUNK) chunks.splice(c + 1, 0, chunk.splice(CHUNK >>> 1));
  }
}

/** First index in sorted `arr` whose element is >= key. */
function lowerBound(arr: readonly string[], key: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
