/**
 * {@link Storage} on LevelDB (classic-level): the durable hard state, log and
 * snapshot of one Raft member in a directory, every record checksummed
 * (layout in `level-records.ts`, verification and torn-tail rules in
 * `level-load.ts`).
 *
 * Durability and group commit: each save() is validated and encoded at call
 * time (in call order) into the pending batch; the batch is written with one
 * `sync: true` LevelDB write, atomically. While a write is in flight, further
 * saves accumulate in the next batch, written as soon as the current one is
 * durable — so one fsync serves every save that arrived meanwhile.
 *
 * A hard-state-only save with `sync: false` (a Ready that only moved the
 * commit index) costs no write of its own: it resolves at once and its record
 * joins the next batch (or the one already queued). A crash before that batch
 * loses it, so a reopened member sees an older commit index — allowed: the
 * commit index is not needed for safety and the leader re-sends it.
 */
import { mkdir } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import { strataError } from '../errors.ts';
import type { Entry, Snapshot } from '../raft/types.ts';
import { log } from '../util/log.ts';
import {
  DEFAULT_SNAPSHOT_CHUNK_SIZE, HARD_STATE_KEY, SNAPSHOT_META_KEY, VERSION_KEY,
  chunkKey, encodeEntries, entryKey, hardStateValue, seal, snapshotMetaValue, versionValue,
} from './level-records.ts';
import { loadState } from './level-load.ts';
import type { Db } from './level-load.ts';
import { checkCompact, planSave } from './plan.ts';
import type { LogView, SavePlan } from './plan.ts';
import type { PersistedState, SaveRequest, Storage } from './storage.ts';

/** Options of {@link LevelStorage.open}. */
export interface LevelStorageOptions {
  /**
   * Write with `sync: true` so a save is on disk when it resolves (default
   * true). With false a save survives a process crash but not a power cut.
   */
  readonly sync?: boolean;
  /** Bytes per snapshot data record (default 1 MiB). */
  readonly snapshotChunkSize?: number;
}

/** Counters of a {@link LevelStorage}. */
export interface LevelStorageStats {
  /** save() calls accepted. */
  saves: number;
  /** LevelDB batch writes issued with `sync: true` (fsyncs). */
  syncs: number;
  /** LevelDB batch writes issued (synced or not). */
  writes: number;
  /** Entries appended by accepted saves. */
  entriesSaved: number;
}

type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/** Saves written together by one LevelDB batch. */
interface Group {
  readonly ops: BatchOp[];
  /** Position of the hard-state put in `ops` (-1: none); later saves overwrite it in place. */
  hardStatePos: number;
  /** Some save in the group asked for durability (SaveRequest.sync not false). */
  sync: boolean;
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** What is stored, as far as validating saves needs: snapshot index/term and entry terms. */
class LogMirror implements LogView {
  constructor(
    public snapshotIndex: number,
    public snapshotTerm: number,
    /** terms[i] is the term of entry snapshotIndex + 1 + i. */
    public terms: number[],
  ) {}

  get lastIndex(): number {
    return this.snapshotIndex + this.terms.length;
  }

  termAt(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    return this.terms[index - this.snapshotIndex - 1];
  }
}

/** Durable, checksummed Raft storage in a LevelDB directory. */
export class LevelStorage implements Storage {
  /** Counters for benchmarks and tests. */
  readonly stats: LevelStorageStats = { saves: 0, syncs: 0, writes: 0, entriesSaved: 0 };

  private readonly mirror: LogMirror;
  private snapshotChunks: number;
  private next: Group | undefined = undefined;
  private writing: Group | undefined = undefined;
  private closed = false;
  private closing: Promise<void> | undefined = undefined;
  private failure: Error | undefined = undefined;
  /** A deferred hard-state-only `sync: false` record, written with the next batch (see the module doc). */
  private deferredHs: BatchOp | undefined = undefined;
  /** What open() read, served by the first load() if nothing was saved since. */
  private initial: PersistedState | undefined;

