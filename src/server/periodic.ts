/**
 * A repeating timer on an injected {@link Clock}: the loop shared by the
 * leader's background duties (lease expiry, auto-compaction). Each run is
 * scheduled when the previous one has finished, so runs never overlap and a
 * {@link VirtualClock} fires them deterministically.
 */
import type { Clock, TimerHandle } from '../util/clock.ts';

/** Runs `fn` every `intervalMs` ms of the given clock, from {@link start} until {@link stop}. */
export class PeriodicTimer {
  private timer: TimerHandle | undefined;
  private stopped = false;

  /**
   * @param clock schedules the runs
   * @param intervalMs delay between runs, in ms
   * @param fn one run (synchronous; start async work from it without awaiting)
   */
  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly fn: () => void,
  ) {}

  /** Schedule the first run, `intervalMs` from now. */
  start(): void {
    this.arm();
  }

  /** Cancel the pending run; the timer does not restart. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.fn();
      this.arm();
    }, this.intervalMs);
  }
}
