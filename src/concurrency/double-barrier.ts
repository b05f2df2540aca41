/**
 * DoubleBarrier (R8.6): `count` clients enter together and leave together.
 * Each entrant holds a session-leased key `key/waiters/<nanos>`; the
 * `count`-th entrant puts `key/ready`, releasing everyone. Leaving waits
 * until every participant has left. A client that dies drops its key with
 * its lease, so the others are not stuck forever.
 */
import { strataError } from '../errors.ts';
import type { KeyValue } from '../mvcc/types.ts';
import type { Session } from './session.ts';
import { checkAborted, createUniqueKey, str, waitDelete, waitEvent, type CreatedKey } from './wait.ts';

/** A barrier that `count` participants enter and leave together. */
export class DoubleBarrier {
  private myKey: CreatedKey | undefined;

  /**
   * @param session the session whose lease the participant keys are attached to
   * @param key the barrier's name
   * @param count how many participants enter together
   */
  constructor(
    readonly session: Session,
    readonly key: string,
    readonly count: number,
  ) {
    if (!Number.isInteger(count) || count < 1) throw strataError('ErrInvalidArgument', `bad double barrier count ${count}`);
  }

  /**
   * Wait until `count` participants have entered. ErrTooManyClients when the
   * barrier is full (this client's key is then removed).
   */
  async enter(options: { signal?: AbortSignal } = {}): Promise<void> {
    const client = this.session.client;
    const waiters = `${this.key}/waiters`;
    const sig = options.signal !== undefined ? { signal: options.signal } : {};
    const before = await client.get(waiters, { prefix: true, countOnly: true, ...sig });
    if (before.count >= this.count) throw strataError('ErrTooManyClients', `double barrier ${this.key} is full`);
    const mine = await createUniqueKey(client, waiters, '', this.session.lease, options.signal);
    this.myKey = mine;
    const r = await client.get(waiters, { prefix: true, sortTarget: 'createRevision', sortOrder: 'ascend', ...sig });
    const nth = r.kvs[this.count - 1];
    if (nth !== undefined && mine.revision > nth.createRevision) {
      await client.delete(mine.key);
      this.myKey = undefined;
      throw strataError('ErrTooManyClients', `double barrier ${this.key} is full`);
    }
    if (nth !== undefined) {
      await client.put(`${this.key}/ready`, '', sig);
      return;
    }
    const ev = await waitEvent(client, `${this.key}/ready`, { startRevision: mine.revision, type: 'put', ...sig });
    if (ev === undefined) {
      checkAborted(options.signal, 'enter');
      throw strataError('ErrStopped', 'watch ended');
    }
  }

  /** Wait until every participant has left, then return. */
  async leave(options: { signal?: AbortSignal } = {}): Promise<void> {
    const client = this.session.client;
    const sig = options.signal !== undefined ? { signal: options.signal } : {};
    for (;;) {
      checkAborted(options.signal, 'leave');
      const r = await client.get(`${this.key}/waiters`, { prefix: true, ...sig });
      if (r.kvs.length === 0) return;
      let lowest: KeyValue = r.kvs[0] as KeyValue;
      let highest: KeyValue = lowest;
      for (const kv of r.kvs) {
        if (kv.modRevision < lowest.modRevision) lowest = kv;
        if (kv.modRevision > highest.modRevision) highest = kv;
      }
      const myKey = this.myKey?.key ?? '';
      if (r.kvs.length === 1) {
        // The last one out lowers the ready flag.
        await client.delete(`${this.key}/ready`, sig);
        if (myKey !== '') await client.delete(myKey, sig);
        this.myKey = undefined;
        return;
      }
      if (str(lowest.key) === myKey) {
        // The lowest leaves last: wait for the highest to go, then look again.
        await waitDelete(client, str(highest.key), r.header.revision + 1, sig);
        continue;
      }
      if (myKey !== '') await client.delete(myKey, sig);
      this.myKey = undefined;
      await waitDelete(client, str(lowest.key), r.header.revision + 1, sig);
    }
  }
}
