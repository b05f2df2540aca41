/**
 * The leader's lease duties (R7.6–R7.8): every 500 ms propose revocations of
 * expired leases (rate-limited by the lessor), and, when checkpointing is
 * enabled, propose remaining-TTL checkpoints every interval. Followers do
 * nothing here: their lessor is not primary.
 */
import { log } from '../util/log.ts';
import type { ServerCore } from './core.ts';
import { PeriodicTimer } from './periodic.ts';

/** How often the leader looks for expired leases (R7.6). */
export const EXPIRY_CHECK_MS = 500;

/** Runs the leader's lease timers for one member. */
export class LeaseExpiry {
  private readonly timer: PeriodicTimer;
  private lastCheckpoint = 0;

  constructor(
    private readonly core: ServerCore,
    /** Checkpoint interval in ms; 0 disables checkpoints (etcd's default). */
    private readonly checkpointIntervalMs: number,
  ) {
    this.timer = new PeriodicTimer(core.clock, EXPIRY_CHECK_MS, () => this.check());
  }

  /** Start the timer. */
  start(): void {
    this.lastCheckpoint = this.core.clock.now();
    this.timer.start();
  }

  /** Stop the timer. */
  stop(): void {
    this.timer.stop();
  }

  /** One pass (exposed for tests). */
  check(): void {
    const core = this.core;
    if (core.closed || !core.lessor.isPrimary) return;
    const now = core.clock.now();
    const ids = core.lessor.expired(now);
    if (ids.length > 0) {
      log.lease('%d: revoking %d expired leases', core.config.memberId, ids.length);
      core.propose<'leaseRevoke'>({ op: 'leaseRevoke', ids }).catch((err: unknown) => log.lease('expiry revoke failed: %O', err));
    }
    if (this.checkpointIntervalMs > 0 && now - this.lastCheckpoint >= this.checkpointIntervalMs) {
      this.lastCheckpoint = now;
      const checkpoints = core.lessor.checkpointsDue(now, this.checkpointIntervalMs);
      if (checkpoints.length > 0) {
        core.propose<'leaseCheckpoint'>({ op: 'leaseCheckpoint', checkpoints }).catch((err: unknown) => log.lease('checkpoint failed: %O', err));
      }
    }
  }
}
