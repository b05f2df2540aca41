/**
 * MVCCStore: etcd's multi-version key-value store (sections 1–6, 9.9).
 *
 * State: an in-memory key index (rebuilt from the backend on open) over
 * records stored by revision in a {@link Backend}. Every write is applied
 * to memory synchronously when called, in call order, and lands in the
 * backend as one atomic batch (a Txn's changes share one batch and one
 * revision); its promise resolves once the batch is written. Errors are
 * thrown before anything changes. Everything is deterministic: the same
 * calls in the same order give the same revisions, results and hashes.
 */
import { decode, encode } from '../codec/index.ts';
import { strataError } from '../errors.ts';
import { RealClock, type Clock } from '../util/clock.ts';
import { log } from '../util/log.ts';
import { MemoryBackend, type Backend, type BackendRecord, type BackendWrite } from './backend.ts';
import { bytesToStr, strToBytes, toBytes } from './bytes.ts';
import { hashAll, hashKV, keepAt } from './hash.ts';
import type { IndexEntry } from './key-index.ts';
import { LevelBackend } from './level-backend.ts';
import { executeRange } from './range.ts';
import { decodeRecord } from './record.ts';
import type { NDelete, NPut } from './request.ts';
import { RevSet } from './rev-set.ts';
import { checkRequestSize } from './size.ts';
import { collect, readSnapshot, SNAPSHOT_CHUNK, takeSnapshot, type SnapshotInput, type SnapshotStream } from './snapshot.ts';
import { physicalCompact } from './compaction.ts';
import type { KVOutcome, KVRequest, KVResponse } from './apply.ts';
import { TreeIndex } from './tree-index.ts';
import { checkRangeRev, executeTxn, WriteTxn, type TxnContext } from './txn.ts';
import type {
  CompactOptions,
  CompactResult,
  DeleteOptions,
  DeleteRangeRequest,
  DeleteResult,
  HashKVResult,
  KeyValue,
  MVCCStoreOptions,
  PutOptions,
  PutRequest,
  PutResult,
  RangeOptions,
  RangeRequest,
  RangeResult,
  TxnRequest,
  TxnResult,
  WatchOptions,
} from './types.ts';
import {
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_MAX_TXN_OPS,
  isReadOnlyTxn,
  normalizeDelete,
  normalizePut,
  normalizeRange,
  resolveSpan,
  validateTxn,
} from './validate.ts';
import { WatchHub, type HistoryEvent, type WatchSource } from './watch-hub.ts';
import type { Watcher } from './watcher.ts';

const META_SCHEDULED = 'scheduledCompactRev';
const META_FINISHED = 'finishedCompactRev';
const META_APPLIED = 'appliedIndex';
const REBUILD_BATCH = 10000;
/** Cache keys are main * CACHE_SUBS + sub (records with larger subs are not cached). */
const CACHE_SUBS = 4096;
const RESOLVED: Promise<void> = Promise.resolve();

function numMeta(b: Uint8Array | undefined, dflt = 0): number {
  return b === undefined ? dflt : decode<number>(b);
}

/** Open a store: in memory without `path`, on classic-level in directory `path` (reopening restores everything). */
export async function openMVCCStore(options: MVCCStoreOptions = {}): Promise<MVCCStore> {
  const backend: Backend = options.path === undefined ? new MemoryBackend() : await LevelBackend.open(options.path);
  const store = new MVCCStore(backend, options);
  await store.init();
  return store;
}

