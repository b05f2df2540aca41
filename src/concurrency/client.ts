/**
 * The client surface the concurrency recipes need (spec section 8: built only
 * on the KV, Watch and Lease APIs of R1–R7). {@link StrataNode} satisfies it
 * as is; any other client (a remote one, a wrapper that adds retries or
 * metrics) can be adapted to it.
 */
import type { BytesInput, DeleteOptions, PutOptions, TxnRequest, WatchOptions, WatchResponse } from '../mvcc/types.ts';
import type {
  CallOptions,
  DeleteResponse,
  GetOptions,
  GetResponse,
  LeaseGrantResponse,
  LeaseRevokeResponse,
  PutResponse,
  TxnCallOptions,
  TxnCallResponse,
} from '../server/types.ts';

/** A running lease keep-alive: renews until closed or until the lease is gone. */
export interface KeepAliveHandle {
  /** Resolves when renewals stop (closed, lease gone, or client closed). */
  readonly done: Promise<void>;
  /** Stop renewing. */
  close(): void;
}

/** The Lease service calls the recipes use (R7.1, R7.3, R7.4). */
export interface LeaseClient {
  /** Grant a lease of `ttl` seconds (or with the given id). */
  grant(ttl: number, options?: { id?: number } & CallOptions): Promise<LeaseGrantResponse>;
  /** Revoke a lease, deleting its keys. */
  revoke(id: number, options?: CallOptions): Promise<LeaseRevokeResponse>;
  /** Keep a lease alive until the handle is closed or the lease is gone. */
  keepAlive(id: number, options?: CallOptions): KeepAliveHandle;
}

/**
 * What a recipe needs from a client: linearizable KV calls, transactions,
 * watches and leases with etcd's semantics (spec R1–R7).
 */
export interface KVClient {
  /** Put a key (section 3). */
  put(key: BytesInput, value: BytesInput, options?: PutOptions & CallOptions): Promise<PutResponse>;
  /** Range read (section 2); must be linearizable unless `serializable` is set. */
  get(key: BytesInput, options?: GetOptions): Promise<GetResponse>;
  /** Delete a key or range (R3.5). */
  delete(key: BytesInput, options?: DeleteOptions & CallOptions): Promise<DeleteResponse>;
  /** A transaction (section 4). */
  txn(req: TxnRequest, options?: TxnCallOptions): Promise<TxnCallResponse>;
  /** Watch a key or prefix (section 6); the iteration ends when `signal` aborts. */
  watch(key: BytesInput, options?: WatchOptions): AsyncIterable<WatchResponse>;
  /** The Lease service. */
  readonly lease: LeaseClient;
}
