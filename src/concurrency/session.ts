/**
 * Session (R8.1): a lease kept alive for as long as the client lives. Locks,
 * elections and double barriers attach their keys to it, so when the client
 * dies (stops renewing) the lease expires and its keys vanish.
 */
import { isStrataError } from '../errors.ts';
import type { KeepAliveHandle, KVClient } from './client.ts';

/** Default session TTL in seconds (etcd's). */
export const DEFAULT_SESSION_TTL = 60;

/** Options of {@link Session.create}. */
export interface SessionOptions {
  /** Lease TTL in seconds when granting (default 60). The cluster may raise it to its minimum. */
  readonly ttl?: number;
  /** Use this existing lease instead of granting one. */
  readonly lease?: number;
  /** Stop the keep-alive when aborted (the lease is not revoked; it expires). */
  readonly signal?: AbortSignal;
}

/** A lease with a running keep-alive. Create with {@link Session.create}. */
export class Session {
  /** Fires when the keep-alive stops (closed, orphaned, lease gone, client closed). */
  readonly signal: AbortSignal;
  /** Resolves when the keep-alive stops. */
  readonly done: Promise<void>;
  private closing: Promise<void> | undefined;

  private constructor(
    /** The client the session (and every recipe on it) talks to. */
    readonly client: KVClient,
    /** The lease id. */
    readonly lease: number,
    /** The TTL asked for (seconds). */
    readonly ttl: number,
    private readonly keepAlive: KeepAliveHandle,
  ) {
    const ctl = new AbortController();
    this.signal = ctl.signal;
    this.done = keepAlive.done.then(() => ctl.abort());
  }

  /**
   * Grant a lease (or adopt `options.lease`) and start keeping it alive.
   * Errors of the grant (ErrNoSpace, ErrLeaseTTLTooLarge, ErrAborted…) reject.
   */
  static async create(client: KVClient, options: SessionOptions = {}): Promise<Session> {
    const ttl = options.ttl ?? DEFAULT_SESSION_TTL;
    let lease = options.lease ?? 0;
    if (lease === 0) {
      const g = await client.lease.grant(ttl, options.signal !== undefined ? { signal: options.signal } : {});
      lease = g.id;
    }
    const ka = client.lease.keepAlive(lease, options.signal !== undefined ? { signal: options.signal } : {});
    return new Session(client, lease, ttl, ka);
  }

  /** True once the keep-alive has stopped. */
  get isDone(): boolean {
    return this.signal.aborted;
  }

  /**
   * Stop the keep-alive without revoking the lease: its keys live on until
   * the lease expires (etcd's Orphan). `done` fires.
   */
  orphan(): void {
    this.keepAlive.close();
  }

  /**
   * Stop the keep-alive and revoke the lease, deleting every key attached to
   * it (locks held through this session are released). A lease that is
   * already gone is not an error.
   */
  close(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.closing ??= (async () => {
      this.orphan();
      try {
        await this.client.lease.revoke(this.lease, options.signal !== undefined ? { signal: options.signal } : {});
      } catch (err) {
        if (!isStrataError(err, 'ErrLeaseNotFound')) throw err;
      }
    })();
    return this.closing;
  }
}
