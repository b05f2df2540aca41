/**
 * Requests of the replicated apply path ({@link MVCCStore.apply}) and their
 * static validation, which a server runs before proposing a request.
 */
import { strataError } from '../errors.ts';
import type { NOp } from './request.ts';
import { checkRequestSize } from './size.ts';
import type { CompactResult, DeleteRangeRequest, DeleteResult, PutRequest, PutResult, RangeRequest, RangeResult, TxnRequest, TxnResult } from './types.ts';
import { DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_TXN_OPS, isReadOnlyTxn, normalizeDelete, normalizePut, normalizeRange, validateTxn } from './validate.ts';

/** A request for `MVCCStore.apply` (the replicated apply path). */
export type KVRequest =
  | { put: PutRequest }
  | { range: RangeRequest }
  | { deleteRange: DeleteRangeRequest }
  | { txn: TxnRequest }
  | { compact: { revision: number; physical?: boolean } }
  /** Delete every key attached to a lease, at one revision (R7.4; see `MVCCStore.revokeLease`). */
  | { revokeLease: { id: number } };

/** The result of `MVCCStore.apply`, keyed like the request. */
export type KVResponse =
  | { put: PutResult }
  | { range: RangeResult }
  | { deleteRange: DeleteResult }
  | { txn: TxnResult }
  | { compact: CompactResult }
  | { revokeLease: DeleteResult };

/** One item's outcome in `MVCCStore.applyBatch`: its response, or the error it failed with (nothing changed). */
export type KVOutcome = { readonly ok: true; readonly value: KVResponse } | { readonly ok: false; readonly error: Error };

/** Static validation of a request without applying it (what a server checks before proposing). */
export function validateRequest(request: KVRequest, limits: { maxTxnOps?: number; maxRequestBytes?: number } = {}): void {
  const maxOps = limits.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
  const maxBytes = limits.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  let n: NOp;
  if ('put' in request) n = normalizePut(request.put.key, request.put.value, request.put);
  else if ('deleteRange' in request) n = normalizeDelete(request.deleteRange.key, request.deleteRange);
  else if ('range' in request) {
    normalizeRange(request.range.key, request.range);
    return;
  } else if ('txn' in request) {
    const t = validateTxn(request.txn, maxOps);
    if (isReadOnlyTxn(t)) return;
    n = t;
  } else if ('compact' in request) {
    if (!Number.isSafeInteger(request.compact.revision)) throw strataError('ErrInvalidArgument', 'revision must be an integer');
    return;
  } else if ('revokeLease' in request) {
    if (!Number.isSafeInteger(request.revokeLease.id)) throw strataError('ErrInvalidArgument', 'lease id must be an integer');
    return;
  } else throw strataError('ErrInvalidArgument', 'unknown request');
  checkRequestSize(n, maxBytes);
}
