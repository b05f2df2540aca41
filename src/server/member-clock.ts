/**
 * One member incarnation's view of a shared clock: its timers can all be
 * dropped at once when the member crashes, and a dead incarnation schedules
 * nothing. Used by the KV simulation on a VirtualClock.
 */
import type { Clock, TimerHandle } from '../util/clock.ts';

/** A killable facade over a shared {@link Clock}. */
export class MemberClock implements Clock {
  private readonly live = new Map<number, TimerHandle>();
  private dead = false;

  constructor(private readonly base: Clock) {}

  now(): number {
    return this.base.now();
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    if (this.dead) return { id: -1 };
    const h = this.base.setTimer(() => {
      this.live.delete(h.id);
      if (!this.dead) fn();
    }, ms);
    this.live.set(h.id, h);
    return h;
  }

  clearTimer(handle: TimerHandle): void {
    const h = this.live.get(handle.id);
    if (h === undefined) return;
    this.live.delete(handle.id);
    this.base.clearTimer(h);
  }

  /** Drop every pending timer; later timers are ignored (a crashed process). */
  kill(): void {
    this.dead = true;
    for (const h of this.live.values()) this.base.clearTimer(h);
    this.live.clear();
  }
}
