/**
 * {@link Storage} on LevelDB (classic-level): the durable hard state, log and
 * snapshot metadata of one Raft member in a directory, every record
 * checksummed (layout in `level-records.ts`, verification and torn-tail rules
 * in `level-load.ts`), and the snapshot data in a file under `snap/`
 * (`level-snapfile.ts`).
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
 *
 * Snapshots: the data is written to a new file off the event loop (libuv's
 * thread pool), fsynced and renamed into place; only then is the metadata
 * record naming the file (with its size and CRC-32C) written, together with
 * the deletion of the entries it covers, in a batch. Snapshot jobs run one at
 * a time, in call order, so metadata records commit in call order. Two kinds:
 *
 * - A **compaction snapshot** (a request with only a snapshot, whose index
 *   the stored log reaches with the same term: a member snapshotting entries
 *   it already has) holds nothing up. Later saves only touch entries beyond
 *   its index (the planner strips covered entries), so batches issued after
 *   it may be written before its metadata batch: a crash in between leaves
 *   the old snapshot and a contiguous log. When its file is durable its
 *   metadata joins the next batch not yet being written that follows every
 *   save issued before it.
 * - Any other snapshot (installed from a leader: beyond the log, another
 *   term, or combined with entries or a hard state) is a **barrier**: its
 *   batch, and every batch after it, waits for its file, as later saves were
 *   planned against a log it replaced.
 *
 * A file no metadata record references (a crash mid-write, a superseded
 * snapshot) is removed on open, and superseded files once their successor's
 * metadata is durable.
 */
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { strataError } from '../errors.ts';
import type { Entry, Snapshot } from '../raft/types.ts';
import { log } from '../util/log.ts';
import {
  DEFAULT_SNAPSHOT_CHUNK_SIZE, HARD_STATE_KEY, SNAPSHOT_META_KEY, STORAGE_FORMAT_VERSION, VERSION_KEY,
  chunkKey, encodeEntries, entryKey, hardStateValue, snapshotMetaValue, versionValue,
} from './level-records.ts';
import { loadState } from './level-load.ts';
import type { Db } from './level-load.ts';
import { SNAP_DIR, ensureSnapDir, generationOf, maxGeneration, removeOrphans, snapFileName, writeSnapFile } from './level-snapfile.ts';
import { checkCompact, planSave } from './plan.ts';
import type { LogView, SavePlan } from './plan.ts';
import type { PersistedState, SaveRequest, Storage } from './storage.ts';

/** Options of {@link LevelStorage.open}. */
export interface LevelStorageOptions {
  /**
   * Write with `sync: true` (and fsync snapshot files and their directory) so
   * a save is on disk when it resolves (default true). With false a save
   * survives a process crash but not a power cut.
   */
  readonly sync?: boolean;
  /**
   * Bytes per write (and per checksum step) of a snapshot file, default
   * 1 MiB: the event loop is held for at most one piece's CRC at a time.
   * (Format version 1 stored snapshots as LevelDB records of this size;
   * such directories are still read.)
   */
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
  /** Snapshot files written. */
  snapshotFiles: number;
}

type PutOp = { type: 'put'; key: Buffer; value: Buffer };
/** A snapshot file and its generation (newer snapshots have higher generations). */
type SnapFile = { readonly gen: number; readonly name: string };
type BatchOp = PutOp | { type: 'del'; key: Buffer };

/** Saves written together by one LevelDB batch. */
interface Group {
  ops: BatchOp[];
  /** Position of the hard-state put in `ops` (-1: none); later saves overwrite it in place. */
  hardStatePos: number;
  /**
   * Number of leading ops that are compaction-snapshot ops inserted at the
   * front (they precede every save in the batch; the next one goes after them).
   */
  frontOps: number;
  /** Some save in the group asked for durability (SaveRequest.sync not false). */
  sync: boolean;
  /** 'queued': saves (and compaction metadata) may still join; then 'writing', 'done'. */
  state: 'queued' | 'writing' | 'done';
  /** A barrier snapshot opened this group: no write before its file is durable (and its metadata op filled in). */
  gate: Promise<void> | undefined;
  /** Snapshot files whose metadata this group writes, each with its metadata op. */
  readonly files: { readonly file: SnapFile; readonly op: PutOp }[];
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

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Durable, checksummed Raft storage in a LevelDB directory, snapshot data in files. */
export class LevelStorage implements Storage {
  /** Counters for benchmarks and tests. */
  readonly stats: LevelStorageStats = { saves: 0, syncs: 0, writes: 0, entriesSaved: 0, snapshotFiles: 0 };

