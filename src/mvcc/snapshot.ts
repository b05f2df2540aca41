/**
 * Snapshots of a store (for Raft snapshots): one `Uint8Array` holding the
 * current and compact revisions and every record a finished compaction
 * keeps, in revision order. The content depends only on the store's history,
 * never on physical compaction progress, so replicas produce identical
 * snapshots.
 *
 * Layout (format 2, little-endian): magic `0xB5`, version `2`, current
 * revision (f64), compact revision (f64), record count (u32), then per record
 * main (f64), sub (u32), value length (u32), value bytes. Writing is one
 * allocation and one copy per record; reading makes views into the input (no
 * copies). Format 1 (the shared msgpack codec) is still read.
 */
import { decode } from '../codec/index.ts';
import { allocBytes } from '../codec/frame.ts';
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

/** Format 1: the shared codec over this shape. */
interface WireV1 {
  kind: 'strata-mvcc';
  currentRev: number;
  compactRev: number;
  /** Flattened [main, sub, value, main, sub, value, …]. */
  records: (number | Uint8Array)[];
}

const MAGIC = 0xb5;
const VERSION = 2;
const HEADER = 2 + 8 + 8 + 4;
const RECORD_HEADER = 8 + 4 + 4;
const BATCH = 10000;

/** Serialise the kept records of `backend` (keep: the puts a compaction at compactRev keeps). */
export async function takeSnapshot(backend: Backend, keep: RevSet, currentRev: number, compactRev: number): Promise<Uint8Array> {
  const kept: BackendRecord[] = [];
  let size = HEADER;
  let from = { main: 0, sub: 0 };
  for (;;) {
    const recs = await backend.read(from, currentRev, BATCH);
    for (const r of recs) {
      // Below the compact revision a finished compaction keeps only the kept puts; at it, everything (R5.4).
      if (r.main < compactRev && !keep.has(r.main, r.sub)) continue;
      kept.push(r);
      size += RECORD_HEADER + r.value.length;
    }
    if (recs.length < BATCH) break;
    const last = recs[recs.length - 1]!;
    from = { main: last.main, sub: last.sub + 1 };
  }
  const out = allocBytes(size); // room behind it: wrappers frame it without a copy
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = MAGIC;
  out[1] = VERSION;
  view.setFloat64(2, currentRev, true);
  view.setFloat64(10, compactRev, true);
  view.setUint32(18, kept.length, true);
  let at = HEADER;
  for (const r of kept) {
    view.setFloat64(at, r.main, true);
    view.setUint32(at + 8, r.sub, true);
    view.setUint32(at + 12, r.value.length, true);
    out.set(r.value, at + RECORD_HEADER);
    at += RECORD_HEADER + r.value.length;
  }
  return out;
}

/** Decode {@link takeSnapshot} output; throws ErrCorrupt on anything else. */
export function readSnapshot(bytes: Uint8Array): SnapshotData {
  if (bytes[0] !== MAGIC) return readSnapshotV1(bytes);
  const bad = (why: string): never => {
    throw strataError('ErrCorrupt', `not an MVCC snapshot: ${why}`);
  };
  if (bytes.length < HEADER) bad('too short');
  if (bytes[1] !== VERSION) throw strataError('ErrFormatVersion', `unknown MVCC snapshot version ${bytes[1]}`, { version: bytes[1] });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const currentRev = view.getFloat64(2, true);
  const compactRev = view.getFloat64(10, true);
  const count = view.getUint32(18, true);
  if (!Number.isSafeInteger(currentRev) || !Number.isSafeInteger(compactRev)) bad('bad revisions');
  const base = plainView(bytes);
  const records: BackendRecord[] = [];
  let at = HEADER;
  for (let i = 0; i < count; i++) {
    if (at + RECORD_HEADER > bytes.length) bad('truncated record header');
    const main = view.getFloat64(at, true);
    const sub = view.getUint32(at + 8, true);
    const len = view.getUint32(at + 12, true);
    const start = at + RECORD_HEADER;
    if (start + len > bytes.length) bad('truncated record');
    if (!Number.isSafeInteger(main)) bad('bad record revision');
    records.push({ main, sub, value: base.subarray(start, start + len) });
    at = start + len;
  }
  if (at !== bytes.length) bad('trailing bytes');
  return { currentRev, compactRev, records };
}

function readSnapshotV1(bytes: Uint8Array): SnapshotData {
  const w = decode<WireV1>(bytes);
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
