/**
 * Time, behind an interface so the simulator can own it. Pure code never
 * reads a clock: it takes ticks. Drivers (RaftNode, StrataNode, leases) use a
 * {@link Clock}: {@link RealClock} in production, {@link VirtualClock} in
 * simulation, where timers fire in a deterministic order as time is advanced.
 */

/** Opaque handle returned by {@link Clock.setTimer}. */
export interface TimerHandle {
  readonly id: number;
}

/** A source of time and timers. */
export interface Clock {
  /** Milliseconds since an arbitrary origin; never decreases. */
  now(): number;
  /** Run `fn` once after `ms` milliseconds. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** Cancel a timer; unknown or fired handles are ignored. */
  clearTimer(handle: TimerHandle): void;
}

/** The process clock (monotonic `performance.now()`, Node timers). */
export class RealClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private nextId = 1;

  now(): number {
    return performance.now();
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, Math.max(0, ms));
    this.timers.set(id, t);
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    const t = this.timers.get(handle.id);
    if (t !== undefined) {
      clearTimeout(t);
      this.timers.delete(handle.id);
    }
  }
}

interface VirtualTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * Simulated time. Nothing happens until {@link VirtualClock.advance} (or
 * {@link VirtualClock.runNext}) is called; timers due at the same instant fire
 * in the order they were set. Deterministic by construction.
 */
export class VirtualClock implements Clock {
  private time: number;
  private nextId = 1;
  // Kept sorted by (at, id); timer counts are small, so insertion is fine.
  private readonly queue: VirtualTimer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: VirtualTimer = { id: this.nextId++, at: this.time + Math.max(0, ms), fn };
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1] as VirtualTimer).at > timer.at) i--;
    this.queue.splice(i, 0, timer);
    return { id: timer.id };
  }

  clearTimer(handle: TimerHandle): void {
    const i = this.queue.findIndex((t) => t.id === handle.id);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** Time of the next pending timer, or undefined. */
  nextTimerAt(): number | undefined {
    return this.queue[0]?.at;
  }

  /** Number of pending timers. */
  pending(): number {
    return this.queue.length;
  }

  /**
   * Fire the earliest pending timer (moving time to it). Returns false when no
   * timer is pending.
   */
  runNext(): boolean {
    const t = this.queue.shift();
    if (t === undefined) return false;
    if (t.at > this.time) this.time = t.at;
    t.fn();
    return true;
  }

  /** Move time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const t = this.queue[0];
      if (t === undefined || t.at > until) break;
      this.queue.shift();
      if (t.at > this.time) this.time = t.at;
      t.fn();
    }
    this.time = until;
  }
}
