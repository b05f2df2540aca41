/**
 * Software transactional memory (R8.4): run a function that reads and
 * writes keys through an {@link STM} handle; its writes are buffered and
 * committed in one txn guarded by compares on what it read. If another
 * client changed that data meanwhile, the function runs again. The
 * isolation level decides which reads are checked.
 */
import { strataError } from '../errors.ts';
import type { Compare, RangeResult, TxnOp } from '../mvcc/types.ts';
import type { TxnCallResponse } from '../server/types.ts';
import type { KVClient } from './client.ts';
import { checkAborted, str } from './wait.ts';

/**
 * Isolation levels, strongest first (etcd's names):
 * - `serializableSnapshot` (default): reads come from one snapshot (the
 *   first read's revision) and the commit fails if anything read or written
 *   changed since — no write skew.
 * - `serializable`: the commit fails if anything read changed.
 * - `repeatableReads`: each key is read once (serializable reads, cached);
 *   the commit fails if anything read changed.
 * - `readCommitted`: no checks; the commit always succeeds.
 */
export type Isolation = 'serializableSnapshot' | 'serializable' | 'repeatableReads' | 'readCommitted';

/** The handle a {@link runSTM} function reads and writes through. */
export interface STM {
  /** The value of `key` ("" when absent); a key written earlier in this attempt returns the buffered value. */
  get(key: string): Promise<string>;
  /** The mod revision of `key` (0 when absent). */
  rev(key: string): Promise<number>;
  /** Buffer a put (applied at commit). */
  put(key: string, value: string, options?: { lease?: number }): void;
  /** Buffer a delete (applied at commit). */
  del(key: string): void;
}

/** Options of {@link runSTM}. */
export interface STMOptions {
  /** Default `serializableSnapshot`. */
  readonly isolation?: Isolation;
  /** Keys read up front in the first attempt (they join the read set). */
  readonly prefetch?: readonly string[];
  /** Stop retrying (rejects with ErrAborted). */
  readonly signal?: AbortSignal;
}

/** What {@link runSTM} returns. */
export interface STMResult<T> {
  /** The function's return value in the attempt that committed. */
  readonly result: T;
  /** The committing txn's response. */
  readonly response: TxnCallResponse;
  /** Attempts made (1 when there was no conflict). */
  readonly attempts: number;
}

interface ReadEntry {
  readonly value: string;
  readonly modRevision: number;
  /** Store revision the read saw. */
  readonly revision: number;
}

type WriteEntry = { readonly kind: 'put'; readonly value: string; readonly lease: number } | { readonly kind: 'del' };

class Attempt implements STM {
  readonly rset = new Map<string, ReadEntry>();
  readonly wset = new Map<string, WriteEntry>();
  /** The snapshot revision once fixed (serializableSnapshot / serializable). */
  snapshotRev = 0;

