/**
 * Revision-mode auto-compaction (etcd's `--auto-compaction-mode=revision
 * --auto-compaction-retention=N`): the leader keeps the last N revisions and
 * proposes a compaction of everything older, checking every interval. Off
 * by default, as in etcd. Keeps memory and snapshot sizes bounded under a
 * steady write load.
 */
import { isStrataError } from '../errors.ts';
import { log } from '../util/log.ts';
import type { ServerCore } from './core.ts';
import { PeriodicTimer } from './periodic.ts';

/** Runs auto-compaction for one member (acts only while it leads). */
export class AutoCompactor {
  private readonly timer: PeriodicTimer;
  private inFlight = false;

  constructor(
    private readonly core: ServerCore,
    /** Revisions to keep (> 0). */
    private readonly retention: number,
    /** How often to check, in ms. */
    private readonly intervalMs: number,
  ) {
    this.timer = new PeriodicTimer(core.clock, this.intervalMs, () => this.check());
  }

  /** Start checking. */
  start(): void {
    this.timer.start();
  }

  /** Stop checking. */
  stop(): void {
    this.timer.stop();
  }

  /** One check (exposed for tests). */
  check(): void {
    const core = this.core;
    if (core.closed || this.inFlight || !core.lessor.isPrimary) return;
    const target = core.store.currentRevision - this.retention;
    // Compact in steps of at least a tenth of the retention, not on every write.
    if (target <= core.store.compactRevision + Math.max(1, Math.floor(this.retention / 10))) return;
    this.inFlight = true;
    core
      .propose<'compact'>({ op: 'compact', revision: target })
      .then(
        () => log.server('%d: auto-compacted to %d', core.config.memberId, target),
        (err: unknown) => {
          if (!isStrataError(err, 'ErrCompacted')) log.server('auto-compaction failed: %O', err);
        },
      )
      .finally(() => {
        this.inFlight = false;
      });
  }
}
