/**
 * An in-process network for tests, the simulator and single-process clusters.
 * Every member gets a {@link MemoryTransport} from one {@link MemoryNetwork};
 * the network holds the messages in flight in a heap keyed by
 * `(deliverAt, seq)` and injects faults — drop, duplicate, delay, reorder,
 * partitions, one-way cuts, held links, crashed nodes — all drawn from the
 * injected seeded `Random`, with time only from the injected `Clock`. Same
 * seed and same calls ⇒ same deliveries, in the same order.
 *
 * Two ways to drive it: the owner calls {@link MemoryNetwork.deliverDue} /
 * {@link MemoryNetwork.deliverNext} (the simulator), or the network is built
 * with `autoDeliver: true` and arms one clock timer for its earliest pending
 * delivery (an in-process cluster on a real clock).
 */
import { MessageType } from '../raft/types.ts';
import type { Message, NodeId } from '../raft/types.ts';
import type { Random } from '../util/rng.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import { encode, decode } from '../codec/index.ts';
import { strataError } from '../errors.ts';
import { TimedHeap } from './heap.ts';
import { linkAdd, linkDelete, linkHas } from './links.ts';
import type { LinkSet } from './links.ts';
import { MemoryTransport } from './memory-transport.ts';

export { MemoryTransport };

/** Fault knobs of a {@link MemoryNetwork}. Rates are probabilities in [0, 1]. */
export interface NetworkFaults {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice (the copy gets its own delay). */
  duplicateRate: number;
  /** Smallest delivery delay, ms. */
  minDelay: number;
  /**
   * Largest delivery delay, ms. The delay is drawn uniformly from
   * [minDelay, maxDelay] (whole ms when the span is whole); reordering
   * emerges from differing delays.
   */
  maxDelay: number;
  /** Extra probability that a message gets a large extra delay (overtaken by later ones). */
  reorderRate: number;
  /**
   * Upper bound of that extra delay, ms, drawn from [1, reorderDelay].
   * Default: `max(10, 5 * maxDelay)`.
   */
  reorderDelay?: number;
}

/** A message on its way, as {@link MemoryNetwork.inFlight} reports it. */
export interface InFlight {
  /** Unique, increasing in send order; ties on `deliverAt` deliver in `seq` order. */
  readonly seq: number;
  readonly from: NodeId;
  readonly to: NodeId;
  /** Clock time at which it becomes deliverable. */
  readonly deliverAt: number;
  readonly message: Message;
}

/** Counters of a {@link MemoryNetwork}. */
export interface NetworkStats {
  /** Messages handed to `send` by members that are up. */
  sent: number;
  /** Deliveries to a handler (a duplicate counts again). */
  delivered: number;
  /** Messages lost: random drop, cut link, node down, removed peer, `drop(seq)`, no receiver. */
  dropped: number;
  /** Extra copies created by the duplicate fault. */
  duplicated: number;
}

/** Options of {@link MemoryNetwork}. */
export interface MemoryNetworkOptions {
  /** Seeded randomness for faults and delays. */
  rng: Random;
  /** Time source: `deliverAt = clock.now() + delay`. */
  clock: Clock;
  /** Initial faults; unspecified knobs are 0 (a perfect, instant network). */
  faults?: Partial<NetworkFaults>;
  /**
   * When true the network delivers by itself through `clock.setTimer` (one
   * timer for the earliest pending delivery). Default false: the owner calls
   * `deliverDue`/`deliverNext`.
   */
  autoDeliver?: boolean;
  /**
   * When true every message is passed through the codec on send, as a wire
   * would (catches unencodable messages; receivers never share objects with
   * senders). Default false.
   */
  serialize?: boolean;
}

/** Entry kinds in the heap: a message, or a deferred snapshot-failure report to `from`. */
const KIND_MESSAGE = 0;
const KIND_SNAP_FAILED = 1;

interface Pending extends InFlight {
  readonly kind: typeof KIND_MESSAGE | typeof KIND_SNAP_FAILED;
}

function toInFlight(p: Pending): InFlight {
  return { seq: p.seq, from: p.from, to: p.to, deliverAt: p.deliverAt, message: p.message };
}

function byTimeThenSeq(a: InFlight, b: InFlight): number {
  return a.deliverAt - b.deliverAt || a.seq - b.seq;
}

