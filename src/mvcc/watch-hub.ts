/**
 * The watchable store (section 6): keeps watchers synced (served inline as
 * each write applies, R6.11) or unsynced (catching up from the backend,
 * at most 1000 distinct revisions per response, R6.5). A watcher whose
 * buffer is full falls back to unsynced at the revision it missed, so
 * nothing is lost, nothing is sent twice and writers never wait (R6.12).
 * A watcher that needs compacted history is cancelled with the compact
 * revision (R6.8).
 */
import type { Clock, TimerHandle } from '../util/clock.ts';
import { log } from '../util/log.ts';
import type { StoreEvent } from './txn.ts';
import type { Span } from './request.ts';
import type { KeyValue, WatchEvent } from './types.ts';
import { Watcher, type WatcherOwner } from './watcher.ts';

/** An event read back from the backend. */
export interface HistoryEvent extends StoreEvent {
  main: number;
  sub: number;
}

/** What the hub needs from the store. */
export interface WatchSource {
  readonly currentRev: number;
  readonly compactRev: number;
  /** The key's value at `rev` if still available (not compacted) and live (R6.6). */
  kvAt(kstr: string, rev: number): KeyValue | undefined;
  /** Events with main revision in [fromMain, toMain], in revision order, resuming after (`fromMain`, `fromSub`). */
  history(fromMain: number, fromSub: number, toMain: number, limit: number): Promise<HistoryEvent[]>;
}

/** Options of a new watcher (validated). */
export interface WatchSpec {
  span: Span;
  startRevision: number;
  prevKv: boolean;
  noPut: boolean;
  noDelete: boolean;
  progressNotify: boolean;
}

/** Most distinct revisions in one catch-up response (R6.5). */
const MAX_REVS_PER_BATCH = 1000;
/** Records read from the backend per catch-up read. */
const READ_CHUNK = 1000;

/** Synced/unsynced watcher groups and event fan-out. */
export class WatchHub implements WatcherOwner {
  private nextId = 0;
  private readonly all = new Set<Watcher>();
  /** Synced single-key watchers by key. */
  private readonly byKey = new Map<string, Set<Watcher>>();
  /** Synced range watchers. */
  private readonly ranged = new Set<Watcher>();
  private readonly progressWatchers = new Set<Watcher>();
  private timer: TimerHandle | undefined;
  /** Bumped when the store's history is replaced (restore). */
  private epoch = 0;
  private readonly source: WatchSource;
  private readonly clock: Clock;
  private readonly capacity: number;
  private readonly progressMs: number;

  constructor(source: WatchSource, clock: Clock, opts: { capacity: number; progressMs: number }) {
    this.source = source;
    this.clock = clock;
    this.capacity = opts.capacity;
    this.progressMs = opts.progressMs;
  }

  /** Number of live watchers. */
  get size(): number {
    return this.all.size;
  }

  /** Create a watcher (R6.2). */
  watch(spec: WatchSpec): Watcher {
    const cur = this.source.currentRev;
    const w = new Watcher(this, this.nextId++, spec.span, {
      nextRev: spec.startRevision > 0 ? spec.startRevision : cur + 1,
      prevKv: spec.prevKv,
      noPut: spec.noPut,
      noDelete: spec.noDelete,
      progressNotify: spec.progressNotify,
      capacity: this.capacity,
    });
    this.all.add(w);
    if (spec.progressNotify) {
      this.progressWatchers.add(w);
      this.armTimer();
    }
    if (w.nextRev > cur) this.setSynced(w, true);
    else this.catchUp(w);
    return w;
  }

  private setSynced(w: Watcher, synced: boolean): void {
    if (w.synced === synced) return;
    w.synced = synced;
    const s = w.span;
    if (s.end === undefined) {
      let set = this.byKey.get(s.start);
      if (synced) {
        if (set === undefined) this.byKey.set(s.start, (set = new Set()));
        set.add(w);
      } else if (set !== undefined) {
        set.delete(w);
        if (set.size === 0) this.byKey.delete(s.start);
      }
    } else if (synced) this.ranged.add(w);
    else this.ranged.delete(w);
  }

  /** A write applied at revision `rev` with `events`: serve synced watchers inline. */
  notify(rev: number, events: readonly StoreEvent[]): void {
    if (this.all.size === 0) return;
    const per = new Map<Watcher, StoreEvent[]>();
    const add = (w: Watcher, e: StoreEvent): void => {
      const list = per.get(w);
      if (list === undefined) per.set(w, [e]);
      else list.push(e);
    };
    for (const e of events) {
      const set = this.byKey.get(e.kstr);
      if (set !== undefined) for (const w of set) add(w, e);
      for (const w of this.ranged) if (w.matches(e.kstr)) add(w, e);
    }
    for (const [w, evs] of per) {
      if (w.nextRev > rev) continue; // a future watch (R6.2)
      if (!w.hasRoom) {
        // Slow consumer: stop pushing; it catches up from the store from `rev` on.
        this.setSynced(w, false);
        w.nextRev = rev;
        continue;
      }
      w.nextRev = rev + 1;
      const out = this.toWatchEvents(w, evs, rev);
      if (out.length > 0) {
        w.active = true;
        w.push({ events: out, revision: rev });
      }
    }
  }

