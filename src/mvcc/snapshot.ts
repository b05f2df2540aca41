/**
 * Snapshots of a store (for Raft snapshots): one `Uint8Array`, encoded with
 * the shared codec, holding the current and compact revisions and every
 * record a finished compaction keeps, in revision order. The content
 * depends only on the store's history, never on physical compaction
 * progress, so replicas produce identical snapshots.
 */
import { decode, encode } from '../codec/index.ts';
import { strataError } from '../errors.ts';
import type { Backend, BackendRecord } from './backend.ts';
import { plainView } from './bytes.ts';
import type { RevSet } from './rev-set.ts';

/** Decoded snapshot content. */
export interface SnapshotData {
  currentRev: number;
  compactRev: number;
  records: BackendRecord[];
}

interface Wire {
  kind: 'strata-mvcc';
  currentRev: number;
  compactRev: number;
  /** Flattened [main, sub, value, main, sub, value, …]. */
  records: (number | Uint8Array)[];
}

const BATCH = 10000;

/** Serialise the kept records of `backend` (keep: the puts a compaction at compactRev keeps). */
export async function takeSnapshot(backend: Backend, keep: RevSet, currentRev: number, compactRev: number): Promise<Uint8Array> {
  const flat: (number | Uint8Array)[] = [];
  let from = { main: 0, sub: 0 };
  for (;;) {
    const recs = await backend.read(from, currentRev, BATCH);
    for (const r of recs) {
      // Below the compact revision a finished compaction keeps only the kept puts; at it, everything (R5.4).
      if (r.main < compactRev && !keep.has(r.main, r.sub)) continue;
      flat.push(r.main, r.sub, r.value);
    }
    if (recs.length < BATCH) break;
    const last = recs[recs.length - 1]!;
    from = { main: last.main, sub: last.sub + 1 };
  }
  const wire: Wire = { kind: 'strata-mvcc', currentRev, compactRev, records: flat };
  return encode(wire);
}

/** Decode {@link takeSnapshot} output; throws ErrCorrupt on anything else. */
export function readSnapshot(bytes: Uint8Array): SnapshotData {
  const w = decode<Wire>(bytes);
  if (w === null || typeof w !== 'object' || w.kind !== 'strata-mvcc' || !Array.isArray(w.records) || w.records.length % 3 !== 0) {
    throw strataError('ErrCorrupt', 'not an MVCC snapshot');
  }
  const records: BackendRecord[] = [];
  for (let i = 0; i < w.records.length; i += 3) {
    const main = w.records[i];
    const sub = w.records[i + 1];
    const value = w.records[i + 2];
    if (typeof main !== 'number' || typeof sub !== 'number' || !(value instanceof Uint8Array)) throw strataError('ErrCorrupt', 'bad snapshot record');
    records.push({ main, sub, value: plainView(value) });
  }
  return { currentRev: w.currentRev, compactRev: w.compactRev, records };
}

/** Snapshot bytes: await it for one Uint8Array, or iterate it for chunks of at most 1 MiB. */
export type SnapshotStream = Promise<Uint8Array> & AsyncIterable<Uint8Array>;

/** What `MVCCStore.restore` accepts: the bytes, a promise of them, or (async) chunks. */
export type SnapshotInput = Uint8Array | PromiseLike<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Chunk size of a snapshot stream. */
export const SNAPSHOT_CHUNK = 1 << 20;

/** Gather a {@link SnapshotInput} into one byte array. */
export async function collect(data: SnapshotInput): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data;
  if (typeof (data as PromiseLike<Uint8Array>).then === 'function') return await (data as PromiseLike<Uint8Array>);
  const chunks: Uint8Array[] = [];
  if (Symbol.asyncIterator in data) for await (const c of data) chunks.push(c);
  else for (const c of data as Iterable<Uint8Array>) chunks.push(c);
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