  private readonly mirror: LogMirror;
  /** Batches in write order; the first may be in flight. */
  private readonly queue: Group[] = [];
  private closed = false;
  private closing: Promise<void> | undefined = undefined;
  private failure: Error | undefined = undefined;
  /** A deferred hard-state-only `sync: false` record, written with the next batch (see the module doc). */
  private deferredHs: BatchOp | undefined = undefined;
  /** What open() read, served by the first load() if nothing was saved since. */
  private initial: PersistedState | undefined;
  /** Chunk records of a format version 1 snapshot still stored (deleted with the next snapshot). */
  private legacyChunks: number;
  /** The version record still says 1 (raised with the next snapshot). */
  private legacyVersion: boolean;
  /** The snapshot file the durable metadata references. */
  private committedFile: SnapFile | undefined;
  private nextGen: number;
  /** Settles (never rejects) when the last snapshot job's file work is over (jobs run one at a time). */
  private snapChain: Promise<void> = Promise.resolve();
  /** Snapshot jobs whose file work is not over. */
  private pendingSnaps = 0;
  /** Deletions of superseded snapshot files in progress (close() waits for them). */
  private readonly unlinks = new Set<Promise<void>>();

  private constructor(
    private readonly db: Db,
    /** The directory this storage lives in. */
    readonly dataDir: string,
    private readonly snapDir: string,
    private readonly sync: boolean,
    private readonly chunkSize: number,
    state: PersistedState,
    legacy: { chunks: number; version: boolean },
    committedFile: SnapFile | undefined,
    nextGen: number,
  ) {
    const snap = state.snapshot?.metadata;
    this.mirror = new LogMirror(snap?.index ?? 0, snap?.term ?? 0, state.entries.map((e) => e.term));
    this.legacyChunks = legacy.chunks;
    this.legacyVersion = legacy.version;
    this.committedFile = committedFile;
    this.nextGen = nextGen;
    this.initial = state;
  }