  /** Apply filters and prev_kv (R6.6, R6.7). */
  private toWatchEvents(w: Watcher, evs: readonly StoreEvent[], rev: number): WatchEvent[] {
    const out: WatchEvent[] = [];
    for (const e of evs) {
      if (e.type === 'put' ? w.noPut : w.noDelete) continue;
      const ev: WatchEvent = { type: e.type, kv: e.kv };
      if (w.prevKv && !(e.type === 'put' && e.kv.createRevision === e.kv.modRevision)) {
        const prev = this.source.kvAt(e.kstr, rev - 1);
        if (prev !== undefined) ev.prevKv = prev;
      }
      out.push(ev);
    }
    return out;
  }

  private cancelCompacted(w: Watcher): void {
    log.mvcc('watch %d cancelled: needs %d < compact %d', w.id, w.nextRev, this.source.compactRev);
    // etcd's compacted response carries no revision: its header revision is 0.
    w.finish({ events: [], revision: 0, compactRevision: this.source.compactRev, canceled: true });
  }

  /** Catch an unsynced watcher up; a failure (backend error) cancels the watch instead of escaping. */
  private catchUp(w: Watcher): void {
    this.catchUpLoop(w).catch((err: unknown) => {
      log.mvcc('watch %d cancelled: %O', w.id, err);
      w.finish({ events: [], revision: this.source.currentRev, canceled: true, cancelReason: String(err) });
    });
  }

  /** Catch an unsynced watcher up from the backend while its buffer has room. */
  private async catchUpLoop(w: Watcher): Promise<void> {
    if (w.catchingUp) return;
    w.catchingUp = true;
    try {
      while (!w.done && !w.synced && w.hasRoom) {
        if (w.nextRev < this.source.compactRev) {
          this.cancelCompacted(w);
          return;
        }
        const cur = this.source.currentRev;
        if (w.nextRev > cur) {
          this.setSynced(w, true);
          return;
        }
        const start = w.nextRev;
        const epoch = this.epoch;
        const batch: HistoryEvent[] = [];
        let revs = 0;
        let lastRev = 0;
        let next = cur + 1;
        let fromMain = start;
        let fromSub = 0;
        scan: for (;;) {
          const chunk = await this.source.history(fromMain, fromSub, cur, READ_CHUNK);
          for (const e of chunk) {
            if (!w.matches(e.kstr)) continue;
            if (e.main !== lastRev) {
              if (revs === MAX_REVS_PER_BATCH) {
                next = e.main;
                break scan;
              }
              revs++;
              lastRev = e.main;
            }
            batch.push(e);
          }
          if (chunk.length < READ_CHUNK || w.done) break;
          const last = chunk[chunk.length - 1]!;
          fromMain = last.main;
          fromSub = last.sub + 1;
        }
        if (w.done) return;
        // The store was restored during the read: what we read is gone; start over.
        if (epoch !== this.epoch) continue;
        // A compaction during the read may have removed records we needed (R6.8).
        if (start < this.source.compactRev) {
          this.cancelCompacted(w);
          return;
        }
        w.nextRev = next;
        const events: WatchEvent[] = [];
        for (const e of batch) events.push(...this.toWatchEvents(w, [e], e.main));
        if (events.length > 0) {
          w.active = true;
          w.push({ events, revision: cur });
        }
      }
    } finally {
      w.catchingUp = false;
    }
  }

  /** Move every watcher to catching up (after the store's state was replaced). */
  resyncAll(): void {
    this.epoch++;
    for (const w of this.all) {
      if (w.synced) {
        this.setSynced(w, false);
        w.nextRev = Math.min(w.nextRev, this.source.currentRev + 1);
      }
      this.catchUp(w);
    }
  }

  drained(w: Watcher): void {
    if (!w.synced && !w.catchingUp && !w.done) this.catchUp(w);
  }

  removed(w: Watcher): void {
    if (!this.all.delete(w)) return;
    this.setSynced(w, false);
    this.progressWatchers.delete(w);
    if (this.progressWatchers.size === 0 && this.timer !== undefined) {
      this.clock.clearTimer(this.timer);
      this.timer = undefined;
    }
  }

  /**
   * Progress for one watcher (etcd v3.6 progressIfSync): only while it is
   * synced and the store has reached its start revision (a fresh watch with
   * start 0 starts at current + 1, so it gets none before the next write).
   */
  progress(w: Watcher): void {
    const cur = this.source.currentRev;
    if (w.synced && w.startRev <= cur && w.hasRoom) w.push({ events: [], revision: cur });
  }

  private armTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.tick();
      if (this.progressWatchers.size > 0) this.armTimer();
    }, this.progressMs);
  }

  /** Progress notification to synced, idle watchers (R6.9). */
  private tick(): void {
    const cur = this.source.currentRev;
    for (const w of this.progressWatchers) {
      if (w.synced && !w.active && w.startRev <= cur && w.hasRoom) w.push({ events: [], revision: cur });
      w.active = false;
    }
  }

  /** Cancel every watcher (store closing). */
  close(): void {
    for (const w of [...this.all]) w.cancel();
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}
