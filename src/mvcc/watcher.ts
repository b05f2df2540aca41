/**
 * One watch: an async iterable of {@link WatchResponse}s fed by the
 * {@link WatchHub}. Its buffer is bounded: when it is full the hub stops
 * pushing live events and the watcher falls back to catching up from the
 * store once the consumer has drained it (etcd's unsynced watchers, R6.11,
 * R6.12), so a slow consumer delays only itself and memory stays bounded.
 */
import type { Span } from './request.ts';
import type { WatchResponse } from './types.ts';

/** Callbacks from a watcher to its hub. */
export interface WatcherOwner {
  /** The consumer took a response: the hub may resume catching up. */
  drained(w: Watcher): void;
  /** The watcher ended (cancelled or finished): forget it. */
  removed(w: Watcher): void;
  /** The consumer asked for a progress notification. */
  progress(w: Watcher): void;
}

/** A running watch. Iterate it with `for await`; `break` (or {@link cancel}) ends it. */
export class Watcher implements AsyncIterableIterator<WatchResponse, undefined> {
  /** Id, unique per store, counting up from 0. */
  readonly id: number;
  /** Keys watched. */
  readonly span: Span;
  /** Attach prev_kv to events (R6.6). */
  readonly prevKv: boolean;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  readonly progressNotify: boolean;
  /** Next revision this watcher needs (etcd's minRev). */
  nextRev: number;
  /** The first revision it watches (etcd's startRev: the start revision, or current + 1 at creation). */
  readonly startRev: number;
  /** True while served inline by writes; false while catching up. */
  synced = false;
  /** True while a catch-up read is running. */
  catchingUp = false;
  /** Events were queued since the last progress tick. */
  active = false;
  private readonly buf: WatchResponse[] = [];
  /** Pending next() calls, oldest first (only while the buffer is empty). */
  private readonly waiters: ((r: IteratorResult<WatchResponse, undefined>) => void)[] = [];
  private ending = false;
  private ended = false;
  private readonly owner: WatcherOwner;
  private readonly capacity: number;
  private readonly cleanups: (() => void)[] = [];

  /** @internal Created by the hub. */
  constructor(
    owner: WatcherOwner,
    id: number,
    span: Span,
    opts: { nextRev: number; prevKv: boolean; noPut: boolean; noDelete: boolean; progressNotify: boolean; capacity: number },
  ) {
    this.owner = owner;
    this.id = id;
    this.span = span;
    this.nextRev = opts.nextRev;
    this.startRev = opts.nextRev;
    this.prevKv = opts.prevKv;
    this.noPut = opts.noPut;
    this.noDelete = opts.noDelete;
    this.progressNotify = opts.progressNotify;
    this.capacity = opts.capacity;
  }

  /** True once the watch is cancelled or finished. */
  get done(): boolean {
    return this.ended || this.ending;
  }

  /** True when the buffer can take another response. */
  get hasRoom(): boolean {
    return this.buf.length < this.capacity;
  }

  /** Responses queued and not yet taken. */
  get buffered(): number {
    return this.buf.length;
  }

  /** True if `kstr` is inside the watched span. */
  matches(kstr: string): boolean {
    const s = this.span;
    if (s.end === undefined) return kstr === s.start;
    return kstr >= s.start && (s.end === '' || kstr < s.end);
  }

  /** @internal Queue a response for the consumer. */
  push(r: WatchResponse): void {
    if (this.done) return;
    const w = this.waiters.shift();
    if (w !== undefined) {
      w({ value: r, done: false });
      // The buffer is empty: the hub may continue at once.
      queueMicrotask(() => this.owner.drained(this));
    } else this.buf.push(r);
  }

  /** @internal Queue a last response, then end the iteration (store-side cancel). */
  finish(last: WatchResponse): void {
    if (this.done) return;
    this.push(last);
    this.ending = true;
    this.owner.removed(this);
    if (this.buf.length === 0) this.end();
  }

  /** @internal Run `fn` once when the watch ends (listener cleanup). */
  onEnd(fn: () => void): void {
    if (this.ended) fn();
    else this.cleanups.push(fn);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.ending = true;
    this.buf.length = 0;
    this.owner.removed(this);
    for (const fn of this.cleanups.splice(0)) fn();
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
  }

  /** Cancel the watch: buffered responses are dropped and the iteration ends (R6.13). */
  cancel(): void {
    this.end();
  }

  /** Ask for a progress notification (sent only while the watcher is synced, R6.9). */
  requestProgress(): void {
    if (!this.done) this.owner.progress(this);
  }

  next(): Promise<IteratorResult<WatchResponse, undefined>> {
    const r = this.buf.shift();
    if (r !== undefined) {
      if (this.ending && this.buf.length === 0) this.end();
      else this.owner.drained(this);
      return Promise.resolve({ value: r, done: false });
    }
    if (this.ended || this.ending) {
      this.end();
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve) => {
      this.waiters.push(resolve);
    });
  }

  return(): Promise<IteratorResult<WatchResponse, undefined>> {
    this.cancel();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): Watcher {
    return this;
  }
}
