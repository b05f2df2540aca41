/**
 * The lessor: etcd's lease bookkeeping (spec §7) as pure logic. It never reads
 * a clock and never sets a timer: every call that depends on time takes the
 * current time in milliseconds from the caller (StrataNode passes its Clock's
 * `now()`, the simulator its virtual time).
 *
 * Replicated state (which leases exist, their TTLs, checkpoints, attached
 * keys) changes only through calls made while applying committed entries —
 * `grant`, `revoke`, `attach`/`detach`, `checkpoint`, `renewApplied` — so it
 * is identical on every member. Expiry times are local and only meaningful on
 * the primary (the leader's lessor, R7.6).
 */
import { strataError } from '../errors.ts';
import { log } from '../util/log.ts';
import { FOREVER, Lease, keyString, type LeaseRecord } from './lease.ts';
import { LeaseIdGenerator } from './id.ts';

/** Largest TTL a grant accepts, in seconds (R7.1). */
export const MAX_LEASE_TTL = 9_000_000_000;

/** Default revocation rate, leases per second (R7.6). */
export const DEFAULT_REVOKE_RATE = 1000;

/** After reporting a lease as expired, wait this long before reporting it again (its revoke may have been lost). */
export const DEFAULT_EXPIRED_RETRY_MS = 3000;

/**
 * The minimum lease TTL in seconds for an election timeout: ceil(1.5 × election
 * timeout), 2 s with etcd's defaults of 10 ticks × 100 ms (R7.1).
 */
export function minLeaseTtl(electionTimeoutMs: number): number {
  return Math.max(1, Math.ceil((1.5 * electionTimeoutMs) / 1000));
}

/** Options of a {@link Lessor}. */
export interface LessorOptions {
  /** Minimum TTL in seconds; smaller grants are raised to it (R7.1). Default 2. */
  minTtl?: number;
  /** Leases revoked per second at most (R7.6). Default 1000. */
  revokeRate?: number;
  /** See {@link DEFAULT_EXPIRED_RETRY_MS}. */
  expiredRetryMs?: number;
  /** Source of ids for grants with id 0. Default: member 0, counter from 0. */
  idGenerator?: LeaseIdGenerator;
}

/** What a grant returns. */
export interface GrantResult {
  /** The lease id (generated when 0 was asked for). */
  readonly id: number;
  /** The granted TTL in seconds, possibly raised to the minimum. */
  readonly ttl: number;
}

/** What {@link Lessor.timeToLive} returns (R7.5). */
export interface TimeToLive {
  readonly id: number;
  /** Remaining seconds, floored; -1 for an unknown lease. */
  readonly ttl: number;
  /** Granted TTL in seconds; 0 for an unknown lease. */
  readonly grantedTtl: number;
  /** Attached keys, sorted (only when asked for). */
  readonly keys?: Uint8Array[];
}

/** A checkpoint: a lease's remaining TTL to record through the log (R7.8). */
export interface LeaseCheckpoint {
  readonly id: number;
  /** Remaining TTL in seconds; 0 clears the checkpoint. */
  readonly remainingTtl: number;
}

/** Lease bookkeeping for one member. */
export class Lessor {
  /** Minimum granted TTL in seconds. */
  readonly minTtl: number;
  private readonly revokeRate: number;
  private readonly expiredRetryMs: number;
  private readonly ids: LeaseIdGenerator;
  private readonly leases = new Map<number, Lease>();
  /** key (as keyString) -> lease id, for keys attached to a lease. */
  private readonly keyLease = new Map<string, number>();
  private primary = false;

  constructor(options: LessorOptions = {}) {
    this.minTtl = options.minTtl ?? 2;
    this.revokeRate = options.revokeRate ?? DEFAULT_REVOKE_RATE;
    this.expiredRetryMs = options.expiredRetryMs ?? DEFAULT_EXPIRED_RETRY_MS;
    this.ids = options.idGenerator ?? new LeaseIdGenerator(0, 0);
  }

  /** True while this lessor is the primary (its member leads). */
  get isPrimary(): boolean {
    return this.primary;
  }

  /** Number of live leases. */
  get size(): number {
    return this.leases.size;
  }

  /** A fresh id not held by any live lease (for grants asking for id 0). */
  generateId(): number {
    for (;;) {
      const id = this.ids.next();
      if (!this.leases.has(id)) return id;
    }
  }

  /**
   * Validate a grant before it is proposed: throws ErrLeaseTTLTooLarge for a
   * TTL above {@link MAX_LEASE_TTL}, ErrInvalidArgument for a bad id or TTL.
   */
  checkGrant(id: number, ttl: number): void {
    if (!Number.isSafeInteger(id) || id < 0) throw strataError('ErrInvalidArgument', `bad lease id ${id}`);
    if (!Number.isFinite(ttl) || !Number.isInteger(ttl)) throw strataError('ErrInvalidArgument', `bad lease TTL ${ttl}`);
    if (ttl > MAX_LEASE_TTL) throw strataError('ErrLeaseTTLTooLarge', `TTL ${ttl} > ${MAX_LEASE_TTL}`);
  }