  /**
   * Open (creating if needed) the storage in `dataDir`, verify every record
   * and the snapshot file, truncate a torn tail (see `level-load.ts`) and
   * remove snapshot files nothing references. Rejects with `ErrLocked` when
   * another process (or another open instance) holds the directory,
   * `ErrFormatVersion` for an unknown format version, `ErrCorrupt` naming
   * the record or file for damage beyond a torn tail.
   */
  static async open(dataDir: string, options: LevelStorageOptions = {}): Promise<LevelStorage> {
    const chunkSize = options.snapshotChunkSize ?? DEFAULT_SNAPSHOT_CHUNK_SIZE;
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
      throw strataError('ErrInvalidArgument', `snapshotChunkSize must be a positive integer, got ${chunkSize}`);
    }
    const sync = options.sync ?? true;
    await mkdir(dataDir, { recursive: true });
    const db: Db = new ClassicLevel<Buffer, Buffer>(dataDir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    try {
      await db.open();
    } catch (err) {
      throw mapOpenError(err, dataDir);
    }
    try {
      // Only with LevelDB's lock held: the snap/ directory belongs to the lock holder.
      const snapDir = join(dataDir, SNAP_DIR);
      const loaded = await loadState(db, snapDir, true);
      await ensureSnapDir(dataDir, sync);
      if (loaded.fresh) await db.put(VERSION_KEY, versionValue(), { sync: true });
      if (loaded.tornTail.length > 0) {
        log.storage('%s: truncating torn tail of %d entries', dataDir, loaded.tornTail.length);
        await db.batch(loaded.tornTail.map((key) => ({ type: 'del' as const, key })), { sync: true });
      }
      const file = loaded.snapshotFile;
      const removed = await removeOrphans(snapDir, file);
      if (removed.length > 0) log.storage('%s: removed unreferenced snapshot files %o', dataDir, removed);
      const committed = file === undefined ? undefined : { gen: generationOf(file), name: file };
      const nextGen = (await maxGeneration(snapDir)) + 1;
      return new LevelStorage(
        db, dataDir, snapDir, sync, chunkSize, loaded.state,
        { chunks: loaded.snapshotChunks, version: loaded.version < STORAGE_FORMAT_VERSION }, committed, nextGen,
      );
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
    return (await loadState(this.db, this.snapDir, false)).state;
  }

  /**
   * See {@link Storage.save}. Encodes now; resolves once the batch holding it
   * is durable (with a snapshot: once its file is durable too). The
   * snapshot's data must not be modified until the save resolves: the file
   * is written from it asynchronously.
   */
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
    let metaOp: PutOp | undefined;
    let file: SnapFile | undefined;
    try {
      const snap = plan.snapshot;
      if (snap !== undefined) {
        if (!(snap.data instanceof Uint8Array)) throw new Error('snapshot data is not a Uint8Array');
        this.snapshotOps(ops, snap, plan.dropAll);
        file = this.newFile(snap);
        // Checks that the metadata encodes; the value is replaced once the file is durable (with its CRC).
        metaOp = { type: 'put', key: SNAPSHOT_META_KEY, value: this.metaValue(snap, file.name, 0) };
        ops.push(metaOp);
      }
      if (plan.entries.length > 0) {
        const storedLast = plan.snapshot !== undefined && plan.dropAll ? plan.snapshotIndex : this.mirror.lastIndex;
        this.entryOps(ops, plan.entries, storedLast, plan.lastIndex);
      }
      if (plan.hardState !== undefined) hsOp = { type: 'put', key: HARD_STATE_KEY, value: hardStateValue(plan.hardState) };
    } catch (err) {
      return Promise.reject(strataError('ErrInvalidArgument', `cannot encode the request: ${(err as Error).message}`));
    }
    const compaction = plan.snapshot !== undefined && !plan.dropAll && plan.entries.length === 0 && plan.hardState === undefined;
    this.applyToMirror(plan);
    this.initial = undefined;
    this.stats.saves++;
    this.stats.entriesSaved += plan.entries.length;
    if (plan.snapshot !== undefined && metaOp !== undefined && file !== undefined) {
      if (compaction) return this.compactionSnapshot(plan.snapshot, file, ops, metaOp);
      return this.barrierSnapshot(plan.snapshot, file, ops, metaOp, hsOp);
    }
    if (request.sync === false && hsOp !== undefined && ops.length === 0) {
      // Commit-index-only: no write of its own (module doc).
      const q = this.joinable();
      if (q === undefined) this.deferredHs = hsOp;
      else putHardState(q, hsOp);
      return Promise.resolve();
    }
    const g = this.group();
    if (request.sync !== false || plan.entries.length > 0) g.sync = true;
    for (let i = 0; i < ops.length; i++) g.ops.push(ops[i] as BatchOp);
    if (hsOp !== undefined) putHardState(g, hsOp);
    return g.promise;
  }

  /**
   * See {@link Storage.compact}. A saved snapshot already drops the entries
   * it covers, so this only validates `index` (beyond the snapshot index ⇒
   * `ErrInvalidArgument`) and resolves after earlier saves, snapshot files
   * included.
   */
  compact(index: number): Promise<void> {
    const bad = this.unusable();
    if (bad !== undefined) return Promise.reject(bad);
    try {
      checkCompact(this.mirror, index);
    } catch (err) {
      return Promise.reject(err);
    }
    const last = this.queue.at(-1)?.promise ?? Promise.resolve();
    if (this.pendingSnaps === 0) return last;
    // Snapshot files still being written: their metadata joins a batch later.
    return this.snapChain.then(() => {
      const bad = this.failure === undefined ? undefined : strataError('ErrStopped', `storage failed: ${this.failure.message}`);
      if (bad !== undefined) throw bad;
      return this.queue.at(-1)?.promise;
    });
  }

  /** Wait for pending saves (snapshot files included), then close the database. Idempotent; other calls afterwards reject with `ErrStopped`. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closed = true;
      this.closing = (async () => {
        await this.drain();
        while (this.unlinks.size > 0) await Promise.all([...this.unlinks]);
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

  /** The last queued batch if saves may still join it. */
  private joinable(): Group | undefined {
    const g = this.queue.at(-1);
    return g !== undefined && g.state === 'queued' ? g : undefined;
  }

  /** The batch accepting saves now (a new one when none is queued, or `fresh`); schedules writing. */
  private group(fresh = false): Group {
    const open = fresh ? undefined : this.joinable();
    if (open !== undefined) return open;
    const d = deferred();
    // A batch may carry only compaction-snapshot metadata, whose promise only
    // that save's own chain awaits: a rejection here must never be unhandled.
    d.promise.catch(() => undefined);
    const g: Group = { ops: [], hardStatePos: -1, frontOps: 0, sync: false, state: 'queued', gate: undefined, files: [], ...d };
    const hs = this.deferredHs;
    if (hs !== undefined) {
      this.deferredHs = undefined;
      putHardState(g, hs);
    }
    this.queue.push(g);
    // Saves issued in the same turn join this batch; a batch created while a
    // write is in flight is written when that write completes.
    if (this.queue.length === 1) queueMicrotask(() => this.flush());
    return g;
  }

