/**
 * The real clock, except that zero-delay timers run on the next turn of the
 * event loop (`setImmediate`) instead of Node's 1 ms minimum timer. An
 * in-process network on this clock delivers a message in microseconds, as a
 * loopback socket would, instead of a millisecond per hop.
 */
import { RealClock, type TimerHandle } from '../util/clock.ts';

/** {@link RealClock} with immediate zero-delay timers. */
export class ImmediateClock extends RealClock {
  private readonly immediates = new Map<number, NodeJS.Immediate>();
  private nextImmediate = -1;

  override setTimer(fn: () => void, ms: number): TimerHandle {
    if (ms > 0) return super.setTimer(fn, ms);
    const id = this.nextImmediate--;
    const h = setImmediate(() => {
      this.immediates.delete(id);
      fn();
    });
    this.immediates.set(id, h);
    return { id };
  }

  override clearTimer(handle: TimerHandle): void {
    const h = this.immediates.get(handle.id);
    if (h === undefined) return super.clearTimer(handle);
    clearImmediate(h);
    this.immediates.delete(handle.id);
  }
}
