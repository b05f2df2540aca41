/**
 * Public request options and response shapes of {@link StrataNode}. KV
 * results are the MVCC store's, each with a response header (etcd's
 * `ResponseHeader`).
 */
import type { NodeId } from '../raft/types.ts';
import type {
  CompactResult,
  DeleteResult,
  HashKVResult,
  PutResult,
  RangeOptions,
  RangeResult,
  TxnResult,
} from '../mvcc/types.ts';
import type { AlarmType } from './commands.ts';

/** etcd's response header. */
export interface ResponseHeader {
  /** The cluster's id. */
  readonly clusterId: NodeId;
  /** The id of the member that answered. */
  readonly memberId: NodeId;
  /** The store revision the answer reflects (R1.9). */
  readonly revision: number;
  /** The member's current Raft term. */
  readonly raftTerm: number;
}

/** Options every call that waits accepts. */
export interface CallOptions {
  /** Abort the wait (the call then rejects with ErrAborted; a write may still be applied, R10.5). */
  readonly signal?: AbortSignal;
}

/** Options of `get` (a range). */
export interface GetOptions extends RangeOptions, CallOptions {
  /** Serve from local applied state without a ReadIndex round (R2.11). Default false. */
  readonly serializable?: boolean;
}

/** Options of a read-only txn. */
export interface TxnCallOptions extends CallOptions {
  /** A read-only txn is served locally when true (R4.10). Default false. */
  readonly serializable?: boolean;
}

/** Options of `compact`. */
export interface CompactCallOptions extends CallOptions {
  /** Wait until the compacted records are physically removed (R5.6). */
  readonly physical?: boolean;
}

/** With a header. */
export type WithHeader<T> = T & { readonly header: ResponseHeader };

export type PutResponse = WithHeader<PutResult>;
export type GetResponse = WithHeader<RangeResult>;
export type DeleteResponse = WithHeader<DeleteResult>;
/** A txn call's result with its header (named apart from the MVCC's per-operation `TxnResponse`). */
export type TxnCallResponse = WithHeader<TxnResult>;
export type CompactResponse = WithHeader<CompactResult>;
export type HashKVResponse = WithHeader<HashKVResult>;

/** Lease grant response (R7.1). */
export interface LeaseGrantResponse {
  readonly id: number;
  /** The granted TTL, possibly raised to the minimum. */
  readonly ttl: number;
  readonly header: ResponseHeader;
}

/** Lease revoke response. */
export interface LeaseRevokeResponse {
  readonly header: ResponseHeader;
}

/** Keep-alive response (R7.3): ttl is the granted TTL, 0 when the lease is gone. */
export interface LeaseKeepAliveResponse {
  readonly id: number;
  readonly ttl: number;
  readonly header: ResponseHeader;
}

/** TimeToLive response (R7.5): ttl -1 for an unknown lease. */
export interface LeaseTimeToLiveResponse {
  readonly id: number;
  readonly ttl: number;
  readonly grantedTtl: number;
  readonly keys?: Uint8Array[];
  readonly header: ResponseHeader;
}

/** Leases() response. */
export interface LeaseListResponse {
  readonly leases: ReadonlyArray<{ readonly id: number }>;
  readonly header: ResponseHeader;
}

/** Member status (R9.5), as `etcdctl endpoint status` shows it. */
export interface MemberStatus {
  readonly memberId: NodeId;
  readonly name: string;
  /** Known leader, 0 when none. */
  readonly leader: NodeId;
  readonly raftTerm: number;
  /** Committed index. */
  readonly raftIndex: number;
  readonly appliedIndex: number;
  /** Approximate size of the KV data in bytes. */
  readonly dbSize: number;
  readonly dbSizeInUse: number;
  readonly dbSizeQuota: number;
  readonly isLearner: boolean;
  /** Strata version. */
  readonly version: string;
  /** Store revision. */
  readonly revision: number;
  /** Active alarms, as strings (`"NOSPACE"`, …). */
  readonly errors: readonly string[];
}

/** An alarm as listed (R9.7). */
export interface AlarmMember {
  readonly memberId: NodeId;
  readonly alarm: AlarmType;
}
