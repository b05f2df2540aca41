/**
 * A lease keep-alive stream (R7.3), as etcd's client keeps one: renew right
 * away, then every TTL/3, until closed or until the lease is gone (a renewal
 * answers TTL 0). Iterating it yields the responses; a slow or absent reader
 * does not stop renewals (only the latest unread response is kept).
 * Transient failures (no leader, timeouts) are retried every half second.
 */
import { isStrataError } from '../errors.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import type { LeaseKeepAliveResponse } from './types.ts';

/** Renews a lease until closed. */
export class KeepAlive implements AsyncIterable<LeaseKeepAliveResponse> {
  /** The most recent response. */
  last: LeaseKeepAliveResponse | undefined;
  /** Resolves when renewals stop (closed, lease gone, or member closed). */
  readonly done: Promise<void>;
  private closed = false;
  private timer: TimerHandle | undefined;
  private unread: LeaseKeepAliveResponse | undefined;
  private wake: (() => void) | undefined;
  private resolveDone!: () => void;
  private readonly abortListener: () => void;

  /**
   * @param id lease id
   * @param renew one renewal (keepAliveOnce)
   * @param clock schedules renewals
   * @param signal stops renewals when aborted
   */
  constructor(
    readonly id: number,
    private readonly renew: () => Promise<LeaseKeepAliveResponse>,
    private readonly clock: Clock,
    private readonly signal?: AbortSignal,
  ) {
    this.done = new Promise<void>((r) => {
      this.resolveDone = r;
    });
    this.abortListener = () => this.close();
    if (signal?.aborted === true) this.closed = true;
    signal?.addEventListener('abort', this.abortListener, { once: true });
    if (this.closed) this.finish();
    else this.schedule(0);
  }

  /** Stop renewing; iteration ends after any unread response. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.finish();
  }

  private finish(): void {
    this.closed = true;
    this.signal?.removeEventListener('abort', this.abortListener);
    this.resolveDone();
    this.wake?.();
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      void this.tick();
    }, ms);
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    let resp: LeaseKeepAliveResponse;
    try {
      resp = await this.renew();
    } catch (err) {
      if (isStrataError(err, 'ErrStopped')) return this.close();
      return this.schedule(500);
    }
    if (this.closed) return;
    this.last = resp;
    this.unread = resp;
    this.wake?.();
    if (resp.ttl <= 0) return this.close();
    this.schedule(Math.max(100, (resp.ttl * 1000) / 3));
  }

  /**
   * Responses as they arrive. Leaving the loop early does not stop renewals:
   * the handle renews until {@link close} (or its signal) stops it.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<LeaseKeepAliveResponse> {
    for (;;) {
      if (this.unread !== undefined) {
        const r = this.unread;
        this.unread = undefined;
        yield r;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((r) => {
        this.wake = r;
      });
      this.wake = undefined;
    }
  }
}
