/**
 * What a {@link RaftNode} snapshot carries: the application's snapshot plus
 * the node's own replicated state (the dedup table and the member address
 * book learned from conf-change contexts).
 */
import { decode } from '../codec/index.ts';
import { frame, isFrame, unframe } from '../codec/frame.ts';
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

/** Encode a node snapshot payload: the application's bytes framed with the rest (no copy of them when they have room, see `frame`). */
export function encodeSnapshotData(d: DedupRecord[], m: Array<[NodeId, string]>, a: Uint8Array): Uint8Array {
  return frame(a, { v: 1, d, m });
}

/** Decode a node snapshot payload (throws `ErrCorrupt` / `ErrFormatVersion`). */
export function decodeSnapshotData(bytes: Uint8Array): NodeSnapshotData {
  if (isFrame(bytes)) {
    const { header, body } = unframe<{ d?: DedupRecord[]; m?: Array<[NodeId, string]> }>(bytes);
    return { v: 1, d: header.d ?? [], m: header.m ?? [], a: body };
  }
  // Written before framing: the whole document through the codec.
  const doc = decode<NodeSnapshotData>(bytes);
  const a = doc.a instanceof Uint8Array ? doc.a : new Uint8Array(doc.a as ArrayLike<number>);
  return { v: 1, d: doc.d ?? [], m: doc.m ?? [], a };
}
