/**
 * The TCP transport's wire protocol (inside the frames of frame.ts). Every
 * frame payload is a codec record holding a small array whose first element
 * is the frame kind:
 *
 * - `[1, protocol, from, to]` — hello: the first frame on every connection;
 *   the dialer names itself and the member it meant to reach.
 * - `[2, message]` — one Raft message.
 * - `[3, stream, total, offset, header | null, bytes]` — one chunk of a
 *   MsgSnap's `snapshot.data`. Chunks of a stream arrive contiguously in
 *   order (other frames may be interleaved); the first (offset 0) carries the
 *   message with empty snapshot data as `header`. The bytes come last so the
 *   sender can write them straight from the snapshot without copying (see
 *   {@link chunkFramePrefix}).
 *
 * Everything read from a peer is validated here; anything unexpected throws
 * `ErrCorrupt` and the connection is closed.
 */
import { MessageType } from '../raft/types.ts';
import type { Message, NodeId, Snapshot } from '../raft/types.ts';
import { Buffer } from 'node:buffer';
import { strataError } from '../errors.ts';
import { FORMAT_VERSION, encodeRaw } from '../codec/index.ts';
import { FRAME_HEADER_BYTES } from './frame.ts';

/** Wire protocol version carried in the hello frame. */
export const PROTOCOL_VERSION = 1;

/** Frame kinds. */
export const FrameKind = { Hello: 1, Msg: 2, SnapChunk: 3 } as const;

/** First frame on a connection. */
export interface HelloFrame {
  readonly kind: typeof FrameKind.Hello;
  readonly from: NodeId;
  readonly to: NodeId;
}
/** One message. */
export interface MsgFrame {
  readonly kind: typeof FrameKind.Msg;
  readonly message: Message;
}
/** One chunk of a snapshot stream. */
export interface ChunkFrame {
  readonly kind: typeof FrameKind.SnapChunk;
  readonly stream: number;
  readonly total: number;
  readonly offset: number;
  readonly data: Uint8Array;
  readonly header: Message | null;
}
/** Any frame. */
export type WireFrame = HelloFrame | MsgFrame | ChunkFrame;

const EMPTY = new Uint8Array(0);
const MAX_MESSAGE_TYPE = Math.max(...Object.values(MessageType));

/** The value to encode for a hello frame. */
export function helloValue(from: NodeId, to: NodeId): readonly unknown[] {
  return [FrameKind.Hello, PROTOCOL_VERSION, from, to];
}

/** The value to encode for a message frame. */
export function msgValue(message: Message): readonly unknown[] {
  return [FrameKind.Msg, message];
}

/** The value to encode for a snapshot chunk frame (see also {@link chunkFramePrefix}). */
export function chunkValue(stream: number, total: number, offset: number, data: Uint8Array, header: Message | null): readonly unknown[] {
  return [FrameKind.SnapChunk, stream, total, offset, header, data];
}

/**
 * The bytes of a chunk frame up to (not including) its `dataLength` data
 * bytes: length prefix, format version, and the msgpack array with a bin32
 * header for the data. `prefix + data` is a frame that decodes exactly like
 * `encodeFrame(chunkValue(...))`, but the (large) data is never copied.
 */
export function chunkFramePrefix(stream: number, total: number, offset: number, dataLength: number, header: Message | null): Buffer {
  // Pack the first five elements as a 5-array, then turn it into a 6-array
  // whose sixth element is a bin32 of dataLength bytes.
  const head = encodeRaw([FrameKind.SnapChunk, stream, total, offset, header]);
  if (head[0] !== 0x95) throw strataError('ErrCorrupt', 'unexpected msgpack array header');
  const payloadLength = 1 + head.length + 5 + dataLength;
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1 + head.length + 5);
  let p = 0;
  out.writeUInt32BE(payloadLength, p);
  p += FRAME_HEADER_BYTES;
  out[p++] = FORMAT_VERSION;
  out.set(head, p);
  out[p] = 0x96; // fixarray of 6
  p += head.length;
  out[p++] = 0xc6; // bin32
  out.writeUInt32BE(dataLength, p);
  return out;
}

/** `message` with its snapshot data removed (sent ahead of the chunks). */
export function snapshotHeader(message: Message): Message {
  const snap = message.snapshot as Snapshot;
  return { ...message, snapshot: { metadata: snap.metadata, data: EMPTY } };
}

