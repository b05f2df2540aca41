/**
 * Mutex (R8.2): a distributed lock under a key prefix. Each session owns one
 * key `pfx/<lease hex>`; the holder is the key with the smallest create
 * revision, and each waiter watches only its predecessor's deletion, so
 * waiters are served in FIFO order without a thundering herd.
 */
import { strataError } from '../errors.ts';
import type { Compare, RangeResult, TxnOp } from '../mvcc/types.ts';
import type { ResponseHeader, TxnCallResponse } from '../server/types.ts';
import type { Session } from './session.ts';
import { waitDeletes } from './wait.ts';

/** The range result at `i` of a txn response (the recipes' own txns put ranges where they expect them). */
export function rangeAt(resp: TxnCallResponse, i: number): RangeResult {
  const r = resp.responses[i];
  if (r === undefined || !('range' in r)) throw strataError('ErrInvalidArgument', `txn response ${i} is not a range`);
  return r.range;
}

/** A lock under a prefix, held through a {@link Session}. */
export class Mutex {
  private readonly pfx: string;
  private myKey = '';
  private myRev = -1;
  private hdr: ResponseHeader | undefined;

  /**
   * @param session the session whose lease the lock key is attached to
   * @param prefix the lock's name; keys live under `prefix/`
   */
  constructor(
    readonly session: Session,
    prefix: string,
  ) {
    this.pfx = `${prefix}/`;
  }

  /**
   * Acquire the lock, waiting (in FIFO order) for earlier holders and
   * waiters. Rejects with ErrSessionExpired if this session's key vanished
   * while waiting, ErrAborted when `signal` fires (the waiter's key is then
   * removed).
   */
  async lock(options: { signal?: AbortSignal } = {}): Promise<void> {
    const resp = await this.tryAcquire(options.signal);
    const owner = rangeAt(resp, 1).kvs[0];
    if (owner === undefined || owner.createRevision === this.myRev) {
      this.hdr = resp.header;
      return;
    }
    const client = this.session.client;
    try {
      await waitDeletes(client, this.pfx, this.myRev - 1, { ...options, own: this.myKey });
      const g = await client.get(this.myKey, options.signal !== undefined ? { signal: options.signal } : {});
      if (g.kvs.length === 0) throw strataError('ErrSessionExpired', `lock key ${this.myKey} is gone (session expired)`);
      this.hdr = g.header;
    } catch (err) {
      await this.unlock().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Acquire the lock only if it is free: otherwise remove this session's key
   * and reject with ErrLocked (the caller is not queued).
   */
  async tryLock(options: { signal?: AbortSignal } = {}): Promise<void> {
    const resp = await this.tryAcquire(options.signal);
    const owner = rangeAt(resp, 1).kvs[0];
    if (owner === undefined || owner.createRevision === this.myRev) {
      this.hdr = resp.header;
      return;
    }
    await this.session.client.delete(this.myKey);
    this.myKey = '';
    this.myRev = -1;
    throw strataError('ErrLocked', `mutex ${this.pfx} is locked by another session`);
  }

  /** Release the lock (delete this session's key). A second unlock rejects with ErrLockReleased. */
  async unlock(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.myKey === '' || this.myRev <= 0) throw strataError('ErrLockReleased', `mutex ${this.pfx} is not held`);
    const key = this.myKey;
    await this.session.client.delete(key, options.signal !== undefined ? { signal: options.signal } : {});
    this.myKey = '';
    this.myRev = -1;
  }

  /**
   * The compare that holds while this mutex owns the lock
   * (`create_revision(key) == myRev`): put it in a txn to write only as owner.
   */
  isOwner(): Compare {
    return { key: this.myKey, target: 'createRevision', result: '==', value: this.myRev };
  }

  /** This session's lock key (empty when not locked or waiting). */
  get key(): string {
    return this.myKey;
  }

  /** The header of the response that granted the lock. */
  get header(): ResponseHeader | undefined {
    return this.hdr;
  }

  /** The create-if-absent txn of R8.2; sets myKey and myRev. */
  private async tryAcquire(signal: AbortSignal | undefined): Promise<TxnCallResponse> {
    const s = this.session;
    const key = `${this.pfx}${s.lease.toString(16)}`;
    const getOwner: TxnOp = {
      range: { key: this.pfx, prefix: true, sortTarget: 'createRevision', sortOrder: 'ascend', limit: 1 },
    };
    const resp = await s.client.txn(
      {
        compare: [{ key, target: 'createRevision', result: '==', value: 0 }],
        success: [{ put: { key, value: '', lease: s.lease } }, getOwner],
        failure: [{ range: { key } }, getOwner],
      },
      signal !== undefined ? { signal } : {},
    );
    this.myKey = key;
    this.myRev = resp.header.revision;
    if (!resp.succeeded) {
      const mine = rangeAt(resp, 0).kvs[0];
      if (mine !== undefined) this.myRev = mine.createRevision;
    }
    return resp;
  }
}
