/**
 * Public shapes of the MVCC store: key-values, request options, results,
 * transaction compares/operations/responses and watch responses. These are
 * the exact shapes of issue #3; field names follow etcd's v3 API in
 * camelCase. Optional result fields are omitted (never `undefined`) when
 * etcd would leave them unset.
 */

import type { Clock } from '../util/clock.ts';

/** Bytes, or a string that is encoded as UTF-8. */
export type BytesInput = string | Uint8Array;

/** One key's state at one revision (etcd `mvccpb.KeyValue`). */
export interface KeyValue {
  key: Uint8Array;
  value: Uint8Array;
  /** Revision of the Put that started this key's current generation (R1.6). */
  createRevision: number;
  /** Revision of the last change of the key (R1.3). */
  modRevision: number;
  /** Number of Puts in the current generation, 1 after creation (R1.6, R1.7). */
  version: number;
  /** Lease id the key is attached to, 0 for none (R3.3). */
  lease: number;
}

/** Options of a Put (R3.1–R3.4). */
export interface PutOptions {
  /** Attach the key to this lease; 0 (default) detaches it from any lease. */
  lease?: number;
  /** Return the previous key-value, if the key was live. */
  prevKv?: boolean;
  /** Keep the current value (the request's value must be empty). */
  ignoreValue?: boolean;
  /** Keep the current lease (the request's lease must be 0). */
  ignoreLease?: boolean;
}

/** Result of a Put. `revision` is the new revision (R1.9). */
export interface PutResult {
  revision: number;
  prevKv?: KeyValue;
}

/** Sort order of a Range (R2.6). */
export type SortOrder = 'none' | 'ascend' | 'descend';
/** Sort target of a Range (R2.6). */
export type SortTarget = 'key' | 'version' | 'createRevision' | 'modRevision' | 'value';

/** Key selection shared by Range, DeleteRange and Watch (R2.2, R2.3). */
export interface KeyRangeOptions {
  /** End of the half-open interval `[key, rangeEnd)`; `"\0"` means every key `>= key`. */
  rangeEnd?: BytesInput;
  /** Select every key with `key` as prefix (the client computes the range end, R2.3). */
  prefix?: boolean;
  /** Select every key `>= key` (range end `"\0"`). */
  fromKey?: boolean;
}

