/**
 * Revisions (R1.2): `(main, sub)` pairs ordered by main, then sub, and their
 * 16-byte big-endian encoding used as backend record keys (so the backend's
 * byte order is revision order).
 */

/** A record address: the operation's revision and the change's index inside it. */
export interface Revision {
  readonly main: number;
  readonly sub: number;
}

/** Order two revisions (-1, 0, 1). */
export function compareRev(a: Revision, b: Revision): number {
  if (a.main !== b.main) return a.main < b.main ? -1 : 1;
  if (a.sub !== b.sub) return a.sub < b.sub ? -1 : 1;
  return 0;
}

/** Length of an encoded revision. */
export const REV_BYTES = 16;

const TWO32 = 2 ** 32;

/** Write `n` (0 ≤ n < 2^53) as 8 big-endian bytes at `off`. */
function putU64(out: Uint8Array, off: number, n: number): void {
  const hi = Math.floor(n / TWO32);
  const lo = n >>> 0;
  out[off] = hi >>> 24; out[off + 1] = (hi >>> 16) & 0xff; out[off + 2] = (hi >>> 8) & 0xff; out[off + 3] = hi & 0xff;
  out[off + 4] = lo >>> 24; out[off + 5] = (lo >>> 16) & 0xff; out[off + 6] = (lo >>> 8) & 0xff; out[off + 7] = lo & 0xff;
}

function getU64(b: Uint8Array, off: number): number {
  const hi = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
  const lo = ((b[off + 4]! << 24) | (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!) >>> 0;
  return hi * TWO32 + lo;
}

/** Encode a revision as 16 bytes (main then sub, big-endian), optionally after a prefix. */
export function revToBytes(main: number, sub: number, prefix?: Uint8Array): Uint8Array {
  const p = prefix?.length ?? 0;
  const out = new Uint8Array(p + REV_BYTES);
  if (prefix !== undefined) out.set(prefix, 0);
  putU64(out, p, main);
  putU64(out, p + 8, sub);
  return out;
}

/** Decode {@link revToBytes} output (after `offset` prefix bytes). */
export function bytesToRev(b: Uint8Array, offset = 0): Revision {
  return { main: getU64(b, offset), sub: getU64(b, offset + 8) };
}