  /**
   * A compaction snapshot (module doc): write the file in the background,
   * then put its metadata and covered-entry deletions (`ops`, computed now)
   * into the first batch not yet being written that follows every save
   * issued before it.
   */
  private compactionSnapshot(snap: Snapshot, file: SnapFile, ops: BatchOp[], metaOp: PutOp): Promise<void> {
    const after = this.queue.at(-1); // holds the latest save issued before this one (if still queued)
    const done = deferred();
    this.snapJob(snap, file, (crc) => {
      metaOp.value = this.metaValue(snap, file.name, crc);
      let g: Group | undefined;
      let front = false;
      if (after !== undefined && after.state === 'queued') g = after;
      else {
        // Every queued batch holds only later saves: go before them (before any
        // later barrier's metadata), after earlier compaction snapshots put there.
        // (A batch created here holds no save yet, only perhaps a deferred hard state.)
        g = this.queue.find((q) => q.state === 'queued') ?? this.group();
        front = true;
      }
      if (front) {
        // concat, not splice(...ops): a snapshot may cover 100,000 entries (too many arguments).
        g.ops = g.ops.slice(0, g.frontOps).concat(ops, g.ops.slice(g.frontOps));
        if (g.hardStatePos >= g.frontOps) g.hardStatePos += ops.length;
        g.frontOps += ops.length;
      } else {
        for (let i = 0; i < ops.length; i++) g.ops.push(ops[i] as BatchOp);
      }
      g.sync = true;
      g.files.push({ file, op: metaOp });
      g.promise.then(done.resolve, done.reject);
    }, (err) => {
      this.fail(err);
      done.reject(err);
    });
    return done.promise;
  }

  /**
   * A barrier snapshot (module doc): a new batch, written only once the file
   * is durable; later saves join it or batches behind it.
   */
  private barrierSnapshot(snap: Snapshot, file: SnapFile, ops: BatchOp[], metaOp: PutOp, hsOp: BatchOp | undefined): Promise<void> {
    const g = this.group(true);
    g.sync = true;
    for (let i = 0; i < ops.length; i++) g.ops.push(ops[i] as BatchOp);
    if (hsOp !== undefined) putHardState(g, hsOp);
    g.files.push({ file, op: metaOp });
    const gate = deferred();
    gate.promise.catch(() => undefined);
    g.gate = gate.promise;
    this.snapJob(snap, file, (crc) => {
      metaOp.value = this.metaValue(snap, file.name, crc);
      gate.resolve();
    }, (err) => {
      this.fail(err, g);
      gate.reject(err);
    });
    return g.promise;
  }

  private newFile(snap: Snapshot): SnapFile {
    const gen = this.nextGen++;
    return { gen, name: snapFileName(gen, snap.metadata.term, snap.metadata.index) };
  }

  private metaValue(snap: Snapshot, file: string, crc: number): Buffer {
    const m = snap.metadata;
    return snapshotMetaValue({ index: m.index, term: m.term, confState: m.confState, size: snap.data.length, chunks: 0, file, crc });
  }

  /**
   * Run a snapshot job after the previous one (jobs run one at a time, in
   * call order): write the file, then call `written` synchronously, before
   * the next job starts. On failure (or if the storage failed meanwhile)
   * `failed` is called instead.
   */
  private snapJob(snap: Snapshot, file: SnapFile, written: (crc: number) => void, failed: (err: unknown) => void): void {
    this.pendingSnaps++;
    const stopped = (): Error | undefined =>
      this.failure === undefined ? undefined : strataError('ErrStopped', `storage failed: ${this.failure.message}`);
    this.snapChain = this.snapChain.then(async () => {
      let bad = stopped();
      if (bad !== undefined) throw bad;
      const crc = await writeSnapFile(this.snapDir, file.name, snap.data, this.chunkSize, this.sync);
      this.stats.snapshotFiles++;
      bad = stopped();
      if (bad !== undefined) throw bad;
      written(crc);
    }).catch(failed).finally(() => {
      this.pendingSnaps--;
    });
  }

