/**
 * Framing a large body with a small header without copying the body.
 *
 * Snapshots are the one place Strata moves tens of megabytes: the MVCC
 * store's bytes, wrapped by the state machine (leases, alarms), wrapped again
 * by RaftNode (dedup table, member addresses). Each wrap used to copy the
 * whole body into a new buffer; on a VM where first-touch page faults cost
 * ~16 µs per 4 KiB page, an 86 MB copy costs ~0.3 s. A frame therefore puts
 * its header *after* the body — `[body][header][u32 header length][MAGIC][version]`
 * — and a body allocated with {@link allocBytes} has untouched room behind it,
 * so the header is written in place. Any other body is copied once.
 */
import { decodeRaw, encodeRaw } from './index.ts';
import { strataError } from '../errors.ts';

const MAGIC = 0xf5;
const VERSION = 1;
const TAIL = 4 + 2;
/** Room left behind a body from {@link allocBytes} (never touched unless a frame uses it). */
const SLACK = 256 * 1024;

/** Buffers from {@link allocBytes}: the end of the bytes in use. */
const inUse = new WeakMap<ArrayBufferLike, number>();

/**
 * A zeroed byte array of `length` with room behind it, so that
 * {@link frame} can append headers without copying it.
 */
export function allocBytes(length: number): Uint8Array {
  const buf = new ArrayBuffer(length + SLACK);
  inUse.set(buf, length);
  return new Uint8Array(buf, 0, length);
}

/** `body` followed by `header` (anything the codec encodes). */
export function frame(body: Uint8Array, header: unknown): Uint8Array {
  const head = encodeRaw(header);
  const extra = head.length + TAIL;
  const end = body.byteOffset + body.length;
  let out: Uint8Array;
  if (inUse.get(body.buffer) === end && end + extra <= body.buffer.byteLength) {
    out = new Uint8Array(body.buffer, body.byteOffset, body.length + extra);
    inUse.set(body.buffer, end + extra);
  } else {
    out = allocBytes(body.length + extra);
    out.set(body);
  }
  out.set(head, body.length);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(body.length + head.length, head.length, true);
  out[out.length - 2] = MAGIC;
  out[out.length - 1] = VERSION;
  return out;
}

/** True if `bytes` ends like a {@link frame}. */
export function isFrame(bytes: Uint8Array): boolean {
  return bytes.length >= TAIL && bytes[bytes.length - 2] === MAGIC && bytes[bytes.length - 1] === VERSION;
}

/** Split a {@link frame} into its header and body (a view, no copy). Throws `ErrCorrupt` on anything else. */
export function unframe<T>(bytes: Uint8Array): { header: T; body: Uint8Array } {
  if (!isFrame(bytes)) throw strataError('ErrCorrupt', 'not a framed record');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLen = view.getUint32(bytes.length - TAIL, true);
  const headStart = bytes.length - TAIL - headLen;
  if (headStart < 0) throw strataError('ErrCorrupt', 'framed record: header length out of range');
  const header = decodeRaw<T>(bytes.subarray(headStart, bytes.length - TAIL));
  return { header, body: bytes.subarray(0, headStart) };
}
