/**
 * A member's view of the simulator's single {@link VirtualClock}: timers run
 * at the member's own rate (clock skew), are deferred while the member is
 * paused (a GC pause), and vanish when it crashes.
 */
import type { Clock, TimerHandle, VirtualClock } from '../util/clock.ts';

/** Per-member clock facade over the shared virtual clock. */
export class NodeClock implements Clock {
  private readonly live = new Set<number>();
  private deferred: Array<() => void> = [];
  private paused = false;
  private dead = false;

  /**
   * @param base the simulator's clock
   * @param rate timer durations are multiplied by this (1 = no skew)
   * @param onFire called before a timer of this member runs (tracing)
   */
  constructor(
    private readonly base: VirtualClock,
    private readonly rate: number,
    private readonly onFire: () => void,
  ) {}

  now(): number {
    return this.base.now();
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    if (this.dead) return { id: -1 };
    const h = this.base.setTimer(() => {
      this.live.delete(h.id);
      if (this.dead) return;
      if (this.paused) {
        this.deferred.push(fn);
        return;
      }
      this.onFire();
      fn();
    }, ms * this.rate);
    this.live.add(h.id);
    return h;
  }

  clearTimer(handle: TimerHandle): void {
    if (this.live.delete(handle.id)) this.base.clearTimer(handle);
  }

  /** Stop running timers (they are kept and run on {@link resume}). */
  pause(): void {
    this.paused = true;
  }

  /** Run the timers that fell due while paused, then continue normally. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const fns = this.deferred;
    this.deferred = [];
    for (const fn of fns) {
      if (this.dead) return;
      this.onFire();
      fn();
    }
  }

  /** True while paused. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Crash: drop every timer, now and later. */
  kill(): void {
    this.dead = true;
    for (const id of this.live) this.base.clearTimer({ id });
    this.live.clear();
    this.deferred = [];
  }
}
