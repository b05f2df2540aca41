/**
 * The classic-level (LevelDB) backend. Records live under `'r' + revision`
 * (16 big-endian bytes, so LevelDB's order is revision order), meta values
 * under `'m' + name`. Every `write()` becomes one LevelDB batch; writes
 * issued while a batch is in flight are grouped into the next batch (group
 * commit), which keeps each write atomic and the order intact. Until its
 * batch lands, a written record is served from an in-memory overlay, so
 * `get()` (LevelDB `getSync`) always sees every issued write.
 */
import { ClassicLevel } from 'classic-level';
import { strataError } from '../errors.ts';
import { log } from '../util/log.ts';
import type { Backend, BackendRecord, BackendWrite } from './backend.ts';
import { plainView } from './bytes.ts';
import { bytesToRev, revToBytes, type Revision } from './revision.ts';

const REC = new Uint8Array([0x72]); // 'r'
const META = 0x6d; // 'm'
const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

type Op = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

function recKey(main: number, sub: number): Uint8Array {
  return revToBytes(main, sub, REC);
}

function metaKey(name: string): Uint8Array {
  const n = utf8.encode(name);
  const k = new Uint8Array(n.length + 1);
  k[0] = META;
  k.set(n, 1);
  return k;
}

/** LevelDB-backed {@link Backend}. Open with {@link LevelBackend.open}. */
export class LevelBackend implements Backend {
  private readonly db: ClassicLevel<Uint8Array, Uint8Array>;
  private readonly meta = new Map<string, Uint8Array>();
  /** Records written but not yet in LevelDB, by main revision. */
  private readonly overlay = new Map<number, (Uint8Array | undefined)[]>();
  private queued: Op[] = [];
  private queuedRecs: BackendRecord[] = [];
  private waiters: Waiter[] = [];
  private inFlight: Promise<void> | undefined;
  /** Writes issued so far, and writes whose batch has landed. */
  private issued = 0;
  private landed = 0;
  /** The next batch must first delete everything (a clear() was issued). */
  private clearFirst = false;
  private failed: unknown;

  private constructor(db: ClassicLevel<Uint8Array, Uint8Array>) {
    this.db = db;
  }

  /** Open (creating if needed) the database in directory `path`. */
  static async open(path: string): Promise<LevelBackend> {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    const b = new LevelBackend(db);
    for await (const [k, v] of db.iterator({ gte: new Uint8Array([META]), lt: new Uint8Array([META + 1]) })) {
      b.meta.set(utf8d.decode(k.subarray(1)), plainView(v));
    }
    log.mvcc('level backend opened at %s', path);
    return b;
  }

  get(main: number, sub: number): Uint8Array | undefined {
    const pending = this.overlay.get(main)?.[sub];
    if (pending !== undefined) return pending;
    const v = this.db.getSync(recKey(main, sub));
    return v === undefined ? undefined : plainView(v);
  }

  getMeta(name: string): Uint8Array | undefined {
    return this.meta.get(name);
  }

  write(w: BackendWrite): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    if (w.records !== undefined) {
      for (const r of w.records) {
        let slots = this.overlay.get(r.main);
        if (slots === undefined) {
          slots = [];
          this.overlay.set(r.main, slots);
        }
        slots[r.sub] = r.value;
        this.queuedRecs.push(r);
        this.queued.push({ type: 'put', key: recKey(r.main, r.sub), value: r.value });
      }
    }
    if (w.deletes !== undefined) {
      for (const d of w.deletes) {
        const slots = this.overlay.get(d.main);
        if (slots !== undefined) slots[d.sub] = undefined;
        this.queued.push({ type: 'del', key: recKey(d.main, d.sub) });
      }
    }
    if (w.meta !== undefined) {
      for (const [name, value] of w.meta) {
        if (value === undefined) {
          this.meta.delete(name);
          this.queued.push({ type: 'del', key: metaKey(name) });
        } else {
          this.meta.set(name, value);
          this.queued.push({ type: 'put', key: metaKey(name), value });
        }
      }
    }
    this.issued++;
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.inFlight === undefined) this.flush();
    return p;
  }

  /** Write everything queued as one batch; chain the next batch when it lands. */
  private flush(): void {
    const ops = this.queued;
    const recs = this.queuedRecs;
    const waiters = this.waiters;
    const upTo = this.issued;
    this.queued = [];
    this.queuedRecs = [];
    this.waiters = [];
    const clear = this.clearFirst;
    this.clearFirst = false;
    const done = clear ? this.db.clear().then(() => this.db.batch(ops)) : this.db.batch(ops);
    this.inFlight = done.then(
      () => {
        for (const r of recs) this.settled(r);
        this.landed = upTo;
        for (const w of waiters) w.resolve();
        this.afterBatch();
      },
      (err: unknown) => {
        this.failed = strataError('ErrCorrupt', `backend write failed: ${String(err)}`);
        log.mvcc('backend write failed: %O', err);
        for (const w of waiters) w.reject(this.failed);
        this.landed = upTo;
        this.afterBatch();
      },
    );
  }

  /** Drop a landed record from the overlay (unless a later write replaced it). */
  private settled(r: BackendRecord): void {
    const slots = this.overlay.get(r.main);
    if (slots === undefined || slots[r.sub] !== r.value) return;
    slots[r.sub] = undefined;
    if (slots.every((s) => s === undefined)) this.overlay.delete(r.main);
  }

  private afterBatch(): void {
    this.inFlight = undefined;
    if (this.waiters.length > 0) this.flush();
  }

  /** Resolve once every write issued so far has landed (later writes do not delay it). */
  private async drain(): Promise<void> {
    const target = this.issued;
    while (this.landed < target && this.inFlight !== undefined) await this.inFlight;
    if (this.failed !== undefined) throw this.failed;
  }

  async read(from: Revision, toMain: number, limit: number): Promise<BackendRecord[]> {
    await this.drain();
    const out: BackendRecord[] = [];
    if (limit <= 0 || toMain < from.main) return out;
    const upper = Math.min(toMain + 1, Number.MAX_SAFE_INTEGER);
    const entries = await this.db.iterator({ gte: recKey(from.main, from.sub), lt: recKey(upper, 0), limit }).all();
    for (const [k, v] of entries) {
      const rev = bytesToRev(k, 1);
      out.push({ main: rev.main, sub: rev.sub, value: plainView(v) });
    }
    return out;
  }

  /** Takes effect at once for get()/getMeta(); ordered with writes like a write. */
  clear(): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    this.overlay.clear();
    this.meta.clear();
    this.queued = [];
    this.queuedRecs = [];
    this.clearFirst = true;
    this.issued++;
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.inFlight === undefined) this.flush();
    return p;
  }

  /** LevelDB compaction over every record: deleted records stop taking space. */
  async defragment(): Promise<void> {
    await this.drain();
    await this.db.compactRange(recKey(0, 0), recKey(Number.MAX_SAFE_INTEGER, 0));
  }

  async size(): Promise<number> {
    await this.drain();
    return this.db.approximateSize(recKey(0, 0), recKey(Number.MAX_SAFE_INTEGER, 0));
  }

  async close(): Promise<void> {
    try {
      await this.drain();
    } finally {
      await this.db.close();
    }
  }
}
