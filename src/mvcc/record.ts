/**
 * Backend record values. A record is stored under its revision; the value
 * holds everything else of the change in a small binary layout (format 2):
 *
 * - Put:       `[0x02, 0x01, varint createRevision, varint version, varint lease, varint keyLength, key, value]`
 * - Tombstone: `[0x02, 0x00, key]` (Delete, R1.7)
 *
 * Varints are unsigned LEB128 (numbers up to 2^53). Encoding copies the
 * key and value bytes exactly once, into the record; decoded key-values
 * are views into the record bytes (records never change once written).
 * Small records are carved out of shared slabs, so a put does not create
 * a backing store of its own. The encoding is deterministic, so stores
 * with identical history hold identical bytes (HashKV, R9.9). Records of
 * format 1 (msgpack `[key, value, createRevision, version, lease]` /
 * `[key]`, written by earlier versions) are still read.
 */
import { decode } from '../codec/index.ts';
import { strataError } from '../errors.ts';
import { plainView } from './bytes.ts';
import type { KeyValue } from './types.ts';

/** A decoded record: a put (with its key-value) or a tombstone. */
export type DecodedRecord = { tombstone: false; kv: KeyValue } | { tombstone: true; key: Uint8Array };

type WireV1 = [Uint8Array] | [Uint8Array, Uint8Array, number, number, number];

const FORMAT = 2;
const KIND_TOMBSTONE = 0;
const KIND_PUT = 1;
const SLAB_BYTES = 16 * 1024;
/** Records up to this size share slabs (like Node's Buffer pool: far cheaper than a backing store each). */
const SLAB_MAX = 1024;

let slab = new Uint8Array(SLAB_BYTES);
let slabOff = 0;

/** A fresh byte array of `n` bytes, to be filled completely (small ones carved from a shared slab). */
function alloc(n: number): Uint8Array {
  if (n > SLAB_MAX) return new Uint8Array(n);
  if (slabOff + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabOff = 0;
  }
  const out = slab.subarray(slabOff, slabOff + n);
  slabOff += (n + 7) & ~7;
  return out;
}

function varintLen(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 128) {
    out[pos++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

/** A Put record with room for a `kl`-byte key: returns the record and the key's offset (the value fills the rest). */
function putHeader(kl: number, valueLen: number, createRevision: number, version: number, lease: number): { out: Uint8Array; pos: number } {
  const n = 2 + varintLen(createRevision) + varintLen(version) + varintLen(lease) + varintLen(kl) + kl + valueLen;
  const out = alloc(n);
  out[0] = FORMAT;
  out[1] = KIND_PUT;
  let pos = writeVarint(out, 2, createRevision);
  pos = writeVarint(out, pos, version);
  pos = writeVarint(out, pos, lease);
  pos = writeVarint(out, pos, kl);
  return { out, pos };
}

/** Encode a Put record from its parts (`modRevision` is implied by the record's address). */
export function encodePutParts(key: Uint8Array, value: Uint8Array, createRevision: number, version: number, lease: number): Uint8Array {
  const { out, pos } = putHeader(key.length, value.length, createRevision, version, lease);
  out.set(key, pos);
  out.set(value, pos + key.length);
  return out;
}

/** {@link encodePutParts} with the key as a binary string (one char per byte, bytes.ts). */
export function encodePutStr(kstr: string, value: Uint8Array, createRevision: number, version: number, lease: number): Uint8Array {
  const kl = kstr.length;
  const { out, pos } = putHeader(kl, value.length, createRevision, version, lease);
  for (let i = 0; i < kl; i++) out[pos + i] = kstr.charCodeAt(i);
  out.set(value, pos + kl);
  return out;
}

/** Encode a Put record. `kv.modRevision` is implied by the record's address. */
export function encodePut(kv: KeyValue): Uint8Array {
  return encodePutParts(kv.key, kv.value, kv.createRevision, kv.version, kv.lease);
}

/** Encode a tombstone record. */
export function encodeTombstone(key: Uint8Array): Uint8Array {
  const out = alloc(2 + key.length);
  out[0] = FORMAT;
  out[1] = KIND_TOMBSTONE;
  out.set(key, 2);
  return out;
}

/** Offset of the key in a format-2 Put record, after its four varints; the numbers go to `nums`. */
function readHeader(b: Uint8Array, nums: number[]): number {
  let pos = 2;
  for (let f = 0; f < 4; f++) {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (pos >= b.length) throw strataError('ErrCorrupt', 'bad mvcc record');
      const byte = b[pos++]!;
      n += (byte & 127) * mul;
      if (byte < 128) break;
      mul *= 128;
    }
    nums[f] = n;
  }
  return pos;
}

const NUMS: number[] = [0, 0, 0, 0];

/** Decode a record stored at main revision `modRevision`. Key and value are views into `bytes`. */
export function decodeRecord(bytes: Uint8Array, modRevision: number): DecodedRecord {
  const b = plainView(bytes);
  if (b[0] === FORMAT) {
    if (b[1] === KIND_TOMBSTONE) return { tombstone: true, key: b.subarray(2) };
    if (b[1] !== KIND_PUT) throw strataError('ErrCorrupt', 'bad mvcc record');
    const pos = readHeader(b, NUMS);
    const kl = NUMS[3]!;
    if (pos + kl > b.length) throw strataError('ErrCorrupt', 'bad mvcc record');
    return {
      tombstone: false,
      kv: { key: b.subarray(pos, pos + kl), value: b.subarray(pos + kl), createRevision: NUMS[0]!, modRevision, version: NUMS[1]!, lease: NUMS[2]! },
    };
  }
  const w = decode<WireV1>(b);
  if (!Array.isArray(w) || !(w[0] instanceof Uint8Array)) throw strataError('ErrCorrupt', 'bad mvcc record');
  if (w.length === 1) return { tombstone: true, key: plainView(w[0]) };
  const [key, value, createRevision, version, lease] = w;
  return { tombstone: false, kv: { key: plainView(key), value: plainView(value), createRevision, modRevision, version, lease } };
}

/** True if encoded record bytes are a tombstone, without decoding. */
export function isTombstoneRecord(bytes: Uint8Array): boolean {
  // Format 1: `[version 1, msgpack fixarray(1), …]`.
  return bytes[0] === FORMAT ? bytes[1] === KIND_TOMBSTONE : bytes[1] === 0x91;
}
