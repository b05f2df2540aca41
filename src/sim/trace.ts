/**
 * The simulator's event log. Every event is folded into a running hash (the
 * run's `traceHash`); when a sink is given each event is also written as one
 * JSON line (`{"t":…,"tick":…,"n":…,"ev":…,…}`). In self-check mode the
 * running hash after every event is kept so two runs can be compared and the
 * first divergence reported.
 */
import { TraceHasher } from './hash.ts';

/** A trace event's fields beyond time, node and kind. */
export type TraceFields = Record<string, string | number | boolean | undefined>;

/** One recorded event (self-check mode keeps them). */
export interface TraceEvent {
  readonly seq: number;
  readonly time: number;
  readonly node: number;
  readonly ev: string;
  readonly fields: TraceFields;
  /** Running hash after this event. */
  readonly hash: string;
}

/** Options of a {@link Trace}. */
export interface TraceOptions {
  /** Receives one JSON line per event. */
  readonly sink?: (line: string) => void;
  /** Keep every event (for divergence reports). */
  readonly keep?: boolean;
  /** Milliseconds per tick, to print `tick` in lines. */
  readonly tickMs?: number;
}

/** Event recorder and hasher. */
export class Trace {
  private readonly h = new TraceHasher();
  private readonly sink: ((line: string) => void) | undefined;
  private readonly keep: boolean;
  private readonly tickMs: number;
  /** Kept events (self-check mode). */
  readonly events: TraceEvent[] = [];
  /** Number of events recorded. */
  count = 0;
  private readonly evIds = new Map<string, number>();

  constructor(options: TraceOptions = {}) {
    this.sink = options.sink;
    this.keep = options.keep === true;
    this.tickMs = options.tickMs ?? 100;
  }

  /** Record an event at virtual time `time` about `node` (0 = the simulator). */
  record(time: number, node: number, ev: string, fields: TraceFields = {}): void {
    this.count++;
    const h = this.h;
    let evId = this.evIds.get(ev);
    if (evId === undefined) {
      evId = 0x811c9dc5;
      for (let i = 0; i < ev.length; i++) evId = Math.imul(evId ^ ev.charCodeAt(i), 0x01000193) >>> 0;
      this.evIds.set(ev, evId);
    }
    h.num(time).num(node).num(evId);
    // Field names are fixed per event kind: hash the values only (undefined as a marker).
    for (const k in fields) {
      const v = fields[k];
      if (v === undefined) h.num(-1);
      else if (typeof v === 'number') h.num(v);
      else if (typeof v === 'boolean') h.num(v ? 1 : 0);
      else h.str(v);
    }
    if (this.sink !== undefined) {
      this.sink(JSON.stringify({ t: time, tick: Math.floor(time / this.tickMs), n: node, ev, ...fields }));
    }
    if (this.keep) this.events.push({ seq: this.count, time, node, ev, fields, hash: h.hex() });
  }

  /** The running hash. */
  hash(): string {
    return this.h.hex();
  }
}
