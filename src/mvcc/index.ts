/**
 * Strata's MVCC store: etcd's multi-version key-value store with
 * revisions, transactions, compaction, watches, HashKV and snapshots.
 *
 * Entry point: {@link openMVCCStore} (memory without `path`, classic-level
 * with it). Operations return promises; each one takes effect, in call
 * order, when it is called (the promise settles once its batch is in the
 * backend), so un-awaited calls still apply in order. Errors are promise
 * rejections with `StrataError` codes, except `watch()`, which throws at
 * once for malformed input. Returned key-value objects are copies, but their
 * `key`/`value` bytes are read-only views of stored records; watch events
 * are shared by all watchers; mutate neither.
 *
 * Watch semantics next to etcd's gRPC stream: each `watch()` is its own
 * stream (there is no "created" response; the iterator simply starts).
 * Where etcd answers a create request with created+canceled (range end <=
 * key: "mvcc: watcher range is empty"; negative start revision; start below
 * the compact revision, with `compactRevision`), the iterator yields that one
 * `{ canceled: true, … }` response and ends. Progress notifications
 * (`progressNotify`) are per watcher: each idle, synced watcher gets one
 * empty response per interval of the injected clock (no jitter);
 * `watcher.requestProgress()` is etcd's WatchProgressRequest for that one
 * watcher (answered only while it is synced).
 *
 * Notes for the server:
 * - Leases: the store records lease ids on keys and checks existence only
 *   through the optional `leaseExists` hook (without it any non-zero lease
 *   is accepted). `store.keysForLease(id)` lists attached keys;
 *   `store.revokeLease(id)` deletes them in one revision (R7.4).
 * - Replication: `validateRequest(req)` runs the static checks before
 *   proposing; `store.apply(req, { appliedIndex })` applies a committed
 *   request deterministically and persists `appliedIndex` in the same batch;
 *   `store.applyBatch(reqs, { appliedIndex })` applies a list (e.g. all
 *   committed entries of one Ready) as ONE backend batch and returns one
 *   `{ ok, value } | { ok: false, error }` outcome per request.
 * - Snapshots: `await snapshot()` gives one Uint8Array, `for await (const chunk of snapshot())`
 *   streams it in 1 MiB chunks; `restore()` takes either (or the bytes).
 */
export { openMVCCStore, MVCCStore } from './store.ts';
export { validateRequest } from './apply.ts';
export type { KVOutcome, KVRequest, KVResponse } from './apply.ts';
export type { SnapshotInput, SnapshotStream } from './snapshot.ts';
export { Watcher } from './watcher.ts';
export { MemoryBackend } from './backend.ts';
export type { Backend, BackendRecord, BackendWrite } from './backend.ts';
export { LevelBackend } from './level-backend.ts';
export { prefixEnd } from './bytes.ts';
export { DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_TXN_OPS } from './validate.ts';
export type * from './types.ts';
