/**
 * Reuse of large typed arrays between tables and between checks.
 *
 * Memory the process has never touched is expensive: every fresh page costs
 * a fault on first write, and on a virtual machine that dominates a cold
 * check (a doubling hash table touches twice its final size). Tables that
 * grow hand their old arrays back here and finished searches return theirs,
 * so the next table of that size reuses pages already mapped. At most
 * {@link POOL_BYTES} are kept.
 */

/** The most memory kept for reuse. */
const POOL_BYTES = 64 << 20;
/** Arrays smaller than this are not worth pooling. */
const MIN_LENGTH = 1 << 12;

const free = new Map<number, Int32Array<ArrayBuffer>[]>();
let kept = 0;

/** A zero-filled Int32Array of `length` (reused when one is free). */
export function takeInt32(length: number): Int32Array<ArrayBuffer> {
  if (length >= MIN_LENGTH) {
    const list = free.get(length);
    const a = list?.pop();
    if (a !== undefined) {
      kept -= a.byteLength;
      a.fill(0);
      return a;
    }
  }
  return new Int32Array(length);
}

/** Hand back an array nobody uses any more. */
export function giveInt32(a: Int32Array<ArrayBuffer>): void {
  if (a.length < MIN_LENGTH || kept + a.byteLength > POOL_BYTES || a.byteOffset !== 0 || a.buffer.byteLength !== a.byteLength) return;
  const list = free.get(a.length);
  if (list === undefined) free.set(a.length, [a]);
  else list.push(a);
  kept += a.byteLength;
}