  /**
   * Create a lease (R7.1). Id 0 generates one. Throws ErrLeaseExists for a
   * live id and ErrLeaseTTLTooLarge above the maximum. A TTL below the
   * minimum is raised to it. On the primary the lease expires `ttl` seconds
   * from `now`; elsewhere it does not expire.
   */
  grant(id: number, ttl: number, now: number): GrantResult {
    this.checkGrant(id, ttl);
    const leaseId = id === 0 ? this.generateId() : id;
    if (this.leases.has(leaseId)) throw strataError('ErrLeaseExists', `lease ${leaseId} exists`);
    const granted = Math.max(ttl, this.minTtl);
    const lease = new Lease(leaseId, granted);
    lease.lastRefresh = now;
    if (this.primary) lease.refresh(now);
    this.leases.set(leaseId, lease);
    log.lease('grant %d ttl=%d', leaseId, granted);
    return { id: leaseId, ttl: granted };
  }

  /**
   * Remove a lease (R7.4) and return its attached keys, sorted, which the
   * caller deletes in one revision. Throws ErrLeaseNotFound for an unknown id.
   */
  revoke(id: number): Uint8Array[] {
    const lease = this.leases.get(id);
    if (lease === undefined) throw strataError('ErrLeaseNotFound', `lease ${id} not found`);
    const keys = lease.sortedKeys();
    for (const k of lease.keys) this.keyLease.delete(k);
    this.leases.delete(id);
    log.lease('revoke %d (%d keys)', id, keys.length);
    return keys;
  }

  /** True when the lease exists. */
  has(id: number): boolean {
    return this.leases.has(id);
  }

  /** The lease, or undefined. Callers must not mutate it. */
  lookup(id: number): Lease | undefined {
    return this.leases.get(id);
  }

  /** The lease a key is attached to, or 0. */
  leaseOf(key: Uint8Array): number {
    return this.keyLease.get(keyString(key)) ?? 0;
  }

  /**
   * Attach a key to a lease, detaching it from any other (a key has at most
   * one lease, R3.3). Throws ErrLeaseNotFound for an unknown lease.
   */
  attach(id: number, key: Uint8Array): void {
    const lease = this.leases.get(id);
    if (lease === undefined) throw strataError('ErrLeaseNotFound', `lease ${id} not found`);
    const k = keyString(key);
    const old = this.keyLease.get(k);
    if (old !== undefined && old !== id) this.leases.get(old)?.keys.delete(k);
    lease.keys.add(k);
    this.keyLease.set(k, id);
  }

  /** Detach a key from whatever lease holds it (no-op when none). */
  detach(key: Uint8Array): void {
    const k = keyString(key);
    const old = this.keyLease.get(k);
    if (old === undefined) return;
    this.leases.get(old)?.keys.delete(k);
    this.keyLease.delete(k);
  }

  /**
   * Renew on the primary (R7.3): expiry becomes `now + granted TTL` and any
   * checkpoint is cleared. Returns the granted TTL, or 0 for an unknown or
   * already expired lease. Throws ErrNotLeader when not primary.
   */
  renew(id: number, now: number): number {
    if (!this.primary) throw strataError('ErrNotLeader', 'lease renew on a non-primary lessor');
    const lease = this.leases.get(id);
    if (lease === undefined || lease.expiry <= now) return 0;
    lease.remainingTtl = 0;
    lease.lastRefresh = now;
    lease.refresh(now);
    return lease.ttl;
  }

  /**
   * Apply a committed renewal on any member: clears the checkpoint (replicated
   * state), records the local refresh time and, on the primary, renews the
   * expiry unless the lease has already expired. Returns the TTL the caller
   * should report: the granted TTL, or 0 for an unknown or expired lease.
   */
  renewApplied(id: number, now: number): number {
    const lease = this.leases.get(id);
    if (lease === undefined) return 0;
    lease.remainingTtl = 0;
    if (this.primary) {
      if (lease.expiry <= now) return 0;
      lease.lastRefresh = now;
      lease.refresh(now);
      return lease.ttl;
    }
    if (lease.lastRefresh + lease.ttl * 1000 <= now) return 0;
    lease.lastRefresh = now;
    return lease.ttl;
  }

  /**
   * Remaining time of a lease in ms: exact on the primary; on other members
   * an estimate from the last locally applied grant or renewal. Undefined for
   * an unknown lease.
   */
  remainingMs(id: number, now: number): number | undefined {
    const lease = this.leases.get(id);
    if (lease === undefined) return undefined;
    const expiry = lease.expiry !== FOREVER ? lease.expiry : lease.lastRefresh + lease.effectiveTtl() * 1000;
    return Math.max(0, expiry - now);
  }

