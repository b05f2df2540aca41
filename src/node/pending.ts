/**
 * Bookkeeping for calls waiting on the Ready loop: a settle-once promise
 * with AbortSignal support.
 */
import { strataError } from '../errors.ts';

/** A promise that is settled at most once, from outside. */
export class Deferred<T> {
  readonly promise: Promise<T>;
  settled = false;
  private res!: (v: T) => void;
  private rej!: (e: unknown) => void;
  private unlisten: (() => void) | undefined;

  /** Create; when `signal` aborts first the promise rejects with `ErrAborted` and `onAbort` runs. */
  constructor(signal?: AbortSignal, onAbort?: () => void) {
    this.promise = new Promise<T>((res, rej) => {
      this.res = res;
      this.rej = rej;
    });
    if (signal?.aborted === true) {
      this.reject(strataError('ErrAborted', 'operation aborted'));
    } else if (signal !== undefined) {
      const fn = (): void => {
        if (this.reject(strataError('ErrAborted', 'operation aborted'))) onAbort?.();
      };
      signal.addEventListener('abort', fn, { once: true });
      this.unlisten = () => signal.removeEventListener('abort', fn);
    }
  }

  /** Resolve unless already settled; returns whether it did. */
  resolve(v: T): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.unlisten?.();
    this.res(v);
    return true;
  }

  /** Reject unless already settled; returns whether it did. */
  reject(e: unknown): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.unlisten?.();
    this.rej(e);
    return true;
  }
}

/** A FIFO with O(1) amortised shift (head index, compacted now and then). */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  push(v: T): void {
    this.items.push(v);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head++] as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Remove and return everything. */
  drain(): T[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }
}
