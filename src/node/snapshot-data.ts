/**
 * What a {@link RaftNode} snapshot carries: the application's snapshot plus
 * the node's own replicated state (the dedup table and the member address
 * book learned from conf-change contexts).
 */
import { decode, encode } from '../codec/index.ts';
import type { NodeId } from '../raft/types.ts';
import type { DedupRecord } from './dedup.ts';

/** Decoded snapshot payload. */
export interface NodeSnapshotData {
  /** Payload format version. */
  readonly v: 1;
  /** Dedup table. */
  readonly d: DedupRecord[];
  /** Member addresses: [id, address]. */
  readonly m: Array<[NodeId, string]>;
  /** The application state machine's snapshot. */
  readonly a: Uint8Array;
}

/** Encode a node snapshot payload. */
export function encodeSnapshotData(d: DedupRecord[], m: Array<[NodeId, string]>, a: Uint8Array): Uint8Array {
  const doc: NodeSnapshotData = { v: 1, d, m, a };
  return encode(doc);
}

/** Decode a node snapshot payload (throws `ErrCorrupt` / `ErrFormatVersion`). */
export function decodeSnapshotData(bytes: Uint8Array): NodeSnapshotData {
  const doc = decode<NodeSnapshotData>(bytes);
  const a = doc.a instanceof Uint8Array ? doc.a : new Uint8Array(doc.a as ArrayLike<number>);
  return { v: 1, d: doc.d ?? [], m: doc.m ?? [], a };
}