  private flush(): void {
    if (this.failure !== undefined) return;
    const g = this.queue[0];
    if (g === undefined || g.state !== 'queued') return;
    const gate = g.gate;
    if (gate !== undefined) {
      // Stay 'queued' while waiting: earlier compaction metadata may still join.
      gate.then(() => {
        if (g.gate === gate) {
          g.gate = undefined;
          this.flush();
        }
      }, (err: unknown) => this.fail(err, g));
      return;
    }
    g.state = 'writing';
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
        g.state = 'done';
        const at = this.queue.indexOf(g);
        if (at >= 0) this.queue.splice(at, 1);
        this.committed(g);
        g.resolve();
        if (this.queue.length > 0) this.flush();
      },
      (err: unknown) => this.fail(err, g),
    );
  }

  /** After `g` is durable: its newest snapshot file is the referenced one; delete the ones it superseded. */
  private committed(g: Group): void {
    if (g.files.length === 0) return;
    // The metadata written last in the batch is what the directory now references
    // (by construction the newest snapshot; found from the ops so deletion follows the disk).
    let newest: SnapFile | undefined;
    for (let i = g.ops.length - 1; i >= 0 && newest === undefined; i--) {
      const op = g.ops[i];
      if (op?.type === 'put' && op.key === SNAPSHOT_META_KEY) newest = g.files.find((f) => f.op === op)?.file;
    }
    if (newest === undefined) return;
    const stale = g.files.map((f) => f.file).filter((f) => f !== newest);
    if (this.committedFile !== undefined) stale.push(this.committedFile);
    this.committedFile = newest;
    for (const f of stale) {
      const p: Promise<void> = unlink(join(this.snapDir, f.name)).catch((err: unknown) => {
        log.storage('%s: cannot remove superseded snapshot file %s: %s', this.dataDir, f.name, (err as Error).message);
      }).finally(() => this.unlinks.delete(p));
      this.unlinks.add(p);
    }
  }

  /**
   * A write (or snapshot file) failed: the in-memory mirror is ahead of the
   * disk, refuse further work. `failed` (the batch that failed, if any) is
   * rejected with `err`, every other queued batch with `ErrStopped`; a batch
   * in flight finishes on its own.
   */
  private fail(err: unknown, failed?: Group): void {
    if (this.failure === undefined) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      log.storage('%s: write failed: %s', this.dataDir, this.failure.message);
    }
    const stopped = strataError('ErrStopped', `storage failed: ${this.failure.message}`);
    for (const g of this.queue.splice(0)) {
      if (g.state === 'writing' && g !== failed) {
        this.queue.push(g);
        continue;
      }
      g.state = 'done';
      g.reject(g === failed ? err : stopped);
    }
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

  /** Resolve once nothing is queued, in flight or waiting for a snapshot file. */
  private async drain(): Promise<void> {
    for (;;) {
      if (this.deferredHs !== undefined && this.failure === undefined) this.group();
      const g = this.queue.at(-1);
      if (g !== undefined) await g.promise.catch(() => undefined);
      else if (this.pendingSnaps > 0) await this.snapChain;
      else return;
    }
  }

  /**
   * Ops installing `snap`, except its metadata record: drop covered (or all)
   * entries, delete format version 1 chunk records and raise the version.
   */
  private snapshotOps(ops: BatchOp[], snap: Snapshot, dropAll: boolean): void {
    const m = this.mirror;
    const idx = snap.metadata.index;
    const upto = dropAll ? m.lastIndex : Math.min(idx, m.lastIndex);
    for (let i = m.snapshotIndex + 1; i <= upto; i++) ops.push({ type: 'del', key: entryKey(i) });
    for (let c = 0; c < this.legacyChunks; c++) ops.push({ type: 'del', key: chunkKey(c) });
    if (this.legacyVersion) ops.push({ type: 'put', key: VERSION_KEY, value: versionValue() });
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
      this.legacyChunks = 0;
      this.legacyVersion = false;
    }
    const entries = plan.entries;
    if (entries.length > 0) {
      const terms = m.terms;
      terms.length = (entries[0] as Entry).index - m.snapshotIndex - 1;
      for (let i = 0; i < entries.length; i++) terms.push((entries[i] as Entry).term);
    }
  }
}

/** Put (or overwrite) the hard-state record of `g`. */
function putHardState(g: Group, hsOp: BatchOp): void {
  if (g.hardStatePos >= 0) g.ops[g.hardStatePos] = hsOp;
  else {
    g.hardStatePos = g.ops.length;
    g.ops.push(hsOp);
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
