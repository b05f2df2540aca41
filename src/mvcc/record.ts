/**
 * Backend record values. A record is stored under its revision; the value
 * holds everything else of the change, encoded with the shared codec:
 * a Put as `[key, value, createRevision, version, lease]`, a tombstone
 * (Delete, R1.7) as `[key]`. The encoding is deterministic, so stores with
 * identical history hold identical bytes (HashKV, R9.9).
 */
import { decode, encode } from '../codec/index.ts';
import { strataError } from '../errors.ts';
import { plainView } from './bytes.ts';
import type { KeyValue } from './types.ts';

/** A decoded record: a put (with its key-value) or a tombstone. */
export type DecodedRecord = { tombstone: false; kv: KeyValue } | { tombstone: true; key: Uint8Array };

type Wire = [Uint8Array] | [Uint8Array, Uint8Array, number, number, number];

/** Encode a Put record. `kv.modRevision` is implied by the record's address. */
export function encodePut(kv: KeyValue): Uint8Array {
  return encode([kv.key, kv.value, kv.createRevision, kv.version, kv.lease]);
}

/** Encode a tombstone record. */
export function encodeTombstone(key: Uint8Array): Uint8Array {
  return encode([key]);
}

/** Decode a record stored at main revision `modRevision`. */
export function decodeRecord(bytes: Uint8Array, modRevision: number): DecodedRecord {
  const w = decode<Wire>(bytes);
  if (!Array.isArray(w) || !(w[0] instanceof Uint8Array)) throw strataError('ErrCorrupt', 'bad mvcc record');
  if (w.length === 1) return { tombstone: true, key: plainView(w[0]) };
  const [key, value, createRevision, version, lease] = w;
  return { tombstone: false, kv: { key: plainView(key), value: plainView(value), createRevision, modRevision, version, lease } };
}

/** True if encoded record bytes are a tombstone, without decoding: `[format version, msgpack fixarray(1), …]`. */
export function isTombstoneRecord(bytes: Uint8Array): boolean {
  return bytes[1] === 0x91;
}