/** etcd's MVCC store. Create with {@link openMVCCStore}. */
export class MVCCStore implements TxnContext, WatchSource {
  /** @internal */
  index = new TreeIndex();
  private curRev = 1;
  /** etcd's compactMainRev: -1 until the first compaction (so, as in etcd, Compact(0) succeeds once). */
  private compRev = -1;
  private readonly backend: Backend;
  private readonly hub: WatchHub;
  private readonly leaseExistsHook: ((id: number) => boolean) | undefined;
  private readonly maxTxnOps: number;
  private readonly maxRequestBytes: number;
  private readonly compactionBatch: number;
  private readonly compactionPauseMs: number;
  private readonly clock: Clock;
  /** Callers waiting on the background chain (see enqueue). */
  private urgent = 0;
  private readonly leaseOfKey = new Map<string, number>();
  private readonly keysOfLease = new Map<number, Set<string>>();
  /** Physical compactions, hashes and snapshots run one after another on this chain. */
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private failed: unknown;
  /** Bumped by restore(): background work of the replaced state stops. */
  private epoch = 0;
  /** Decoded records by main * CACHE_SUBS + sub (young and old generation). */
  private cache = new Map<number, KeyValue>();
  private oldCache = new Map<number, KeyValue>();
  private readonly cacheSize: number;
  /** Records and meta values staged for the next backend batch (see flush). */
  private staged: BackendRecord[] = [];
  private stagedMeta: Array<readonly [string, Uint8Array | undefined]> = [];
  /** Records of each staged WriteTxn; their main revisions are consecutive from `stagedBase`. */
  private readonly stagedTxns: (readonly BackendRecord[])[] = [];
  private stagedBase = 0;

  /** @internal Use {@link openMVCCStore}. */
  constructor(backend: Backend, options: MVCCStoreOptions) {
    this.backend = backend;
    this.leaseExistsHook = options.leaseExists;
    this.maxTxnOps = options.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.compactionBatch = options.compactionBatchSize ?? 1000;
    this.compactionPauseMs = options.compactionPauseMs ?? 10;
    this.cacheSize = options.cacheEntries ?? 10000;
    this.clock = options.clock ?? new RealClock();
    this.hub = new WatchHub(this, this.clock, {
      capacity: options.watchBufferSize ?? 128,
      progressMs: Math.max(100, options.progressNotifyIntervalMs ?? 10 * 60 * 1000),
    });
  }

  // ---- state -------------------------------------------------------------

  /** The store's revision: 1 when empty, raised by one per changing write (R1.1, R1.3). */
  get currentRevision(): number {
    return this.curRev;
  }

  /** The last compaction's revision, 0 if never compacted (R5.2). */
  get compactRevision(): number {
    return Math.max(0, this.compRev);
  }

  /** The Raft index last passed to {@link apply} (persisted with the write), 0 if none. */
  get appliedIndex(): number {
    return numMeta(this.backend.getMeta(META_APPLIED));
  }

  /** Number of live watchers. */
  get watcherCount(): number {
    return this.hub.size;
  }

  /** @internal TxnContext/WatchSource view. */
  get currentRev(): number {
    return this.curRev;
  }

  /** @internal */
  get watching(): boolean {
    return this.hub.size > 0;
  }

  /** @internal */
  get compactRev(): number {
    return this.compRev;
  }

  /**
   * @internal Load the key-value an index entry points to. Records never
   * change once written, so decoded ones are cached (bounded, oldest out);
   * callers get a shallow copy.
   */
  load(e: IndexEntry): KeyValue {
    const ck = e.rev.sub < CACHE_SUBS ? e.rev.main * CACHE_SUBS + e.rev.sub : -1;
    const hit = ck >= 0 ? (this.cache.get(ck) ?? this.oldCache.get(ck)) : undefined;
    if (hit !== undefined) return { ...hit };
    const bytes = this.backend.get(e.rev.main, e.rev.sub) ?? this.stagedTxns[e.rev.main - this.stagedBase]?.[e.rev.sub]?.value;
    if (bytes === undefined) throw strataError('ErrCorrupt', `missing record ${e.rev.main}/${e.rev.sub}`);
    const rec = decodeRecord(bytes, e.rev.main);
    if (rec.tombstone) throw strataError('ErrCorrupt', `record ${e.rev.main}/${e.rev.sub} is a tombstone`);
    if (ck >= 0) this.remember(ck, rec.kv);
    return { ...rec.kv };
  }

