/**
 * The leader's send window to one follower, as etcd-io/raft's
 * `tracker.Inflights`: the last index of every MsgApp sent but not yet
 * acknowledged, in a ring buffer. When it is full (by count, or by bytes if a
 * byte budget is set) the leader stops sending entries to that follower until
 * acknowledgements free slots.
 */

/** A bounded FIFO of in-flight MsgApp last indexes (increasing). */
export class Inflights {
  private start = 0;
  private cnt = 0;
  private bytes = 0;
  private readonly idx: Float64Array;
  private readonly sizes: Float64Array;
  /** Maximum number of in-flight messages. */
  readonly size: number;
  /** Maximum in-flight bytes (0: unlimited). */
  readonly maxBytes: number;

  constructor(size: number, maxBytes = 0) {
    if (!(size >= 1)) throw new RangeError('inflights size must be >= 1');
    this.size = size;
    this.maxBytes = maxBytes;
    this.idx = new Float64Array(size);
    this.sizes = new Float64Array(size);
  }

  /** A fresh window of the same capacity (used when copying progress). */
  clone(): Inflights {
    const c = new Inflights(this.size, this.maxBytes);
    for (let i = 0; i < this.cnt; i++) {
      const j = (this.start + i) % this.size;
      c.add(this.idx[j]!, this.sizes[j]!);
    }
    return c;
  }

  /** Record a MsgApp whose last entry is `index` carrying `bytes`. Callers check {@link full} first. */
  add(index: number, bytes: number): void {
    if (this.cnt === this.size) throw new RangeError('cannot add into a full inflights');
    let next = this.start + this.cnt;
    if (next >= this.size) next -= this.size;
    this.idx[next] = index;
    this.sizes[next] = bytes;
    this.cnt++;
    this.bytes += bytes;
  }

  /** Free every in-flight message whose last index is <= `to` (they were acknowledged). */
  freeLE(to: number): void {
    if (this.cnt === 0 || to < this.idx[this.start]!) return;
    let i = 0;
    let idx = this.start;
    let freedBytes = 0;
    for (; i < this.cnt; i++) {
      if (to < this.idx[idx]!) break;
      freedBytes += this.sizes[idx]!;
      idx++;
      if (idx >= this.size) idx -= this.size;
    }
    this.cnt -= i;
    this.bytes -= freedBytes;
    this.start = this.cnt === 0 ? 0 : idx;
  }

  /** True when no more messages may be sent. */
  full(): boolean {
    return this.cnt === this.size || (this.maxBytes !== 0 && this.bytes >= this.maxBytes);
  }

  /** Number of in-flight messages. */
  count(): number {
    return this.cnt;
  }

  /** Bytes in flight. */
  inflightBytes(): number {
    return this.bytes;
  }

  /** Forget everything in flight. */
  reset(): void {
    this.start = 0;
    this.cnt = 0;
    this.bytes = 0;
  }
}
