/**
 * Barrier (R8.5): one key blocks every waiter until it is deleted. Hold
 * creates it, Release deletes it, Wait returns once it is absent.
 */
import { strataError } from '../errors.ts';
import type { KVClient } from './client.ts';
import { waitDelete } from './wait.ts';

/** A barrier on one key. */
export class Barrier {
  /**
   * @param client the client
   * @param key the barrier key
   */
  constructor(
    readonly client: KVClient,
    readonly key: string,
  ) {}

  /** Raise the barrier by creating its key; ErrKeyExists if it is already raised. */
  async hold(options: { signal?: AbortSignal } = {}): Promise<void> {
    const r = await this.client.txn(
      { compare: [{ key: this.key, target: 'createRevision', result: '==', value: 0 }], success: [{ put: { key: this.key, value: '' } }] },
      options.signal !== undefined ? { signal: options.signal } : {},
    );
    if (!r.succeeded) throw strataError('ErrKeyExists', `barrier ${this.key} is already held`);
  }

  /** Lower the barrier (delete its key), letting every waiter through. */
  async release(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.client.delete(this.key, options.signal !== undefined ? { signal: options.signal } : {});
  }

  /** Resolve at once if the barrier is down, otherwise when it is released. ErrAborted when `signal` fires. */
  async wait(options: { signal?: AbortSignal } = {}): Promise<void> {
    const r = await this.client.get(this.key, options.signal !== undefined ? { signal: options.signal } : {});
    if (r.kvs.length === 0) return;
    await waitDelete(this.client, this.key, r.header.revision + 1, options);
  }
}