  /** Two generations of half the size each: when the young one fills, it becomes the old one. */
  private remember(ck: number, kv: KeyValue): void {
    if (this.cacheSize <= 0) return;
    this.cache.set(ck, kv);
    if (this.cache.size >= this.cacheSize / 2) {
      this.oldCache = this.cache;
      this.cache = new Map();
    }
  }

  /** @internal */
  leaseExists(id: number): boolean {
    return this.leaseExistsHook === undefined ? true : this.leaseExistsHook(id);
  }

  /** @internal */
  attachLease(kstr: string, lease: number): void {
    const old = this.leaseOfKey.get(kstr) ?? 0;
    if (old === lease) return;
    if (old !== 0) {
      const set = this.keysOfLease.get(old)!;
      set.delete(kstr);
      if (set.size === 0) this.keysOfLease.delete(old);
    }
    if (lease === 0) this.leaseOfKey.delete(kstr);
    else {
      this.leaseOfKey.set(kstr, lease);
      let set = this.keysOfLease.get(lease);
      if (set === undefined) this.keysOfLease.set(lease, (set = new Set()));
      set.add(kstr);
    }
  }

  /** @internal WatchSource: the key's value at `rev` unless compacted or absent (R6.6). */
  kvAt(kstr: string, rev: number): KeyValue | undefined {
    if (rev < this.compRev || rev < 1) return undefined;
    const e = this.index.get(kstr)?.get(rev);
    return e === undefined ? undefined : this.load(e);
  }

  /** @internal WatchSource: decoded history. */
  async history(fromMain: number, fromSub: number, toMain: number, limit: number): Promise<HistoryEvent[]> {
    const recs = await this.backend.read({ main: fromMain, sub: fromSub }, toMain, limit);
    return recs.map((r) => {
      const d = decodeRecord(r.value, r.main);
      if (d.tombstone) {
        return {
          type: 'delete',
          kstr: bytesToStr(d.key),
          kv: { key: d.key, value: new Uint8Array(0), createRevision: 0, modRevision: r.main, version: 0, lease: 0 },
          main: r.main,
          sub: r.sub,
        };
      }
      return { type: 'put', kstr: bytesToStr(d.kv.key), kv: d.kv, main: r.main, sub: r.sub };
    });
  }

  private check(): void {
    if (this.closed) throw strataError('ErrStopped', 'mvcc store is closed');
    if (this.failed !== undefined) throw this.failed;
  }

  // ---- loading -------------------------------------------------------------

  /** @internal Rebuild memory state from the backend (R1.10). */
  async init(): Promise<void> {
    const finished = numMeta(this.backend.getMeta(META_FINISHED), -1);
    const scheduled = numMeta(this.backend.getMeta(META_SCHEDULED), -1);
    let maxMain = 0;
    let from = { main: 0, sub: 0 };
    for (;;) {
      const recs = await this.backend.read(from, Number.MAX_SAFE_INTEGER, REBUILD_BATCH);
      this.replay(recs);
      if (recs.length > 0) maxMain = recs[recs.length - 1]!.main;
      if (recs.length < REBUILD_BATCH) break;
      const last = recs[recs.length - 1]!;
      from = { main: last.main, sub: last.sub + 1 };
    }
    this.curRev = Math.max(1, maxMain, finished, scheduled);
    this.compRev = finished;
    if (scheduled > finished) {
      log.mvcc('resuming compaction at %d', scheduled);
      this.compactNow(scheduled);
    }
    log.mvcc('loaded: rev %d, compact %d, %d keys', this.curRev, this.compRev, this.index.size);
  }

  /** Feed records (in revision order) into the index and lease maps. */
  private replay(recs: readonly BackendRecord[]): void {
    for (const r of recs) {
      const d = decodeRecord(r.value, r.main);
      const rev = { main: r.main, sub: r.sub };
      if (d.tombstone) {
        const kstr = bytesToStr(d.key);
        const ki = this.index.get(kstr);
        if (ki !== undefined && ki.tombstone(rev)) this.attachLease(kstr, 0);
      } else {
        const kstr = bytesToStr(d.kv.key);
        this.index.getOrCreate(kstr).put(rev, d.kv.createRevision, d.kv.version);
        this.attachLease(kstr, d.kv.lease);
      }
    }
  }