/** A deterministic, fault-injecting in-memory network. */
export class MemoryNetwork {
  /** Counters since creation. */
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };

  private readonly rng: Random;
  private readonly clock: Clock;
  private readonly autoDeliver: boolean;
  private readonly serialize: boolean;
  private f: NetworkFaults = { dropRate: 0, duplicateRate: 0, minDelay: 0, maxDelay: 0, reorderRate: 0 };
  private readonly members = new Map<NodeId, MemoryTransport>();
  private readonly cuts: LinkSet = new Map();
  private readonly holds: LinkSet = new Map();
  private readonly isolated = new Set<NodeId>();
  private readonly downs = new Set<NodeId>();
  private readonly heap = new TimedHeap<Pending>();
  /** Messages found on a held link; back into the heap on release. */
  private held: Pending[] = [];
  private nextSeq = 1;
  private timer: TimerHandle | undefined;
  private armedAt = 0;
  private closed = false;

  constructor(options: MemoryNetworkOptions) {
    this.rng = options.rng;
    this.clock = options.clock;
    this.autoDeliver = options.autoDeliver === true;
    this.serialize = options.serialize === true;
    if (options.faults !== undefined) this.setFaults(options.faults);
  }

  /**
   * The endpoint of member `id`. Creating a transport for an id that already
   * has one replaces it (a restarted node); the old one is detached.
   */
  transport(id: NodeId): MemoryTransport {
    const old = this.members.get(id);
    if (old !== undefined) old.detach();
    const t = new MemoryTransport(this, id);
    this.members.set(id, t);
    return t;
  }

  /**
   * Change some fault knobs; the others keep their values. Setting only one
   * end of the delay range moves the other end with it when needed (setting
   * `maxDelay` below the current `minDelay` lowers `minDelay` too). Throws
   * `ErrInvalidArgument` for a rate outside [0, 1], a negative delay, or
   * `minDelay > maxDelay` given together; nothing changes then.
   */
  setFaults(f: Partial<NetworkFaults>): void {
    const next: NetworkFaults = { ...this.f };
    for (const k of ['dropRate', 'duplicateRate', 'minDelay', 'maxDelay', 'reorderRate', 'reorderDelay'] as const) {
      const v = f[k];
      if (v !== undefined) next[k] = v;
    }
    for (const k of ['dropRate', 'duplicateRate', 'reorderRate'] as const) {
      if (!(next[k] >= 0 && next[k] <= 1)) throw strataError('ErrInvalidArgument', `${k} must be in [0, 1], got ${next[k]}`);
    }
    if (!(next.minDelay >= 0 && next.maxDelay >= 0)) {
      throw strataError('ErrInvalidArgument', `delays must be >= 0, got ${next.minDelay}..${next.maxDelay}`);
    }
    if (next.minDelay > next.maxDelay) {
      if (f.minDelay !== undefined && f.maxDelay !== undefined) {
        throw strataError('ErrInvalidArgument', `minDelay ${next.minDelay} > maxDelay ${next.maxDelay}`);
      }
      if (f.maxDelay !== undefined) next.minDelay = next.maxDelay;
      else next.maxDelay = next.minDelay;
    }
    if (next.reorderDelay !== undefined && !(next.reorderDelay >= 1)) {
      throw strataError('ErrInvalidArgument', `reorderDelay must be >= 1, got ${next.reorderDelay}`);
    }
    this.f = next;
  }

  /** The current fault knobs. */
  faults(): Readonly<NetworkFaults> {
    return { ...this.f };
  }

  /** Cut links between every node of `a` and every node of `b`, both ways. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        if (x === y) continue;
        linkAdd(this.cuts, x, y);
        linkAdd(this.cuts, y, x);
      }
    }
  }

  /** Cut only `from` → `to`. */
  cutOneWay(from: NodeId, to: NodeId): void {
    if (from !== to) linkAdd(this.cuts, from, to);
  }

  /** Cut every link to and from `id` (including to nodes created later), until {@link heal}. */
  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /** Restore every cut link and isolated node. Held links stay held. */
  heal(): void {
    this.cuts.clear();
    this.isolated.clear();
  }

  /** True when messages can currently travel `from` → `to` (ignoring holds and random faults). */
  linkUp(from: NodeId, to: NodeId): boolean {
    return !this.blocked(from, to);
  }

  /** Hold messages on `from` → `to`: they stay in flight (inspectable) until {@link release}. */
  hold(from: NodeId, to: NodeId): void {
    linkAdd(this.holds, from, to);
  }

  /**
   * Stop holding `from` → `to`. Held messages become deliverable at their
   * original `deliverAt` (possibly already past).
   */
  release(from: NodeId, to: NodeId): void {
    linkDelete(this.holds, from, to);
    const keep: Pending[] = [];
    for (const p of this.held) {
      if (p.from === from && p.to === to) this.push(p);
      else keep.push(p);
    }
    this.held = keep;
  }

  /** Take `id` off the network (crashed): messages to it are dropped and its sends are ignored until {@link up}. */
  down(id: NodeId): void {
    this.downs.add(id);
  }

  /** Put `id` back on the network. */
  up(id: NodeId): void {
    this.downs.delete(id);
  }

  /** True when `id` is down. */
  isDown(id: NodeId): boolean {
    return this.downs.has(id);
  }

  /** Every message in flight (held ones included), in `(deliverAt, seq)` order. */
  inFlight(): readonly InFlight[] {
    const out: InFlight[] = [];
    for (const p of this.heap.unordered()) if (p.kind === KIND_MESSAGE) out.push(toInFlight(p));
    for (const p of this.held) out.push(toInFlight(p));
    return out.sort(byTimeThenSeq);
  }

  /**
   * Time of the earliest pending event that is not on a held link, or
   * undefined when there is none. Besides messages, a pending event can be
   * a deferred "snapshot failed" report for a MsgSnap dropped on send.
   */
  nextDeliveryAt(): number | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined) return undefined;
      if (top.kind === KIND_MESSAGE && linkHas(this.holds, top.from, top.to)) {
        this.heap.pop();
        this.held.push(top);
        continue;
      }
      return top.deliverAt;
    }
  }

  /**
   * Deliver, in `(deliverAt, seq)` order, every non-held message with
   * `deliverAt <= now` that was already in flight when called; messages sent
   * by handlers during this call wait for the next call, so a zero-delay
   * exchange cannot loop forever. A message whose link is cut, or whose
   * receiver is down or gone, at delivery time is dropped instead. Handlers
   * run synchronously. Returns how many messages were delivered.
   */
  deliverDue(now: number): number {
    const bound = this.nextSeq;
    const deferred: Pending[] = [];
    let count = 0;
    try {
      for (;;) {
        const top = this.heap.peek();
        if (top === undefined || top.deliverAt > now) break;
        this.heap.pop();
        if (top.seq >= bound) {
          deferred.push(top);
        } else if (top.kind === KIND_MESSAGE && linkHas(this.holds, top.from, top.to)) {
          this.held.push(top);
        } else if (this.process(top)) {
          count++;
        }
      }
    } finally {
      for (const p of deferred) this.heap.push(p);
    }
    return count;
  }

  /**
   * Deliver the single earliest deliverable message regardless of time.
   * Returns it, or undefined when nothing was delivered: either nothing is
   * pending, or every event at the earliest instant was a drop (cut link,
   * receiver down) or a snapshot-failure report. Never reaches past that
   * instant, so a caller that advanced its clock to {@link nextDeliveryAt}
   * never sees a message early. To drain, loop while `nextDeliveryAt()` is
   * defined.
   */
  deliverNext(): InFlight | undefined {
    let instant: number | undefined;
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined || (instant !== undefined && top.deliverAt !== instant)) return undefined;
      this.heap.pop();
      if (top.kind === KIND_MESSAGE && linkHas(this.holds, top.from, top.to)) {
        this.held.push(top);
        continue;
      }
      instant = top.deliverAt;
      if (this.process(top)) return top;
    }
  }

  /** Drop one in-flight message (held or not) by `seq`. Returns whether it was found. */
  drop(seq: number): boolean {
    let p: Pending | undefined = this.heap.remove((x) => x.seq === seq && x.kind === KIND_MESSAGE);
    if (p === undefined) {
      const i = this.held.findIndex((x) => x.seq === seq);
      if (i < 0) return false;
      p = this.held[i] as Pending;
      this.held.splice(i, 1);
    }
    this.stats.dropped++;
    if (p.message.type === MessageType.MsgSnap) this.deferSnapFailure(p.from, p.to, this.clock.now());
    return true;
  }

  /** Number of pending events (messages, held or not, and deferred reports). */
  pendingCount(): number {
    return this.heap.size + this.held.length;
  }

  /** Stop auto-delivery and detach every transport. In-flight messages are discarded. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    for (const t of [...this.members.values()]) t.detach();
    this.heap.clear();
    this.held = [];
  }

  /** @internal Called by {@link MemoryTransport.send}. */
  sendFrom(sender: MemoryTransport, messages: readonly Message[], removed: ReadonlySet<NodeId>): void {
    const from = sender.id;
    if (this.closed || this.members.get(from) !== sender || this.downs.has(from)) return;
    const now = this.clock.now();
    const f = this.f;
    const rng = this.rng;
    for (const original of messages) {
      this.stats.sent++;
      const to = original.to;
      const message = this.serialize ? decode<Message>(encode(original)) : original;
      if (removed.has(to) || this.downs.has(to) || this.blocked(from, to) || (f.dropRate > 0 && rng.next() < f.dropRate)) {
        this.stats.dropped++;
        if (message.type === MessageType.MsgSnap) this.deferSnapFailure(from, to, now);
        continue;
      }
      this.push({ kind: KIND_MESSAGE, seq: this.nextSeq++, from, to, deliverAt: now + this.drawDelay(), message });
      if (f.duplicateRate > 0 && rng.next() < f.duplicateRate) {
        this.stats.duplicated++;
        this.push({ kind: KIND_MESSAGE, seq: this.nextSeq++, from, to, deliverAt: now + this.drawDelay(), message });
      }
    }
  }

  /** @internal Called by {@link MemoryTransport.close}. */
  detach(t: MemoryTransport): void {
    if (this.members.get(t.id) === t) this.members.delete(t.id);
  }

  private blocked(from: NodeId, to: NodeId): boolean {
    if (from === to) return false;
    if (this.isolated.size > 0 && (this.isolated.has(from) || this.isolated.has(to))) return true;
    return linkHas(this.cuts, from, to);
  }

  private drawDelay(): number {
    const f = this.f;
    const span = f.maxDelay - f.minDelay;
    let d = f.minDelay;
    if (span > 0) d += Number.isInteger(span) ? this.rng.int(span + 1) : this.rng.next() * span;
    if (f.reorderRate > 0 && this.rng.next() < f.reorderRate) {
      const extra = f.reorderDelay ?? Math.max(10, 5 * f.maxDelay);
      d += Number.isInteger(extra) ? 1 + this.rng.int(extra) : 1 + this.rng.next() * (extra - 1);
    }
    return d;
  }

  private deferSnapFailure(from: NodeId, to: NodeId, at: number): void {
    // Reported from the delivery path, never from inside send(), so a driver
    // is not re-entered while it is still handing messages over.
    this.push({ kind: KIND_SNAP_FAILED, seq: this.nextSeq++, from, to, deliverAt: at, message: SNAP_FAILED_PLACEHOLDER });
  }

  private push(p: Pending): void {
    this.heap.push(p);
    if (this.autoDeliver) this.arm(p.deliverAt);
  }

  /** Handle one popped event. True when a message reached a handler. */
  private process(p: Pending): boolean {
    if (p.kind === KIND_SNAP_FAILED) {
      this.reportSnapshot(p.from, p.to, false);
      return false;
    }
    const dest = this.members.get(p.to);
    const handler = dest?.handler;
    if (handler === undefined || this.downs.has(p.to) || this.blocked(p.from, p.to)) {
      this.stats.dropped++;
      if (p.message.type === MessageType.MsgSnap) this.reportSnapshot(p.from, p.to, false);
      return false;
    }
    this.stats.delivered++;
    handler(p.message);
    if (p.message.type === MessageType.MsgSnap) this.reportSnapshot(p.from, p.to, true);
    return true;
  }

  private reportSnapshot(from: NodeId, to: NodeId, ok: boolean): void {
    if (this.downs.has(from)) return;
    const h = this.members.get(from)?.snapshotHandler;
    if (h !== undefined) h(to, ok);
  }

  private arm(at: number): void {
    if (this.closed) return;
    if (this.timer !== undefined) {
      if (this.armedAt <= at) return;
      this.clock.clearTimer(this.timer);
    }
    this.armedAt = at;
    this.timer = this.clock.setTimer(this.onTimer, Math.max(0, at - this.clock.now()));
  }

  private readonly onTimer = (): void => {
    const at = this.armedAt;
    this.timer = undefined;
    try {
      // The timer fired for `at`: deliver what was due then even if the clock
      // reads a hair earlier.
      this.deliverDue(Math.max(this.clock.now(), at));
    } finally {
      const next = this.nextDeliveryAt();
      if (next !== undefined) this.arm(next);
    }
  };
}

const SNAP_FAILED_PLACEHOLDER: Message = Object.freeze({
  type: MessageType.MsgSnapStatus,
  from: 0,
  to: 0,
  term: 0,
  logTerm: 0,
  index: 0,
  entries: [],
  commit: 0,
  reject: true,
  rejectHint: 0,
});