function corrupt(what: string): never {
  throw strataError('ErrCorrupt', `malformed frame: ${what}`);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function isIdList(v: unknown): boolean {
  return Array.isArray(v) && v.every(isCount);
}

function checkEntry(v: unknown): void {
  if (typeof v !== 'object' || v === null) corrupt('entry is not a record');
  const e = v as Record<string, unknown>;
  if (!isCount(e.term) || !isCount(e.index) || (e.type !== 0 && e.type !== 1) || !isBytes(e.data)) corrupt('bad entry');
}

function checkSnapshot(v: unknown): void {
  if (typeof v !== 'object' || v === null) corrupt('snapshot is not a record');
  const s = v as Record<string, unknown>;
  const md = s.metadata as Record<string, unknown> | null | undefined;
  if (typeof md !== 'object' || md === null || !isCount(md.index) || !isCount(md.term)) corrupt('bad snapshot metadata');
  const cs = md.confState as Record<string, unknown> | null | undefined;
  if (typeof cs !== 'object' || cs === null) corrupt('bad confState');
  if (!isIdList(cs.voters) || !isIdList(cs.learners) || !isIdList(cs.votersOutgoing) || !isIdList(cs.learnersNext)) {
    corrupt('bad confState lists');
  }
  if (typeof cs.autoLeave !== 'boolean') corrupt('bad confState autoLeave');
  if (!isBytes(s.data)) corrupt('bad snapshot data');
}

/** Check that `v` has the shape of a {@link Message}; returns it typed. */
export function checkMessage(v: unknown): Message {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) corrupt('message is not a record');
  const m = v as Record<string, unknown>;
  if (!isCount(m.type) || m.type > MAX_MESSAGE_TYPE) corrupt('bad message type');
  for (const k of ['from', 'to', 'term', 'logTerm', 'index', 'commit', 'rejectHint'] as const) {
    if (!isCount(m[k])) corrupt(`bad message field ${k}`);
  }
  if (typeof m.reject !== 'boolean') corrupt('bad message field reject');
  if (!Array.isArray(m.entries)) corrupt('bad message entries');
  for (const e of m.entries) checkEntry(e);
  if (m.snapshot !== undefined && m.snapshot !== null) checkSnapshot(m.snapshot);
  if (m.context !== undefined && m.context !== null && !isBytes(m.context)) corrupt('bad message context');
  if (m.snapshot === null) delete m.snapshot;
  if (m.context === null) delete m.context;
  return m as unknown as Message;
}

/** Check a decoded frame value; throws `ErrCorrupt` when it is not a valid frame. */
export function parseFrame(v: unknown): WireFrame {
  if (!Array.isArray(v) || v.length === 0) corrupt('not a frame array');
  switch (v[0]) {
    case FrameKind.Hello: {
      if (v.length !== 4 || v[1] !== PROTOCOL_VERSION || !isCount(v[2]) || v[2] === 0 || !isCount(v[3])) corrupt('bad hello');
      return { kind: FrameKind.Hello, from: v[2] as number, to: v[3] as number };
    }
    case FrameKind.Msg: {
      if (v.length !== 2) corrupt('bad message frame');
      return { kind: FrameKind.Msg, message: checkMessage(v[1]) };
    }
    case FrameKind.SnapChunk: {
      const [, stream, total, offset, header, data] = v as unknown[];
      if (v.length !== 6 || !isCount(stream) || !isCount(total) || !isCount(offset) || !isBytes(data)) corrupt('bad chunk');
      let h: Message | null = null;
      if (header !== null && header !== undefined) {
        h = checkMessage(header);
        if (h.type !== MessageType.MsgSnap || h.snapshot === undefined) corrupt('chunk header is not a MsgSnap');
      }
      return { kind: FrameKind.SnapChunk, stream, total, offset, data, header: h };
    }
    default:
      return corrupt(`unknown frame kind ${String(v[0])}`);
  }
}

/**
 * Reassembles the snapshot streams of one connection. At most one stream is
 * open at a time; a chunk out of order, beyond the announced size, or for a
 * different stream while one is open is a protocol violation.
 */
export class SnapshotAssembler {
  private stream = -1;
  private header: Message | undefined;
  private buf: Uint8Array = EMPTY;
  private filled = 0;

  /** @param maxSnapshotBytes largest snapshot accepted. */
  constructor(readonly maxSnapshotBytes: number) {}

  /** True while a stream is partially received. */
  get open(): boolean {
    return this.header !== undefined;
  }

  /** Add a chunk; returns the complete MsgSnap once its last chunk arrived. */
  push(c: ChunkFrame): Message | undefined {
    if (this.header === undefined) {
      if (c.offset !== 0 || c.header === null) corrupt('snapshot stream does not start at offset 0 with a header');
      if (c.total > this.maxSnapshotBytes) corrupt(`snapshot of ${c.total} bytes exceeds ${this.maxSnapshotBytes}`);
      this.stream = c.stream;
      this.header = c.header;
      this.buf = c.total === c.data.length ? c.data : new Uint8Array(c.total);
      this.filled = 0;
    } else if (c.stream !== this.stream || c.offset !== this.filled || c.header !== null) {
      corrupt(`unexpected chunk (stream ${c.stream} offset ${c.offset}, expected stream ${this.stream} offset ${this.filled})`);
    }
    if (c.total !== this.buf.length || this.filled + c.data.length > c.total) corrupt('chunk overruns the snapshot');
    if (this.buf !== c.data) this.buf.set(c.data, this.filled);
    this.filled += c.data.length;
    if (this.filled < this.buf.length) return undefined;
    const header = this.header;
    const snap = header.snapshot as Snapshot;
    const message: Message = { ...header, snapshot: { metadata: snap.metadata, data: this.buf } };
    this.header = undefined;
    this.buf = EMPTY;
    this.filled = 0;
    return message;
  }
}