  // ---- writes --------------------------------------------------------------

  /**
   * Make a write transaction's changes current (R1.3, R1.4) and stage its
   * records for the next backend batch ({@link flush}). Watchers are
   * served at once, in revision order.
   */
  private stage(wt: WriteTxn): void {
    const recs = wt.records;
    if (recs.length === 0) return;
    const rev = wt.beginRev + 1;
    this.curRev = rev;
    // The first WriteTxn's array is borrowed (the common single-write case); a second one copies.
    if (this.staged.length === 0) this.staged = recs;
    else {
      if (this.stagedTxns.length === 1 && this.stagedTxns[0] === this.staged) this.staged = this.staged.slice();
      for (const r of recs) this.staged.push(r);
    }
    if (this.stagedTxns.length === 0) this.stagedBase = rev;
    this.stagedTxns.push(recs);
    this.hub.notify(rev, wt.events);
  }

  /** Write everything staged (and `appliedIndex`, if given) as ONE backend batch. */
  private flush(appliedIndex?: number): Promise<void> {
    if (appliedIndex !== undefined) this.stagedMeta.push([META_APPLIED, encode(appliedIndex)]);
    if (this.staged.length === 0 && this.stagedMeta.length === 0) return RESOLVED;
    const w: BackendWrite = {};
    if (this.staged.length > 0) w.records = this.staged;
    if (this.stagedMeta.length > 0) w.meta = this.stagedMeta;
    this.staged = [];
    this.stagedMeta = [];
    this.stagedTxns.length = 0;
    if (this.backend.writeSync !== undefined) {
      try {
        this.backend.writeSync(w);
      } catch (err) {
        this.failed ??= err;
        return Promise.reject(err);
      }
      return RESOLVED;
    }
    return this.persist(w);
  }

  private persist(w: BackendWrite): Promise<void> {
    return this.backend.write(w).catch((err: unknown) => {
      this.failed ??= err;
      throw err;
    });
  }

  /**
   * Put `key` = `value` (section 3). Resolves with the new revision and,
   * with `prevKv`, the previous key-value if the key was live. Errors (in
   * this order): ErrEmptyKey, ErrValueProvided, ErrLeaseProvided,
   * ErrRequestTooLarge, ErrLeaseNotFound, ErrKeyNotFound (R3.1).
   */
  put(key: string | Uint8Array, value: string | Uint8Array, options?: PutOptions): Promise<PutResult> {
    // Not async: one promise per put on a synchronous backend (the hot path).
    let res: PutResult;
    let done: Promise<void>;
    try {
      this.check();
      const p = normalizePut(key, value, options);
      checkRequestSize(p, this.maxRequestBytes);
      res = this.putNow(p);
      done = this.flush();
    } catch (err) {
      return Promise.reject(err);
    }
    return done === RESOLVED ? Promise.resolve(res) : done.then(() => res);
  }

  private putNow(p: NPut): PutResult {
    if (p.lease !== 0 && !this.leaseExists(p.lease)) throw strataError('ErrLeaseNotFound', `lease ${p.lease} not found`);
    if ((p.ignoreValue || p.ignoreLease) && this.index.get(p.kstr)?.isLive() !== true) throw strataError('ErrKeyNotFound', 'key not found');
    const wt = new WriteTxn(this);
    const res = wt.put(p);
    this.stage(wt);
    return res;
  }

  /**
   * Range over keys (section 2). The result's `revision` is the current
   * revision, even for a historical read (R1.9). Errors: ErrEmptyKey,
   * ErrInvalidSortOption, ErrInvalidArgument (negative limit), ErrFutureRev,
   * ErrCompacted.
   */
  async range(key: string | Uint8Array, options?: RangeOptions): Promise<RangeResult> {
    this.check();
    return this.rangeNow(key, options);
  }

