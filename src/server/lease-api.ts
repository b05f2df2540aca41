/**
 * The Lease service of a member (spec §7): grant, revoke, keep-alive,
 * time-to-live and list. Grants, revocations and renewals go through Raft,
 * so any member serves them; only the leader's lessor has real expiry times
 * and expires leases (lease-expiry.ts).
 */
import { strataError } from '../errors.ts';
import type { ServerCore } from './core.ts';
import { KeepAlive } from './keep-alive.ts';
import type {
  CallOptions,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseListResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
} from './types.ts';

/** `node.lease`. */
export class LeaseApi {
  private readonly keepAlives = new Set<KeepAlive>();

  constructor(private readonly core: ServerCore) {}

  /**
   * Grant a lease of `ttl` seconds (R7.1). Without an id (or id 0) a unique
   * one is generated. The response carries the granted TTL, which may be
   * larger than asked. ErrLeaseExists, ErrLeaseTTLTooLarge, ErrNoSpace.
   */
  async grant(ttl: number, options: { id?: number } & CallOptions = {}): Promise<LeaseGrantResponse> {
    const core = this.core;
    core.checkOpen();
    const asked = options.id ?? 0;
    core.lessor.checkGrant(asked, ttl);
    if (asked !== 0 && core.lessor.has(asked)) throw strataError('ErrLeaseExists', `lease ${asked} exists`);
    core.checkSpace(64);
    const id = asked === 0 ? core.lessor.generateId() : asked;
    const r = await core.propose<'leaseGrant'>({ op: 'leaseGrant', id, ttl }, options.signal);
    return { id: r.id, ttl: r.ttl, header: core.header(r.revision) };
  }

  /** Revoke a lease, deleting its keys in one revision (R7.4). ErrLeaseNotFound for an unknown id. */
  async revoke(id: number, options: CallOptions = {}): Promise<LeaseRevokeResponse> {
    this.core.checkOpen();
    if (!Number.isSafeInteger(id) || id <= 0) throw strataError('ErrLeaseNotFound', `lease ${id} not found`);
    const r = await this.core.propose<'leaseRevoke'>({ op: 'leaseRevoke', ids: [id] }, options.signal);
    return { header: this.core.header(r.revision) };
  }

  /** Renew once (R7.3): TTL is the granted TTL, or 0 when the lease is unknown or expired. */
  async keepAliveOnce(id: number, options: CallOptions = {}): Promise<LeaseKeepAliveResponse> {
    this.core.checkOpen();
    if (!Number.isSafeInteger(id) || id <= 0) return { id, ttl: 0, header: this.core.header() };
    const r = await this.core.propose<'leaseRenew'>({ op: 'leaseRenew', id }, options.signal);
    return { id, ttl: r.ttl, header: this.core.header(r.revision) };
  }

  /**
   * Keep a lease alive until the handle is closed (or `signal` aborts, or the
   * lease is gone). Iterate the handle for responses.
   */
  keepAlive(id: number, options: CallOptions = {}): KeepAlive {
    this.core.checkOpen();
    const ka = new KeepAlive(id, () => this.keepAliveOnce(id), this.core.clock, options.signal);
    this.keepAlives.add(ka);
    void ka.done.then(() => this.keepAlives.delete(ka));
    return ka;
  }

  /**
   * Remaining TTL (R7.5): floor of remaining seconds, the granted TTL and
   * optionally the keys; TTL -1 for an unknown lease. Exact on the leader,
   * estimated from the last applied renewal elsewhere.
   */
  async timeToLive(id: number, options: { keys?: boolean } & CallOptions = {}): Promise<LeaseTimeToLiveResponse> {
    const core = this.core;
    await core.linearizable(options.signal);
    const t = core.lessor.timeToLive(id, core.clock.now());
    if (options.keys !== true) return { ...t, header: core.header() };
    // The store tracks which keys carry which lease.
    return { ...t, keys: t.ttl < 0 ? [] : core.store.keysForLease(id), header: core.header() };
  }

  /** All lease ids (R7.5 Leases()). */
  async list(options: CallOptions = {}): Promise<LeaseListResponse> {
    const core = this.core;
    await core.linearizable(options.signal);
    return { leases: core.lessor.list().map((id) => ({ id })), header: core.header() };
  }

  /** Stop every keep-alive (member closing). */
  closeAll(): void {
    for (const ka of [...this.keepAlives]) ka.close();
  }
}