  private constructor(
    private readonly db: Db,
    /** The directory this storage lives in. */
    readonly dataDir: string,
    private readonly sync: boolean,
    private readonly chunkSize: number,
    state: PersistedState,
    snapshotChunks: number,
  ) {
    const snap = state.snapshot?.metadata;
    this.mirror = new LogMirror(snap?.index ?? 0, snap?.term ?? 0, state.entries.map((e) => e.term));
    this.snapshotChunks = snapshotChunks;
    this.initial = state;
  }

  /**
   * Open (creating if needed) the storage in `dataDir`, verify every record
   * and truncate a torn tail (see `level-load.ts`). Rejects with `ErrLocked`
   * when another process (or another open instance) holds the directory,
   * `ErrFormatVersion` for an unknown format version, `ErrCorrupt` naming
   * the record for damage beyond a torn tail.
   */
  static async open(dataDir: string, options: LevelStorageOptions = {}): Promise<LevelStorage> {
    const chunkSize = options.snapshotChunkSize ?? DEFAULT_SNAPSHOT_CHUNK_SIZE;
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
      throw strataError('ErrInvalidArgument', `snapshotChunkSize must be a positive integer, got ${chunkSize}`);
    }
    await mkdir(dataDir, { recursive: true });
    const db: Db = new ClassicLevel<Buffer, Buffer>(dataDir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    try {
      await db.open();
    } catch (err) {
      throw mapOpenError(err, dataDir);
    }
    try {
      const loaded = await loadState(db, true);
      if (loaded.fresh) await db.put(VERSION_KEY, versionValue(), { sync: true });
      if (loaded.tornTail.length > 0) {
        log.storage('%s: truncating torn tail of %d entries', dataDir, loaded.tornTail.length);
        await db.batch(loaded.tornTail.map((key) => ({ type: 'del' as const, key })), { sync: true });
      }
      return new LevelStorage(db, dataDir, options.sync ?? true, chunkSize, loaded.state, loaded.snapshotChunks);
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Everything saved, verified. The first call after open returns what open
   * read; later calls wait for pending saves and read the directory again,
   * where any damage is `ErrCorrupt`.
   */
  async load(): Promise<PersistedState> {
    this.check();
    const initial = this.initial;
    if (initial !== undefined) {
      this.initial = undefined;
      return initial;
    }
    await this.drain();
    this.check();
    return (await loadState(this.db, false)).state;
  }

  /** See {@link Storage.save}. Encodes now; resolves once the batch holding it is durable. */
  save(request: SaveRequest): Promise<void> {
    const bad = this.unusable();
    if (bad !== undefined) return Promise.reject(bad);
    let plan: SavePlan;
    try {
      plan = planSave(this.mirror, request);
    } catch (err) {
      return Promise.reject(err);
    }
    // Encode everything before changing anything, so a request that fails to
    // encode leaves the storage as it was.
    const ops: BatchOp[] = [];
    let hsOp: BatchOp | undefined;
    try {
      if (plan.snapshot !== undefined) this.snapshotOps(ops, plan.snapshot, plan.dropAll);
      if (plan.entries.length > 0) {
        const storedLast = plan.snapshot !== undefined && plan.dropAll ? plan.snapshotIndex : this.mirror.lastIndex;
        this.entryOps(ops, plan.entries, storedLast, plan.lastIndex);
      }
      if (plan.hardState !== undefined) hsOp = { type: 'put', key: HARD_STATE_KEY, value: hardStateValue(plan.hardState) };
    } catch (err) {
      return Promise.reject(strataError('ErrInvalidArgument', `cannot encode the request: ${(err as Error).message}`));
    }
    this.applyToMirror(plan);
    this.initial = undefined;
    if (request.sync === false && hsOp !== undefined && ops.length === 0) {
      // Commit-index-only: no write of its own (module doc).
      this.stats.saves++;
      const q = this.next;
      if (q === undefined) this.deferredHs = hsOp;
      else if (q.hardStatePos >= 0) q.ops[q.hardStatePos] = hsOp;
      else {
        q.hardStatePos = q.ops.length;
        q.ops.push(hsOp);
      }
      return Promise.resolve();
    }
    const g = this.group();
    if (request.sync !== false || plan.entries.length > 0 || plan.snapshot !== undefined) g.sync = true;
    for (let i = 0; i < ops.length; i++) g.ops.push(ops[i] as BatchOp);
    if (hsOp !== undefined) {
      if (g.hardStatePos >= 0) g.ops[g.hardStatePos] = hsOp;
      else {
        g.hardStatePos = g.ops.length;
        g.ops.push(hsOp);
      }
    }
    this.stats.saves++;
    this.stats.entriesSaved += plan.entries.length;
    return g.promise;
  }

  /**
   * See {@link Storage.compact}. A saved snapshot already drops the entries
   * it covers, so this only validates `index` (beyond the snapshot index ⇒
   * `ErrInvalidArgument`) and resolves after earlier saves.
   */
  compact(index: number): Promise<void> {
    const bad = this.unusable();
    if (bad !== undefined) return Promise.reject(bad);
    try {
      checkCompact(this.mirror, index);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.next?.promise ?? this.writing?.promise ?? Promise.resolve();
  }

  /** Wait for pending saves, then close the database. Idempotent; other calls afterwards reject with `ErrStopped`. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closed = true;
      this.closing = (async () => {
        await this.drain();
        await this.db.close();
      })();
    }
    return this.closing;
  }

  private check(): void {
    const bad = this.unusable();
    if (bad !== undefined) throw bad;
  }

  private unusable(): Error | undefined {
    if (this.closed) return strataError('ErrStopped', 'storage is closed');
    if (this.failure !== undefined) return strataError('ErrStopped', `storage failed: ${this.failure.message}`);
    return undefined;
  }

  /** The batch accepting saves now; schedules its write if none is in flight. */
  private group(): Group {
    if (this.next !== undefined) return this.next;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const g: Group = { ops: [], hardStatePos: -1, sync: false, promise, resolve, reject };
    const hs = this.deferredHs;
    if (hs !== undefined) {
      this.deferredHs = undefined;
      g.hardStatePos = 0;
      g.ops.push(hs);
    }
    this.next = g;
    // Saves issued in the same turn join this batch; a batch created while a
    // write is in flight is written when that write completes.
    if (this.writing === undefined) queueMicrotask(() => this.flush());
    return g;
  }

  private flush(): void {
    const g = this.next;
    if (g === undefined || this.writing !== undefined) return;
    this.next = undefined;
    this.writing = g;
    // A synced LevelDB write also makes every earlier unsynced write durable
    // (they precede it in the same log), which is what SaveRequest.sync=false relies on.
    const sync = this.sync && g.sync;
    let write: Promise<void>;
    try {
      write = g.ops.length === 0 ? Promise.resolve() : this.write(g.ops, sync);
    } catch (err) {
      write = Promise.reject(err); // e.g. the database went away under us
    }
    write.then(
      () => {
        if (g.ops.length > 0) {
          this.stats.writes++;
          if (sync) this.stats.syncs++;
        }
        this.writing = undefined;
        g.resolve();
        if (this.next !== undefined) this.flush();
      },
      (err: unknown) => {
        // The in-memory mirror is now ahead of the disk: refuse further work.
        this.failure = err instanceof Error ? err : new Error(String(err));
        log.storage('%s: write failed: %s', this.dataDir, this.failure.message);
        this.writing = undefined;
        g.reject(err);
        const n = this.next;
        this.next = undefined;
        n?.reject(strataError('ErrStopped', `storage failed: ${this.failure.message}`));
      },
    );
  }

  /**
   * One atomic LevelDB write. A chained batch, not `db.batch(array)`: the
   * array form re-validates and copies every operation in JS and costs
   * several times more CPU per entry (measured in benchmarks/storage.bench.ts).
   */
  private write(ops: readonly BatchOp[], sync: boolean): Promise<void> {
    const batch = this.db.batch();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as BatchOp;
      if (op.type === 'put') batch.put(op.key, op.value);
      else batch.del(op.key);
    }
    return batch.write({ sync });
  }

  /** Resolve once nothing is queued or in flight. */
  private async drain(): Promise<void> {
    if (this.deferredHs !== undefined && this.failure === undefined) this.group();
    for (;;) {
      const g = this.next ?? this.writing;
      if (g === undefined) return;
      await g.promise.catch(() => undefined);
    }
  }

  /** Ops installing `snap`: drop covered (or all) entries, write chunks and metadata, delete stale chunks. */
  private snapshotOps(ops: BatchOp[], snap: Snapshot, dropAll: boolean): void {
    const m = this.mirror;
    const idx = snap.metadata.index;
    const upto = dropAll ? m.lastIndex : Math.min(idx, m.lastIndex);
    for (let i = m.snapshotIndex + 1; i <= upto; i++) ops.push({ type: 'del', key: entryKey(i) });
    const data = snap.data;
    const chunks = Math.ceil(data.length / this.chunkSize);
    for (let c = 0; c < chunks; c++) {
      const key = chunkKey(c);
      ops.push({ type: 'put', key, value: seal(key, data.subarray(c * this.chunkSize, (c + 1) * this.chunkSize)) });
    }
    for (let c = chunks; c < this.snapshotChunks; c++) ops.push({ type: 'del', key: chunkKey(c) });
    const meta = { index: idx, term: snap.metadata.term, confState: snap.metadata.confState, size: data.length, chunks };
    ops.push({ type: 'put', key: SNAPSHOT_META_KEY, value: snapshotMetaValue(meta) });
  }

  /**
   * Ops appending `entries` to a log whose last index is `storedLast`
   * (after any snapshot in the same request). Conflict truncation: the
   * stored suffix beyond the new last index is deleted in the same batch;
   * indexes up to it are overwritten by the puts.
   */
  private entryOps(ops: BatchOp[], entries: readonly Entry[], storedLast: number, newLast: number): void {
    const { keys, values } = encodeEntries(entries);
    for (let i = newLast + 1; i <= storedLast; i++) ops.push({ type: 'del', key: entryKey(i) });
    for (let i = 0; i < keys.length; i++) ops.push({ type: 'put', key: keys[i] as Buffer, value: values[i] as Buffer });
  }

  /** Record the effect of an accepted plan in the in-memory mirror. */
  private applyToMirror(plan: SavePlan): void {
    const m = this.mirror;
    const snap = plan.snapshot;
    if (snap !== undefined) {
      const idx = snap.metadata.index;
      m.terms = plan.dropAll ? [] : m.terms.slice(idx - m.snapshotIndex);
      m.snapshotIndex = idx;
      m.snapshotTerm = snap.metadata.term;
      this.snapshotChunks = Math.ceil(snap.data.length / this.chunkSize);
    }
    const entries = plan.entries;
    if (entries.length > 0) {
      const terms = m.terms;
      terms.length = (entries[0] as Entry).index - m.snapshotIndex - 1;
      for (let i = 0; i < entries.length; i++) terms.push((entries[i] as Entry).term);
    }
  }
}

function mapOpenError(err: unknown, dataDir: string): Error {
  const e = err as { code?: unknown; cause?: { code?: unknown; message?: unknown } } | null;
  const cause = e?.cause;
  if (cause?.code === 'LEVEL_LOCKED') {
    return strataError('ErrLocked', `${dataDir} is in use by another process or instance (LevelDB lock held): ${String(cause.message)}`, { dataDir });
  }
  if (cause?.code === 'LEVEL_CORRUPTION') {
    return strataError('ErrCorrupt', `${dataDir}: LevelDB reports corruption: ${String(cause.message)}`, { dataDir });
  }
  return err instanceof Error ? err : new Error(String(err));
}