  constructor(
    private readonly client: KVClient,
    private readonly isolation: Isolation,
    private readonly prefetched: Map<string, ReadEntry>,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async get(key: string): Promise<string> {
    const w = this.wset.get(key);
    if (w !== undefined) return w.kind === 'put' ? w.value : '';
    return (await this.read(key)).value;
  }

  async rev(key: string): Promise<number> {
    const w = this.wset.get(key);
    if (w !== undefined && w.kind === 'del') return 0;
    return (await this.read(key)).modRevision;
  }

  put(key: string, value: string, options: { lease?: number } = {}): void {
    if (key === '') throw strataError('ErrEmptyKey', 'empty key');
    this.wset.delete(key);
    this.wset.set(key, { kind: 'put', value, lease: options.lease ?? 0 });
  }

  del(key: string): void {
    if (key === '') throw strataError('ErrEmptyKey', 'empty key');
    this.wset.delete(key);
    this.wset.set(key, { kind: 'del' });
  }

  private async read(key: string): Promise<ReadEntry> {
    const cached = this.rset.get(key);
    // readCommitted re-reads every time; the others read each key once.
    if (cached !== undefined && this.isolation !== 'readCommitted') return cached;
    const pre = this.prefetched.get(key);
    if (pre !== undefined && this.isolation !== 'readCommitted') {
      this.prefetched.delete(key);
      this.fixSnapshot(pre.revision);
      this.rset.set(key, pre);
      return pre;
    }
    checkAborted(this.signal, 'stm');
    const snapshot = this.isolation === 'serializableSnapshot' || this.isolation === 'serializable';
    const r = await this.client.get(key, {
      // The first read of a snapshot attempt is linearizable and fixes the revision; later reads use it.
      ...(snapshot && this.snapshotRev > 0 ? { revision: this.snapshotRev, serializable: true } : {}),
      ...(!snapshot ? { serializable: true } : {}),
      ...(this.signal !== undefined ? { signal: this.signal } : {}),
    });
    const e = entryOf(r, r.header.revision);
    if (snapshot) this.fixSnapshot(r.header.revision);
    this.rset.set(key, e);
    return e;
  }

  private fixSnapshot(rev: number): void {
    if (this.snapshotRev === 0) this.snapshotRev = rev;
  }

  /** The commit txn: compares by isolation, writes in Then, read-set prefetch in Else. */
  commitRequest(): { compare: Compare[]; success: TxnOp[]; failure: TxnOp[]; keys: string[] } {
    const compare: Compare[] = [];
    const keys = [...this.rset.keys()];
    if (this.isolation !== 'readCommitted') {
      for (const [key, e] of this.rset) compare.push({ key, target: 'modRevision', result: '==', value: e.modRevision });
    }
    if (this.isolation === 'serializableSnapshot' && this.snapshotRev > 0) {
      for (const key of this.wset.keys()) compare.push({ key, target: 'modRevision', result: '<', value: this.snapshotRev + 1 });
    }
    const success: TxnOp[] = [];
    for (const [key, w] of this.wset) {
      success.push(w.kind === 'put' ? { put: { key, value: w.value, ...(w.lease !== 0 ? { lease: w.lease } : {}) } } : { deleteRange: { key } });
    }
    const prefetch = this.isolation === 'serializableSnapshot' || this.isolation === 'serializable';
    const failure: TxnOp[] = prefetch ? keys.map((key) => ({ range: { key } })) : [];
    return { compare, success, failure, keys: prefetch ? keys : [] };
  }
}

function entryOf(r: RangeResult, revision: number): ReadEntry {
  const kv = r.kvs[0];
  return kv === undefined ? { value: '', modRevision: 0, revision } : { value: str(kv.value), modRevision: kv.modRevision, revision };
}

/**
 * Run `fn` as a transaction (R8.4): retried until its commit succeeds. An
 * error thrown by `fn` aborts without writing anything. Use only the STM
 * handle for reads and writes inside `fn`: it may run several times.
 */
export async function runSTM<T>(client: KVClient, fn: (stm: STM) => Promise<T> | T, options: STMOptions = {}): Promise<STMResult<T>> {
  const isolation = options.isolation ?? 'serializableSnapshot';
  const signal = options.signal;
  let prefetched = new Map<string, ReadEntry>();
  if (options.prefetch !== undefined && options.prefetch.length > 0 && isolation !== 'readCommitted') {
    const r = await client.txn(
      { success: options.prefetch.map((key) => ({ range: { key } })) },
      { ...(isolation === 'repeatableReads' ? { serializable: true } : {}), ...(signal !== undefined ? { signal } : {}) },
    );
    options.prefetch.forEach((key, i) => {
      const rr = r.responses[i];
      if (rr !== undefined && 'range' in rr) prefetched.set(key, entryOf(rr.range, r.header.revision));
    });
  }
  for (let attempts = 1; ; attempts++) {
    checkAborted(signal, 'stm');
    const a = new Attempt(client, isolation, prefetched, signal);
    const result = await fn(a);
    const req = a.commitRequest();
    const response = await client.txn(
      { compare: req.compare, success: req.success, failure: req.failure },
      signal !== undefined ? { signal } : {},
    );
    if (response.succeeded) return { result, response, attempts };
    // Conflict: the Else branch re-read the read set; the next attempt starts from that snapshot.
    prefetched = new Map();
    req.keys.forEach((key, i) => {
      const rr = response.responses[i];
      if (rr !== undefined && 'range' in rr) prefetched.set(key, entryOf(rr.range, response.header.revision));
    });
  }
}
