/**
 * A fast incremental 64-bit hash (two independent 32-bit FNV-1a/murmur-style
 * lanes) over numbers and strings: the simulator folds every event into it,
 * so two runs with the same `traceHash` took the same path.
 */

/** Incremental hasher. */
export class TraceHasher {
  private h1 = 0x811c9dc5;
  private h2 = 0x9747b28c;

  /** Fold in a number (integers exactly; other numbers via their float bits). */
  num(n: number): this {
    if (Number.isInteger(n) && Math.abs(n) < 0x1_0000_0000) {
      this.mix(n >>> 0);
      this.mix(n < 0 ? 1 : 0);
    } else {
      this.str(String(n));
    }
    return this;
  }

  /** Fold in a string. */
  str(s: string): this {
    for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
    this.mix(s.length);
    return this;
  }

  /** Fold in bytes. */
  bytes(b: Uint8Array): this {
    for (let i = 0; i < b.length; i++) this.mix(b[i] as number);
    this.mix(b.length);
    return this;
  }

  /** Current value as 16 hex digits. */
  hex(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }

  private mix(x: number): void {
    this.h1 = Math.imul(this.h1 ^ x, 0x01000193);
    let k = Math.imul(x, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    this.h2 ^= k;
    this.h2 = (this.h2 << 13) | (this.h2 >>> 19);
    this.h2 = (Math.imul(this.h2, 5) + 0xe6546b64) | 0;
  }
}

/** Hash of a byte string as 8 hex digits (for digests in reports). */
export function hashBytes(b: Uint8Array): string {
  return new TraceHasher().bytes(b).hex().slice(0, 8);
}
