/**
 * Byte helpers. Inside the store keys are "binary strings": one char per
 * byte (latin1), so JavaScript string comparison is exactly etcd's unsigned
 * byte order and keys can be Map keys.
 */
import { strataError } from '../errors.ts';

const utf8 = new TextEncoder();

/** An empty byte array (shared; never mutated). */
export const EMPTY = new Uint8Array(0);

/** A plain Uint8Array view of `b` (a Buffer becomes one, so results deep-equal Uint8Arrays). */
export function plainView(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Convert an input to bytes; anything but a string or Uint8Array ⇒ ErrInvalidArgument. */
export function toBytes(input: unknown, what: string): Uint8Array {
  if (typeof input === 'string') return utf8.encode(input);
  if (input instanceof Uint8Array) return plainView(input);
  throw strataError('ErrInvalidArgument', `${what} must be a string or Uint8Array`);
}

/** Bytes to a binary string (one char per byte). */
export function bytesToStr(b: Uint8Array): string {
  if (b.length > 64) return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** A binary string back to a fresh Uint8Array. */
export function strToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Unsigned lexicographic comparison of byte arrays (-1, 0, 1). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Byte equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The range end of a prefix as etcd's client computes it (R2.3): drop
 * trailing 0xff bytes and add one to the last byte; `"\0"` when nothing is left.
 */
export function prefixEnd(key: Uint8Array): Uint8Array {
  for (let i = key.length - 1; i >= 0; i--) {
    if (key[i]! < 0xff) {
      const end = key.slice(0, i + 1);
      end[i] = key[i]! + 1;
      return end;
    }
  }
  return new Uint8Array([0]);
}