/** Options of a Range (section 2). */
export interface RangeOptions extends KeyRangeOptions {
  /** Read at this revision; `<= 0` (default) reads the latest state (R2.4). */
  revision?: number;
  /** Maximum number of kvs returned; 0 (default) means unlimited; negative ⇒ ErrInvalidArgument. */
  limit?: number;
  countOnly?: boolean;
  keysOnly?: boolean;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

/** Result of a Range. `revision` is the store's current revision, even for historical reads (R1.9). */
export interface RangeResult {
  kvs: KeyValue[];
  /** Live keys in the range at the read revision; ignores limit and filters (R2.9). */
  count: number;
  more: boolean;
  revision: number;
}

/** Options of a DeleteRange (R3.5). */
export interface DeleteOptions extends KeyRangeOptions {
  prevKv?: boolean;
}

/** Result of a DeleteRange. `prevKvs` is present iff `prevKv` was requested. */
export interface DeleteResult {
  deleted: number;
  prevKvs?: KeyValue[];
  revision: number;
}

/** Field a compare looks at (R4.2). */
export type CompareTarget = 'version' | 'createRevision' | 'modRevision' | 'value' | 'lease';
/** Comparison operator, always `field OP value` (R4.2). */
export type CompareResult = '==' | '!=' | '>' | '<';

/** One Txn compare (R4.2–R4.4). */
export interface Compare {
  key: BytesInput;
  rangeEnd?: BytesInput;
  target: CompareTarget;
  result: CompareResult;
  /** A number for version/createRevision/modRevision/lease, bytes or a string for value. */
  value: number | string | Uint8Array;
}

/** A Put inside a Txn. */
export interface PutRequest extends PutOptions {
  key: BytesInput;
  value: BytesInput;
}
/** A Range inside a Txn. */
export interface RangeRequest extends RangeOptions {
  key: BytesInput;
}
/** A DeleteRange inside a Txn. */
export interface DeleteRangeRequest extends DeleteOptions {
  key: BytesInput;
}
/** A Txn request (R4.1). Missing lists are empty. */
export interface TxnRequest {
  compare?: Compare[];
  success?: TxnOp[];
  failure?: TxnOp[];
}

/** One operation of a Txn branch. */
export type TxnOp =
  | { put: PutRequest }
  | { range: RangeRequest }
  | { deleteRange: DeleteRangeRequest }
  | { txn: TxnRequest };

/** One response per executed operation, in order. */
export type TxnResponse =
  | { put: PutResult }
  | { range: RangeResult }
  | { deleteRange: DeleteResult }
  | { txn: TxnResult };

/**
 * Result of a Txn (R4.8). Only the top-level `revision` has meaning: as in
 * etcd, a nested Txn's result has revision 0, while the Put, Range and
 * DeleteRange results inside a Txn carry the revision of the Txn's view
 * when they ran (the new revision once the Txn has changed something).
 */
export interface TxnResult {
  succeeded: boolean;
  responses: TxnResponse[];
  revision: number;
}

/** Options of a Compact (section 5). */
export interface CompactOptions {
  /** Wait until the records are physically deleted from the backend (R5.6). */
  physical?: boolean;
}

/** Result of a Compact: the current revision (R5.1, no new revision). */
export interface CompactResult {
  revision: number;
}

/** Result of HashKV (R9.9). */
export interface HashKVResult {
  hash: number;
  /** The compact revision; -1 if the store was never compacted (as etcd reports it). */
  compactRevision: number;
  hashRevision: number;
  /** The store's current revision (the response header). */
  revision: number;
}

/** Watch filter: drop PUT or DELETE events on the server side (R6.7). */
export type WatchFilter = 'noput' | 'nodelete';

/** Options of a Watch (section 6). */
export interface WatchOptions extends KeyRangeOptions {
  /** 0 (default): events after the current revision; otherwise replay from it, inclusive (R6.2). */
  startRevision?: number;
  prevKv?: boolean;
  filters?: WatchFilter[];
  /** Send empty responses periodically while synced and idle (R6.9). */
  progressNotify?: boolean;
  /** Abort to cancel the watch; the iteration then ends. */
  signal?: AbortSignal;
}

/** One watch event (R6.4). */
export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
  prevKv?: KeyValue;
}

/** One watch response (R6.5). */
export interface WatchResponse {
  events: WatchEvent[];
  /** Live: the events' revision; catch-up or progress: the store's current revision; 0 on a compacted cancel (as etcd's header). */
  revision: number;
  /** Set when the watch is cancelled because it needs compacted history (R6.8). */
  compactRevision?: number;
  /** Set on the last response of a watch the store cancelled. */
  canceled?: boolean;
  /** Why the store cancelled the watch (for example "compacted"). */
  cancelReason?: string;
}

/** Options of {@link openMVCCStore}. */
export interface MVCCStoreOptions {
  /** Directory of a classic-level database; without it the store lives in memory. */
  path?: string;
  /**
   * Lease existence check used by Put (R3.1 step 4, R4.9). Without a hook any
   * non-zero lease is accepted: the store only records lease ids on keys.
   */
  leaseExists?: (id: number) => boolean;
  /** Largest list of a Txn (R4.9). Default 128. */
  maxTxnOps?: number;
  /** Largest encoded write request in bytes (R11). Default 1.5 MiB. */
  maxRequestBytes?: number;
  /** Progress notification interval for watches with `progressNotify`, in ms (R6.9). Default 10 minutes. */
  progressNotifyIntervalMs?: number;
  /** Responses buffered per watcher before it falls back to catching up from the store (R6.12). Default 128. */
  watchBufferSize?: number;
  /** Records deleted per physical compaction batch (R5.6). Default 1000. */
  compactionBatchSize?: number;
  /** Pause between physical compaction batches in ms (R5.6). Default 10. */
  compactionPauseMs?: number;
  /** Decoded records kept in memory for reads. Default 10000; 0 disables the cache. */
  cacheEntries?: number;
  /** Clock for watch progress notifications and the pauses of physical compaction. Default: the real clock. */
  clock?: Clock;
}
