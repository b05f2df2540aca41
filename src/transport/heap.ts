/**
 * A binary min-heap of timed items keyed by `(deliverAt, seq)`. The memory network
 * keeps every in-flight message here: the simulator pushes hundreds of
 * thousands of messages, so push/pop must be O(log n), and ties on `deliverAt` must
 * break by `seq` (send order) so that delivery order is fully determined.
 */

/** An item ordered by time, then by a unique sequence number. */
export interface Timed {
  readonly deliverAt: number;
  readonly seq: number;
}

function less(a: Timed, b: Timed): boolean {
  return a.deliverAt < b.deliverAt || (a.deliverAt === b.deliverAt && a.seq < b.seq);
}

/** Min-heap ordered by `(deliverAt, seq)`. */
export class TimedHeap<T extends Timed> {
  private readonly items: T[] = [];

  /** Number of items held. */
  get size(): number {
    return this.items.length;
  }

  /** The smallest item, or undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Add an item. */
  push(item: T): void {
    const items = this.items;
    items.push(item);
    this.up(items.length - 1);
  }

  /** Remove and return the smallest item, or undefined when empty. */
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop() as T;
    if (items.length > 0) {
      items[0] = last;
      this.down(0);
    }
    return top;
  }

  /** Remove the first item matching `pred` (O(n) search). Returns it, or undefined. */
  remove(pred: (item: T) => boolean): T | undefined {
    const items = this.items;
    const i = items.findIndex(pred);
    if (i < 0) return undefined;
    const found = items[i] as T;
    const last = items.pop() as T;
    if (i < items.length) {
      items[i] = last;
      this.down(i);
      this.up(i);
    }
    return found;
  }

  /** Every item, in no particular order (do not mutate). */
  unordered(): readonly T[] {
    return this.items;
  }

  /** Remove every item. */
  clear(): void {
    this.items.length = 0;
  }

  private up(i: number): void {
    const items = this.items;
    const item = items[i] as T;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as T;
      if (!less(item, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i] as T;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let child = l;
      if (r < n && less(items[r] as T, items[l] as T)) child = r;
      const c = items[child] as T;
      if (!less(c, item)) break;
      items[i] = c;
      i = child;
    }
    items[i] = item;
  }
}