  private rangeNow(key: string | Uint8Array, options?: RangeOptions): RangeResult {
    const r = normalizeRange(key, options);
    checkRangeRev(r.revision, this.curRev, this.compRev);
    return executeRange(this, r, r.revision > 0 ? r.revision : this.curRev, this.curRev);
  }

  /**
   * Delete the live keys of a range (R3.5): one tombstone each, in key
   * order, at one new revision; no revision if nothing was deleted.
   */
  async deleteRange(key: string | Uint8Array, options?: DeleteOptions): Promise<DeleteResult> {
    this.check();
    const d = normalizeDelete(key, options);
    checkRequestSize(d, this.maxRequestBytes);
    const res = this.deleteNow(d);
    await this.flush();
    return res;
  }

  private deleteNow(d: NDelete): DeleteResult {
    const wt = new WriteTxn(this);
    const res = wt.deleteRange(d);
    this.stage(wt);
    return res;
  }

  /**
   * Run a transaction (section 4): compares on the state before it, then
   * the chosen branch in order, all changes at one revision. Static errors
   * (ErrTooManyOps, ErrEmptyKey, ErrDuplicateKey, …, ErrRequestTooLarge)
   * and state errors on the executed branch (ErrKeyNotFound,
   * ErrLeaseNotFound, ErrFutureRev, ErrCompacted) reject it unapplied.
   */
  async txn(request: TxnRequest): Promise<TxnResult> {
    this.check();
    const res = this.txnNow(request);
    await this.flush();
    return res;
  }

  private txnNow(request: TxnRequest): TxnResult {
    const t = validateTxn(request, this.maxTxnOps);
    if (!isReadOnlyTxn(t)) checkRequestSize(t, this.maxRequestBytes);
    const wt = new WriteTxn(this);
    const res = executeTxn(this, wt, t);
    this.stage(wt);
    return res;
  }

  // ---- compaction ----------------------------------------------------------

  /**
   * Compact history up to `revision` (section 5): reads below it fail with
   * ErrCompacted from now on. ErrCompacted if `revision <= compactRevision`,
   * ErrFutureRev if it is above the current revision. Physical deletion
   * runs in the background in bounded batches; `physical: true` waits for it.
   */
  async compact(revision: number, options: CompactOptions = {}): Promise<CompactResult> {
    this.check();
    const done = this.compactStaged(revision);
    await this.flush();
    if (options.physical === true) await this.hurry(done);
    return { revision: this.curRev };
  }

  /** Logical compaction now, its schedule mark staged; resolves when physical compaction finished. */
  private compactStaged(revision: number): Promise<void> {
    if (typeof revision !== 'number' || !Number.isSafeInteger(revision)) throw strataError('ErrInvalidArgument', 'revision must be an integer');
    if (revision <= this.compRev) throw strataError('ErrCompacted', `required revision ${revision} has been compacted`);
    if (revision > this.curRev) throw strataError('ErrFutureRev', `required revision ${revision} is a future revision`);
    const done = this.compactNow(revision);
    this.stagedMeta.push([META_SCHEDULED, encode(revision)]);
    return done;
  }

  /** Logical compaction now (R5.2, R5.3), physical deletion queued; resolves when it is finished. */
  private compactNow(rev: number): Promise<void> {
    this.compRev = rev;
    const keep = new RevSet();
    const empties: string[] = [];
    this.index.forEach((ki) => {
      ki.compact(rev, (r) => keep.add(r));
      if (ki.isEmpty()) empties.push(ki.key);
    });
    for (const k of empties) this.index.delete(k);
    const done = this.enqueue(() => this.physicalCompact(rev, keep), false);
    done.catch(() => undefined);
    return done;
  }

