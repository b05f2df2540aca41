/**
 * Length-prefixed framing for stream transports: each frame is a 4-byte
 * big-endian payload length followed by the payload, which is a codec record
 * (format-version byte + msgpack, exactly what `encode` from src/codec
 * produces). The decoder is incremental — TCP splits and merges frames
 * arbitrarily — and refuses lengths above a limit before allocating anything,
 * so a peer cannot make us buffer an unbounded frame.
 */
import { Buffer } from 'node:buffer';
import { FORMAT_VERSION, encodeRaw } from '../codec/index.ts';
import { strataError } from '../errors.ts';

/** Bytes of the length prefix. */
export const FRAME_HEADER_BYTES = 4;

/**
 * Encode `value` as one frame: length prefix + `[FORMAT_VERSION, ...msgpack]`.
 * The payload is byte-identical to `encode(value)`; building it in place
 * saves a copy for large frames.
 */
export function encodeFrame(value: unknown): Buffer {
  const body = encodeRaw(value);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1 + body.length);
  out.writeUInt32BE(body.length + 1, 0);
  out[FRAME_HEADER_BYTES] = FORMAT_VERSION;
  out.set(body, FRAME_HEADER_BYTES + 1);
  return out;
}

/** Prefix an already-encoded payload with its length. */
export function framePayload(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Splits a byte stream into frame payloads. Each payload is a fresh,
 * exactly-sized array (decoded records may keep views into it, so it is never
 * reused). `push` throws `ErrCorrupt` on a zero or oversized length; after
 * that the stream is unusable and the connection should be closed.
 */
export class FrameDecoder {
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerFill = 0;
  private body: Uint8Array | undefined;
  private bodyFill = 0;
  private failed = false;

  /** @param maxFrameBytes largest payload accepted. */
  constructor(readonly maxFrameBytes: number) {}

  /** Bytes of the frame being assembled so far (for diagnostics). */
  get buffered(): number {
    return this.headerFill + this.bodyFill;
  }

  /** Feed bytes; returns the payloads completed by them, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw strataError('ErrCorrupt', 'frame stream already failed');
    const out: Uint8Array[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.body === undefined) {
        const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - pos);
        this.header.set(chunk.subarray(pos, pos + take), this.headerFill);
        this.headerFill += take;
        pos += take;
        if (this.headerFill < FRAME_HEADER_BYTES) break;
        const h = this.header;
        const len = ((h[0] as number) * 0x1000000) + (((h[1] as number) << 16) | ((h[2] as number) << 8) | (h[3] as number));
        if (len === 0 || len > this.maxFrameBytes) {
          this.failed = true;
          throw strataError('ErrCorrupt', `bad frame length ${len} (limit ${this.maxFrameBytes})`, { length: len });
        }
        this.body = new Uint8Array(len);
        this.bodyFill = 0;
        this.headerFill = 0;
      }
      const body = this.body;
      const take = Math.min(body.length - this.bodyFill, chunk.length - pos);
      body.set(chunk.subarray(pos, pos + take), this.bodyFill);
      this.bodyFill += take;
      pos += take;
      if (this.bodyFill === body.length) {
        out.push(body);
        this.body = undefined;
        this.bodyFill = 0;
      }
    }
    return out;
  }
}
