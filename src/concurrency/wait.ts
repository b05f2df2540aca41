/**
 * Waiting helpers shared by the recipes: wait for one event on a key or
 * prefix, for the deletion of a key, and for every key created before a
 * revision to go away (etcd's waitDeletes).
 */
import { strataError } from '../errors.ts';
import type { KeyValue, WatchEvent } from '../mvcc/types.ts';
import type { ResponseHeader } from '../server/types.ts';
import type { KVClient } from './client.ts';

const decoder = new TextDecoder();

/** Bytes to a string (UTF-8). */
export function str(b: Uint8Array): string {
  return decoder.decode(b);
}

/** Throw ErrAborted if `signal` has fired. */
export function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw strataError('ErrAborted', `${what} aborted`);
}

/** Which event {@link waitEvent} waits for. */
export interface WaitEventOptions {
  /** First revision to look at (inclusive). */
  readonly startRevision: number;
  /** Event type to wait for. */
  readonly type: 'put' | 'delete';
  /** Treat `key` as a prefix. */
  readonly prefix?: boolean;
  /** Stop waiting (the promise then resolves to undefined). */
  readonly signal?: AbortSignal;
}

/**
 * The first event of `type` on `key` (or under it, with `prefix`) at or after
 * `startRevision`; undefined if the wait was aborted or the watch ended.
 * Rejects with ErrCompacted when the history it needs is gone.
 */
export async function waitEvent(client: KVClient, key: string, options: WaitEventOptions): Promise<WatchEvent | undefined> {
  const ctl = new AbortController();
  const signal = options.signal !== undefined ? AbortSignal.any([options.signal, ctl.signal]) : ctl.signal;
  try {
    if (signal.aborted) return undefined;
    for await (const resp of client.watch(key, { startRevision: options.startRevision, prefix: options.prefix === true, signal })) {
      if (resp.canceled === true) {
        throw strataError('ErrCompacted', `watch on ${key} cancelled: ${resp.cancelReason ?? 'compacted'}`, {
          compactRevision: resp.compactRevision ?? 0,
        });
      }
      const ev = resp.events.find((e) => e.type === options.type);
      if (ev !== undefined) return ev;
    }
    return undefined;
  } finally {
    ctl.abort();
  }
}

/**
 * Wait until `key` is deleted (events from `startRevision`). With `own`,
 * also watch the caller's own key: if that one is deleted first (its
 * session's lease expired or was revoked), reject with ErrSessionExpired.
 * Rejects with ErrAborted when `signal` fires, ErrStopped when the client
 * closes.
 */
export async function waitDelete(
  client: KVClient,
  key: string,
  startRevision: number,
  options: { signal?: AbortSignal; own?: string } = {},
): Promise<void> {
  const ctl = new AbortController();
  const signal = options.signal !== undefined ? AbortSignal.any([options.signal, ctl.signal]) : ctl.signal;
  const waits: Array<Promise<'target' | 'own' | 'ended'>> = [
    waitEvent(client, key, { startRevision, type: 'delete', signal }).then((e) => (e === undefined ? 'ended' : 'target')),
  ];
  if (options.own !== undefined && options.own !== key) {
    waits.push(waitEvent(client, options.own, { startRevision, type: 'delete', signal }).then((e) => (e === undefined ? 'ended' : 'own')));
  }
  let outcome: 'target' | 'own' | 'ended';
  try {
    outcome = await Promise.race(waits);
  } finally {
    ctl.abort();
    for (const w of waits) w.catch(() => undefined);
  }
  if (outcome === 'target') return;
  checkAborted(options.signal, 'wait');
  if (outcome === 'own') throw strataError('ErrSessionExpired', `own key ${options.own ?? ''} was deleted while waiting`);
  throw strataError('ErrStopped', 'watch ended');
}

/**
 * etcd's waitDeletes: until no key under `prefix` has a create revision
 * `<= maxCreateRevision`, wait for the deletion of the newest such key.
 * Returns the header of the last (empty) read.
 */
export async function waitDeletes(
  client: KVClient,
  prefix: string,
  maxCreateRevision: number,
  options: { signal?: AbortSignal; own?: string } = {},
): Promise<ResponseHeader> {
  const sig = options.signal !== undefined ? { signal: options.signal } : {};
  for (;;) {
    checkAborted(options.signal, 'wait');
    const newest = { prefix: true, maxCreateRevision, sortTarget: 'createRevision', sortOrder: 'descend', limit: 1 } as const;
    let last: KeyValue | undefined;
    let header: ResponseHeader;
    if (options.own === undefined) {
      const r = await client.get(prefix, { ...newest, ...sig });
      last = r.kvs[0];
      header = r.header;
    } else {
      // Read my own key in the same snapshot: if it is already gone, no watch would ever tell.
      const r = await client.txn({ success: [{ range: { key: options.own } }, { range: { key: prefix, ...newest } }] }, sig);
      const [mine, pred] = r.responses;
      if (mine !== undefined && 'range' in mine && mine.range.kvs.length === 0) {
        throw strataError('ErrSessionExpired', `own key ${options.own} is gone`);
      }
      last = pred !== undefined && 'range' in pred ? pred.range.kvs[0] : undefined;
      header = r.header;
    }
    if (last === undefined) return header;
    await waitDelete(client, str(last.key), header.revision, options);
  }
}

/**
 * Delete `key` only if its mod revision is still `modRevision` (claiming a
 * queue item, R8.7). True when this call deleted it.
 */
export async function deleteRevKey(client: KVClient, key: string, modRevision: number, signal?: AbortSignal): Promise<boolean> {
  const r = await client.txn(
    { compare: [{ key, target: 'modRevision', result: '==', value: modRevision }], success: [{ deleteRange: { key } }] },
    signal !== undefined ? { signal } : {},
  );
  return r.succeeded;
}

let lastNanos = 0n;

/** Unix time in nanoseconds, strictly increasing within this process (unique key names). */
export function uniqueNanos(): bigint {
  const now = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  lastNanos = now > lastNanos ? now : lastNanos + 1n;
  return lastNanos;
}

/** A key that was created by {@link createUniqueKey}. */
export interface CreatedKey {
  readonly key: string;
  /** The create (= mod) revision. */
  readonly revision: number;
}

/**
 * Create `prefix/<unix-nanos>` if absent (retrying with a new name when it
 * exists), optionally attached to `lease` (etcd's newUniqueKV / ephemeral key).
 */
export async function createUniqueKey(client: KVClient, prefix: string, value: string, lease = 0, signal?: AbortSignal): Promise<CreatedKey> {
  for (;;) {
    checkAborted(signal, 'create');
    const key = `${prefix}/${uniqueNanos().toString()}`;
    const r = await client.txn(
      {
        compare: [{ key, target: 'createRevision', result: '==', value: 0 }],
        success: [{ put: { key, value, ...(lease !== 0 ? { lease } : {}) } }],
      },
      signal !== undefined ? { signal } : {},
    );
    if (r.succeeded) return { key, revision: r.header.revision };
  }
}
