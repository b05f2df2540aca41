/**
 * Seeded pseudo-random numbers: sfc32 (Small Fast Chaotic PRNG, 128-bit
 * state). The single source of randomness for deterministic code: the Raft
 * core's election timeouts, the simulator's faults and workloads. Same seed ⇒
 * same sequence, on every platform.
 */

/** Anything that hands out uniform numbers in [0, 1). */
export interface Random {
  /** A uniform float in [0, 1). */
  next(): number;
  /** A uniform integer in [0, n). `n` must be a positive integer. */
  int(n: number): number;
}

/** The serialisable state of a {@link SeededRandom}. */
export type RandomState = readonly [number, number, number, number];

/** sfc32 generator. Cheap to create; `fork()` derives an independent stream. */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seed with any 32-bit-ish integer (or a saved state). */
  constructor(seed: number | RandomState) {
    if (typeof seed === 'number') {
      // splitmix32 to spread a small seed over the 128-bit state.
      let s = seed >>> 0;
      const mix = (): number => {
        s = (s + 0x9e3779b9) >>> 0;
        let z = s;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
        return (z ^ (z >>> 16)) >>> 0;
      };
      this.a = mix();
      this.b = mix();
      this.c = mix();
      this.d = 1;
      for (let i = 0; i < 12; i++) this.nextU32();
    } else {
      [this.a, this.b, this.c, this.d] = seed;
    }
  }

  /** A uniform unsigned 32-bit integer. */
  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  next(): number {
    return this.nextU32() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty array');
    return items[this.int(items.length)] as T;
  }

  /** Shuffle `items` in place (Fisher–Yates) and return it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** An independent generator seeded from this one (advances this one). */
  fork(): SeededRandom {
    return new SeededRandom([this.nextU32(), this.nextU32(), this.nextU32(), this.nextU32() | 1]);
  }

  /** Current state, for saving and replay. */
  state(): RandomState {
    return [this.a, this.b, this.c, this.d];
  }
}