  /**
   * Queue `fn` on the background chain. While an `urgent` task (anything
   * but a physical compaction) waits there, physical compactions skip their
   * pauses: the pauses only let other work interleave, and with a virtual
   * clock nobody might advance time while waiting for the result.
   */
  private enqueue<T>(fn: () => Promise<T>, urgent = true): Promise<T> {
    if (urgent) this.urgent++;
    const p = this.chain.then(() => {
      if (urgent) this.urgent--;
      return fn();
    });
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Wait for a physical compaction, without its pauses. */
  private async hurry(done: Promise<void>): Promise<void> {
    this.urgent++;
    try {
      await done;
    } finally {
      this.urgent--;
    }
  }

  private async physicalCompact(rev: number, keep: RevSet): Promise<void> {
    const epoch = this.epoch;
    const deleted = await physicalCompact(this.backend, rev, keep, {
      batch: this.compactionBatch,
      pauseMs: this.compactionPauseMs,
      clock: this.clock,
      hurry: () => this.urgent > 0,
      stopped: () => this.closed || epoch !== this.epoch,
      persist: (w) => this.persist(w),
    });
    if (deleted < 0) return;
    await this.persist({ meta: [[META_FINISHED, encode(rev)]] });
    log.mvcc('compaction at %d finished: %d records deleted', rev, deleted);
  }

  // ---- watch -------------------------------------------------------------

  /**
   * Watch a key, range or prefix (section 6). Returns an async iterable of
   * responses: history from `startRevision` (inclusive) if given, then
   * live events, in revision order, each revision in one response. A start
   * below the compact revision yields one `{canceled, compactRevision}`
   * response and ends (R6.8); a negative start yields one cancelled
   * response. Like etcd's created-and-cancelled reply, a range end <= key
   * (other than "\0", R6.1) gives a watch whose iterator yields one
   * `{ events: [], canceled: true, cancelReason: 'mvcc: watcher range is empty' }`
   * response and ends. Throws ErrEmptyKey / ErrInvalidArgument at once for
   * malformed input (wrong types, unknown filters).
   */
  watch(key: string | Uint8Array, options: WatchOptions = {}): Watcher {
    this.check();
    const o = options;
    let keyIn: string | Uint8Array = key;
    // An empty key watches from "\0" (R6.1).
    if (!o.prefix && !o.fromKey && toBytes(key, 'key').length === 0) keyIn = new Uint8Array([0]);
    const { span } = resolveSpan(keyIn, o);
    // etcd creates and at once cancels such a watch ("mvcc: watcher range is empty", R6.1).
    const emptyRange = span.end !== undefined && span.end !== '' && span.end <= span.start;
    const start = o.startRevision ?? 0;
    if (typeof start !== 'number' || !Number.isSafeInteger(start)) throw strataError('ErrInvalidArgument', 'startRevision must be an integer');
    const filters = o.filters ?? [];
    if (!Array.isArray(filters) || filters.some((f) => f !== 'noput' && f !== 'nodelete')) throw strataError('ErrInvalidArgument', 'unknown watch filter');
    const w = this.hub.watch({
      span,
      startRevision: start < 0 ? 0 : start,
      prevKv: o.prevKv === true,
      noPut: filters.includes('noput'),
      noDelete: filters.includes('nodelete'),
      progressNotify: o.progressNotify === true,
    });
    if (emptyRange) w.finish({ events: [], revision: this.curRev, canceled: true, cancelReason: 'mvcc: watcher range is empty' });
    else if (start < 0) w.finish({ events: [], revision: this.curRev, canceled: true, cancelReason: 'mvcc: required revision has been compacted' });
    const signal = o.signal;
    if (signal !== undefined) {
      if (signal.aborted) w.cancel();
      else {
        const onAbort = (): void => w.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
        w.onEnd(() => signal.removeEventListener('abort', onAbort));
      }
    }
    return w;
  }

  // ---- leases ------------------------------------------------------------

  /** Keys currently attached to lease `id`, in key order (for the lessor). */
  keysForLease(id: number): Uint8Array[] {
    const set = this.keysOfLease.get(id);
    if (set === undefined) return [];
    return [...set].sort().map(strToBytes);
  }

  /** Lease ids that have at least one key attached, ascending. */
  attachedLeases(): number[] {
    return [...this.keysOfLease.keys()].sort((a, b) => a - b);
  }

  /**
   * Delete every key attached to lease `id` in one write at one revision,
   * in key order (R7.4); no revision if it has no keys. The lease's own
   * existence is the lessor's business.
   */
  async revokeLease(id: number, appliedIndex?: number): Promise<DeleteResult> {
    this.check();
    const res = this.revokeNow(id);
    await this.flush(appliedIndex);
    return res;
  }

  private revokeNow(id: number): DeleteResult {
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw strataError('ErrInvalidArgument', 'lease id must be an integer');
    const set = this.keysOfLease.get(id);
    const wt = new WriteTxn(this);
    let deleted = 0;
    for (const kstr of set === undefined ? [] : [...set].sort()) {
      deleted += wt.deleteRange({ op: 'deleteRange', span: { start: kstr, end: undefined, rawEnd: undefined }, prevKv: false }).deleted;
    }
    this.stage(wt);
    return { deleted, revision: wt.rev };
  }

  // ---- replicated apply ----------------------------------------------------

  /**
   * Apply one request (the path a replicated server uses for committed log
   * entries): `applyBatch([request], options)` that throws the item's error.
   * With `appliedIndex`, that number is stored in the same backend batch
   * (see {@link appliedIndex}), also when the request failed.
   */
  async apply(request: KVRequest, options: { appliedIndex?: number } = {}): Promise<KVResponse> {
    const [out] = await this.applyBatch([request], options);
    if (!out!.ok) throw out!.error;
    return out!.value;
  }

  /**
   * Apply a list of requests in order as ONE backend batch (the replicated
   * apply path: the committed entries of one Raft Ready). Each item is
   * applied exactly as {@link apply} would apply it alone, one after the
   * other: each write gets its own revision, watchers see the same events
   * in the same responses, and an item's error (validation, ErrKeyNotFound,
   * ErrLeaseNotFound, ErrCompacted, ErrFutureRev, …) is returned as that
   * item's outcome `{ ok: false, error }`, changing nothing and not
   * affecting the other items. All changes and `appliedIndex` (stored even
   * if items failed) are written in one atomic backend write; the promise
   * resolves, with one outcome per request in request order, once it has
   * landed (and any `physical: true` compaction in the list has finished).
   * It rejects only if the store is closed/failed or the backend write fails.
   */
  async applyBatch(requests: readonly KVRequest[], options: { appliedIndex?: number } = {}): Promise<KVOutcome[]> {
    this.check();
    const out: KVOutcome[] = new Array<KVOutcome>(requests.length);
    let waits: Promise<void>[] | undefined;
    for (let i = 0; i < requests.length; i++) {
      try {
        const request = requests[i]!;
        if (typeof request === 'object' && request !== null && 'compact' in request) {
          const c = request.compact;
          const done = this.compactStaged(c.revision);
          if (c.physical === true) (waits ??= []).push(done);
          out[i] = { ok: true, value: { compact: { revision: this.curRev } } };
        } else out[i] = { ok: true, value: this.applyNow(request) };
      } catch (err) {
        out[i] = { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
      }
    }
    await this.flush(options.appliedIndex);
    if (waits !== undefined) for (const w of waits) await this.hurry(w);
    return out;
  }

  /** Apply one request now (staged, not yet flushed); throws its error. */
  private applyNow(request: KVRequest): KVResponse {
    if (typeof request !== 'object' || request === null) throw strataError('ErrInvalidArgument', 'request must be an object');
    if ('put' in request) {
      const p = request.put;
      const n = normalizePut(p.key, p.value, p);
      checkRequestSize(n, this.maxRequestBytes);
      return { put: this.putNow(n) };
    }
    if ('deleteRange' in request) {
      const n = normalizeDelete(request.deleteRange.key, request.deleteRange);
      checkRequestSize(n, this.maxRequestBytes);
      return { deleteRange: this.deleteNow(n) };
    }
    if ('txn' in request) return { txn: this.txnNow(request.txn) };
    if ('range' in request) return { range: this.rangeNow(request.range.key, request.range) };
    if ('revokeLease' in request) return { revokeLease: this.revokeNow(request.revokeLease.id) };
    throw strataError('ErrInvalidArgument', 'unknown request');
  }

  // ---- hashes and snapshots ----------------------------------------------

  /**
   * HashKV (R9.9) at `revision` (0: current): equal on stores with the same
   * history. ErrCompacted / ErrFutureRev as for Range.
   */
  async hashKV(revision = 0): Promise<HashKVResult> {
    this.check();
    if (typeof revision !== 'number' || !Number.isSafeInteger(revision)) throw strataError('ErrInvalidArgument', 'revision must be an integer');
    checkRangeRev(revision, this.curRev, this.compRev);
    const rev = revision > 0 ? revision : this.curRev;
    const compactRev = this.compRev;
    const keep = keepAt(this.index, rev);
    const current = this.curRev;
    const hash = await this.enqueue(() => hashKV(this.backend, keep, compactRev, rev));
    return { hash, compactRevision: compactRev, hashRevision: rev, revision: current };
  }

  /** CRC-32C of every stored record (for tests; depends on physical compaction progress). */
  async hash(): Promise<number> {
    this.check();
    return this.enqueue(() => hashAll(this.backend));
  }

  /**
   * Serialise the whole store (see snapshot.ts); {@link restore} reverses it.
   * The result is both a promise of one Uint8Array and an async iterable of
   * chunks of at most 1 MiB (for streaming to a follower).
   */
  snapshot(): SnapshotStream {
    const bytes = (async (): Promise<Uint8Array> => {
      this.check();
      const keep = keepAt(this.index, this.compRev);
      const cur = this.curRev;
      const compact = this.compRev;
      return this.enqueue(() => takeSnapshot(this.backend, keep, cur, compact));
    })();
    return Object.assign(bytes, {
      async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
        const all = await bytes;
        for (let i = 0; i < all.length; i += SNAPSHOT_CHUNK) yield all.subarray(i, Math.min(all.length, i + SNAPSHOT_CHUNK));
      },
    });
  }

  /**
   * Replace the whole state with a {@link snapshot}. Watchers stay open and
   * catch up from the restored history (or are cancelled as compacted).
   */
  async restore(data: SnapshotInput): Promise<void> {
    this.check();
    const snap = readSnapshot(await collect(data));
    this.check();
    this.epoch++;
    const cleared = this.backend.clear();
    const written = this.persist({
      records: snap.records,
      meta: [
        [META_FINISHED, encode(snap.compactRev)],
        [META_SCHEDULED, encode(snap.compactRev)],
      ],
    });
    this.index = new TreeIndex();
    this.cache.clear();
    this.oldCache.clear();
    this.leaseOfKey.clear();
    this.keysOfLease.clear();
    this.replay(snap.records);
    this.curRev = Math.max(1, snap.currentRev);
    this.compRev = snap.compactRev;
    this.hub.resyncAll();
    await cleared;
    await written;
  }

  /**
   * Defragment the backend (R9.8): waits for queued physical compactions,
   * then lets the backend reclaim the space of deleted records. Member-local;
   * changes no data or revision.
   */
  async defragment(): Promise<void> {
    this.check();
    await this.enqueue(() => this.backend.defragment());
  }

  /** Approximate bytes of stored records (after queued compactions). */
  async dbSize(): Promise<number> {
    this.check();
    return this.enqueue(() => this.backend.size());
  }

  /** Cancel watchers, stop background compaction and close the backend. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.close();
    await this.chain;
    await this.backend.close();
  }
}
