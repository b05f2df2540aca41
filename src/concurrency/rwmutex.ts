/**
 * RWMutex (R8.9): many readers or one writer under a prefix. Readers create
 * `pfx/read/<nanos>` and wait for older writers; writers create
 * `pfx/write/<nanos>` and wait for every older key. Keys are attached to the
 * session's lease, so a dead client's lock vanishes with its lease.
 */
import { strataError } from '../errors.ts';
import { rangeAt } from './mutex.ts';
import type { Session } from './session.ts';
import { createUniqueKey, str, waitDelete, type CreatedKey } from './wait.ts';

/** A readers-writer lock held through a {@link Session}. */
export class RWMutex {
  private readonly pfx: string;
  private myKey: CreatedKey | undefined;

  /**
   * @param session the session whose lease the lock keys are attached to
   * @param prefix the lock's name; keys live under `prefix/`
   */
  constructor(
    readonly session: Session,
    prefix: string,
  ) {
    this.pfx = `${prefix}/`;
  }

  /** Take a read lock: wait until no writer that came earlier holds or waits. */
  async rLock(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.acquire('read', `${this.pfx}write`, options.signal);
  }

  /** Take the write lock: wait until every earlier reader and writer is gone. */
  async lock(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.acquire('write', this.pfx, options.signal);
  }

  /** Release a read lock (ErrLockReleased if none is held). */
  rUnlock(): Promise<void> {
    return this.release();
  }

  /** Release the write lock (ErrLockReleased if none is held). */
  unlock(): Promise<void> {
    return this.release();
  }

  /** The key this client holds or waits with (empty when none). */
  get key(): string {
    return this.myKey?.key ?? '';
  }

  private async acquire(kind: 'read' | 'write', blockers: string, signal: AbortSignal | undefined): Promise<void> {
    const s = this.session;
    const mine = await createUniqueKey(s.client, `${this.pfx}${kind}`, '', s.lease, signal);
    this.myKey = mine;
    try {
      while (!(await this.waitOnLastRev(blockers, mine, signal)));
    } catch (err) {
      await this.release().catch(() => undefined);
      throw err;
    }
  }

  /** True when nothing under `blockers` older than my key is left; otherwise wait for the newest such key's deletion. */
  private async waitOnLastRev(blockers: string, mine: CreatedKey, signal: AbortSignal | undefined): Promise<boolean> {
    const client = this.session.client;
    const r = await client.txn(
      {
        success: [
          { range: { key: mine.key } },
          { range: { key: blockers, prefix: true, maxModRevision: mine.revision - 1, sortTarget: 'modRevision', sortOrder: 'descend', limit: 1 } },
        ],
      },
      signal !== undefined ? { signal } : {},
    );
    if (rangeAt(r, 0).kvs.length === 0) throw strataError('ErrSessionExpired', `lock key ${mine.key} is gone (session expired)`);
    const last = rangeAt(r, 1).kvs[0];
    if (last === undefined) return true;
    await waitDelete(client, str(last.key), r.header.revision, { ...(signal !== undefined ? { signal } : {}), own: mine.key });
    return false;
  }

  private async release(): Promise<void> {
    const mine = this.myKey;
    if (mine === undefined) throw strataError('ErrLockReleased', `rwmutex ${this.pfx} is not held`);
    await this.session.client.delete(mine.key);
    this.myKey = undefined;
  }
}
