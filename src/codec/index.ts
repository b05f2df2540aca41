/**
 * The one encoding Strata uses on the wire and on disk: msgpackr, with a
 * leading format-version byte so formats can evolve. Records are plain maps
 * (no msgpackr record extension), so a decoder never depends on structures
 * shared out of band.
 */
import { Packr } from 'msgpackr';
import { strataError } from '../errors.ts';

export { crc32c } from './crc32c.ts';

/** Current format version written by {@link encode}. */
export const FORMAT_VERSION = 1;

const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number', mapsAsObjects: true });

/** Encode `value` as `[FORMAT_VERSION, ...msgpack]`. */
export function encode(value: unknown): Uint8Array {
  const body = packr.pack(value);
  const out = new Uint8Array(body.length + 1);
  out[0] = FORMAT_VERSION;
  out.set(body, 1);
  return out;
}

/**
 * Decode bytes produced by {@link encode}. Throws `ErrFormatVersion` for an
 * unknown version byte and `ErrCorrupt` for undecodable bytes.
 */
export function decode<T>(bytes: Uint8Array): T {
  if (bytes.length === 0) throw strataError('ErrCorrupt', 'empty record');
  const version = bytes[0];
  if (version !== FORMAT_VERSION) {
    throw strataError('ErrFormatVersion', `unknown format version ${version}`, { version });
  }
  try {
    return packr.unpack(bytes.subarray(1)) as T;
  } catch (err) {
    throw strataError('ErrCorrupt', `undecodable record: ${(err as Error).message}`);
  }
}

/** Encode without the version byte (for framing layers that version themselves). */
export function encodeRaw(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decode bytes produced by {@link encodeRaw}. */
export function decodeRaw<T>(bytes: Uint8Array): T {
  try {
    return packr.unpack(bytes) as T;
  } catch (err) {
    throw strataError('ErrCorrupt', `undecodable record: ${(err as Error).message}`);
  }
}
