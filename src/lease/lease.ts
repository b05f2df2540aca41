/**
 * One lease as the lessor holds it: the granted TTL, an optional checkpointed
 * remaining TTL, a member-local expiry time and the keys attached to it.
 *
 * The replicated part (id, ttl, remainingTtl, keys) is identical on every
 * member because it only changes when committed entries are applied. The
 * expiry is local: only the primary (the leader's lessor) has a finite one
 * (R7.6); followers hold leases "forever".
 */

/** Expiry of a lease held by a non-primary lessor: it never expires locally. */
export const FOREVER = Number.POSITIVE_INFINITY;

/** The persisted form of a lease (what snapshots carry). */
export interface LeaseRecord {
  /** Lease id, a positive safe integer. */
  readonly id: number;
  /** Granted TTL in seconds (after raising to the minimum, R7.1). */
  readonly ttl: number;
  /** Checkpointed remaining TTL in seconds; 0 when none (R7.8). */
  readonly remainingTtl: number;
}

/** Encode key bytes as a string usable in a Set (latin1 is a byte bijection). */
export function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** Inverse of {@link keyString}. */
export function keyBytes(key: string): Uint8Array {
  return new Uint8Array(Buffer.from(key, 'latin1'));
}

/** A live lease. Mutated only by the {@link Lessor} that owns it. */
export class Lease {
  /** Keys attached to this lease, as {@link keyString} strings. */
  readonly keys = new Set<string>();
  /** Member-local expiry in clock ms; {@link FOREVER} on non-primaries. */
  expiry = FOREVER;
  /**
   * Member-local time (clock ms) of the last grant or renewal applied here.
   * Lets a follower estimate the remaining TTL it cannot know exactly.
   */
  lastRefresh = 0;
  /** Clock ms until which an already-reported expiry is not reported again. */
  revokePendingUntil = 0;

  constructor(
    /** Lease id. */
    readonly id: number,
    /** Granted TTL in seconds. */
    public ttl: number,
    /** Checkpointed remaining TTL in seconds (0 = none). */
    public remainingTtl = 0,
  ) {}

  /** The TTL a refresh counts from: the checkpoint when one exists, otherwise the granted TTL (R7.7). */
  effectiveTtl(): number {
    return this.remainingTtl > 0 ? this.remainingTtl : this.ttl;
  }

  /** Set the expiry to `now + extendMs + effective TTL`. */
  refresh(now: number, extendMs = 0): void {
    this.expiry = now + extendMs + this.effectiveTtl() * 1000;
  }

  /** Keys attached, sorted bytewise. */
  sortedKeys(): Uint8Array[] {
    return [...this.keys].sort(compareLatin1).map(keyBytes);
  }

  /** The persisted form. */
  record(): LeaseRecord {
    return { id: this.id, ttl: this.ttl, remainingTtl: this.remainingTtl };
  }
}

/** Byte order of latin1-encoded keys equals code-unit order. */
function compareLatin1(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