  /** TimeToLive (R7.5): unknown ⇒ TTL -1, not an error. */
  timeToLive(id: number, now: number, withKeys = false): TimeToLive {
    const lease = this.leases.get(id);
    const remaining = this.remainingMs(id, now);
    if (lease === undefined || remaining === undefined) return { id, ttl: -1, grantedTtl: 0, ...(withKeys ? { keys: [] } : {}) };
    const out: TimeToLive = { id, ttl: Math.floor(remaining / 1000), grantedTtl: lease.ttl };
    return withKeys ? { ...out, keys: lease.sortedKeys() } : out;
  }

  /** Ids of all live leases, ascending (R7.5 Leases()). */
  list(): number[] {
    return [...this.leases.keys()].sort((a, b) => a - b);
  }

  /**
   * Become primary (R7.7): every lease expires at `now + remaining + extendMs`
   * where remaining is the checkpoint if any, else the granted TTL. When many
   * leases would expire within the same second, expiries beyond 3/4 of the
   * revoke rate per second are pushed later so a pile-up does not use the
   * whole revocation budget.
   */
  promote(now: number, extendMs: number): void {
    this.primary = true;
    const all = [...this.leases.values()];
    for (const l of all) l.refresh(now, extendMs);
    if (all.length === 0) return;
    all.sort((a, b) => a.expiry - b.expiry || a.id - b.id);
    const perSecond = Math.max(1, Math.floor((3 * this.revokeRate) / 4));
    let windowStart = (all[0] as Lease).expiry;
    let inWindow = 0;
    for (const l of all) {
      if (l.expiry >= windowStart + 1000) {
        windowStart = l.expiry;
        inWindow = 0;
      }
      inWindow++;
      if (inWindow > perSecond) {
        // The n-th lease of a crowded window moves to windowStart + n/perSecond s.
        const pushed = windowStart + Math.floor((inWindow * 1000) / perSecond);
        if (pushed > l.expiry) l.expiry = pushed;
      }
    }
    log.lease('promoted: %d leases extended by %d ms', all.length, extendMs);
  }

  /** Stop being primary (R7.6): leases no longer expire here. */
  demote(): void {
    this.primary = false;
    for (const l of this.leases.values()) {
      l.expiry = FOREVER;
      l.revokePendingUntil = 0;
    }
  }

  /**
   * Leases that have expired by `now` (primary only), at most `max` of them,
   * earliest first. A reported lease is not reported again for
   * `expiredRetryMs` (its revoke is in flight). Default `max`: half a
   * second's worth of the revoke rate (the leader checks every 500 ms, R7.6).
   */
  expired(now: number, max = Math.max(1, Math.floor(this.revokeRate / 2))): number[] {
    if (!this.primary) return [];
    const due: Lease[] = [];
    for (const l of this.leases.values()) {
      if (l.expiry <= now && l.revokePendingUntil <= now) due.push(l);
    }
    due.sort((a, b) => a.expiry - b.expiry || a.id - b.id);
    const out = due.slice(0, max);
    for (const l of out) l.revokePendingUntil = now + this.expiredRetryMs;
    return out.map((l) => l.id);
  }

  /**
   * Checkpoints the primary should propose (R7.8): leases whose remaining
   * TTL exceeds `intervalMs`, with their remaining TTL in whole seconds.
   */
  checkpointsDue(now: number, intervalMs: number): LeaseCheckpoint[] {
    if (!this.primary) return [];
    const out: LeaseCheckpoint[] = [];
    for (const l of this.leases.values()) {
      const remaining = l.expiry - now;
      if (remaining > intervalMs) out.push({ id: l.id, remainingTtl: Math.ceil(remaining / 1000) });
    }
    return out.sort((a, b) => a.id - b.id);
  }

  /** Apply a committed checkpoint: record the remaining TTL (unknown leases ignored). */
  checkpoint(id: number, remainingTtl: number): void {
    const lease = this.leases.get(id);
    if (lease !== undefined) lease.remainingTtl = Math.max(0, remainingTtl);
  }

  /** The replicated lease state, ordered by id (attachments are rebuilt from the KV store). */
  snapshot(): LeaseRecord[] {
    return this.list().map((id) => (this.leases.get(id) as Lease).record());
  }

  /**
   * Replace all leases with `records` (attachments cleared: re-attach keys
   * afterwards). On the primary they are refreshed as at promotion, extended
   * by `extendMs`.
   */
  restore(records: readonly LeaseRecord[], now: number, extendMs = 0): void {
    this.leases.clear();
    this.keyLease.clear();
    for (const r of records) {
      const l = new Lease(r.id, r.ttl, r.remainingTtl);
      l.lastRefresh = now;
      if (this.primary) l.refresh(now, extendMs);
      this.leases.set(r.id, l);
    }
  }
}
