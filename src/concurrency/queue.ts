/**
 * Queue (R8.7) and PriorityQueue (R8.8): multi-producer, multi-consumer
 * queues in the key space. A consumer claims an item by deleting it under a
 * `mod_revision == seen` guard, so each item goes to exactly one consumer.
 */
import { strataError } from '../errors.ts';
import type { KeyValue } from '../mvcc/types.ts';
import type { KVClient } from './client.ts';
import { checkAborted, createUniqueKey, deleteRevKey, str, waitEvent } from './wait.ts';

/**
 * Take the first item of `kvs` that this call manages to delete; undefined if
 * others claimed them all.
 */
async function claimFirst(client: KVClient, kvs: readonly KeyValue[], signal: AbortSignal | undefined): Promise<KeyValue | undefined> {
  for (const kv of kvs) {
    if (await deleteRevKey(client, str(kv.key), kv.modRevision, signal)) return kv;
  }
  return undefined;
}

/**
 * Claim an item as R8.7 describes: the first item found by `first`, or, if
 * the queue is empty, the next item put under `prefix`.
 */
async function dequeueFrom(
  client: KVClient,
  prefix: string,
  first: () => Promise<{ kvs: KeyValue[]; more: boolean; header: { revision: number } }>,
  signal: AbortSignal | undefined,
): Promise<string> {
  for (;;) {
    checkAborted(signal, 'dequeue');
    const r = await first();
    const kv = await claimFirst(client, r.kvs, signal);
    if (kv !== undefined) return str(kv.value);
    if (r.more) continue;
    const ev = await waitEvent(client, prefix, { startRevision: r.header.revision, type: 'put', prefix: true, ...(signal !== undefined ? { signal } : {}) });
    if (ev === undefined) {
      checkAborted(signal, 'dequeue');
      throw strataError('ErrStopped', 'watch ended');
    }
    if (await deleteRevKey(client, str(ev.kv.key), ev.kv.modRevision, signal)) return str(ev.kv.value);
  }
}

/** A FIFO queue under a prefix (order of enqueue revisions). */
export class Queue {
  private readonly pfx: string;

  /**
   * @param client the client
   * @param prefix the queue's name; items live under `prefix/`
   */
  constructor(
    readonly client: KVClient,
    prefix: string,
  ) {
    this.pfx = prefix;
  }

  /** Append an item (`prefix/<unix-nanos>`). */
  async enqueue(value: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await createUniqueKey(this.client, this.pfx, value, 0, options.signal);
  }

  /** Remove and return the oldest item, waiting for one if the queue is empty. ErrAborted when `signal` fires. */
  dequeue(options: { signal?: AbortSignal } = {}): Promise<string> {
    const sig = options.signal !== undefined ? { signal: options.signal } : {};
    return dequeueFrom(
      this.client,
      `${this.pfx}/`,
      () => this.client.get(`${this.pfx}/`, { prefix: true, sortTarget: 'modRevision', sortOrder: 'ascend', limit: 1, ...sig }),
      options.signal,
    );
  }
}

/** Highest priority value accepted (five decimal digits in the key, as etcd's uint16). */
export const MAX_PRIORITY = 65535;

/** A priority queue under a key: lower priority numbers first, FIFO within a priority. */
export class PriorityQueue {
  private readonly pfx: string;

  /**
   * @param client the client
   * @param key the queue's name; items live under `key/`
   */
  constructor(
    readonly client: KVClient,
    key: string,
  ) {
    this.pfx = `${key}/`;
  }

  /**
   * Add an item with priority `priority` (0 … 65535; 0 is served first), as
   * `key/%05d(priority)/%016d(seq)`.
   */
  async enqueue(value: string, priority: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
      throw strataError('ErrInvalidArgument', `priority must be an integer in 0..${MAX_PRIORITY}`);
    }
    const sig = options.signal !== undefined ? { signal: options.signal } : {};
    const prefix = `${this.pfx}${priority.toString().padStart(5, '0')}`;
    const marker = `__${prefix}`;
    for (;;) {
      checkAborted(options.signal, 'enqueue');
      const last = await this.client.get(`${prefix}/`, { prefix: true, sortTarget: 'key', sortOrder: 'descend', limit: 1, ...sig });
      let seq = 0;
      const lastKv = last.kvs[0];
      if (lastKv !== undefined) {
        const k = str(lastKv.key);
        seq = Number.parseInt(k.slice(k.lastIndexOf('/') + 1), 10) + 1;
      }
      const key = `${prefix}/${seq.toString().padStart(16, '0')}`;
      // The marker guards against reusing a sequence number whose item was
      // created and consumed after our read.
      const r = await this.client.txn(
        {
          compare: [{ key: marker, target: 'modRevision', result: '<', value: last.header.revision + 1 }],
          success: [{ put: { key: marker, value: '' } }, { put: { key, value } }],
        },
        sig,
      );
      if (r.succeeded) return;
    }
  }

  /** Remove and return the first item (lowest priority number, oldest), waiting if empty. ErrAborted when `signal` fires. */
  dequeue(options: { signal?: AbortSignal } = {}): Promise<string> {
    const sig = options.signal !== undefined ? { signal: options.signal } : {};
    return dequeueFrom(
      this.client,
      this.pfx,
      () => this.client.get(this.pfx, { prefix: true, sortTarget: 'key', sortOrder: 'ascend', limit: 1, ...sig }),
      options.signal,
    );
  }
}
