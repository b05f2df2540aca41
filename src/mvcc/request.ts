/**
 * Normalised requests: what validation produces and execution consumes.
 * Keys are binary strings (bytes.ts) next to their bytes; a key span is
 * `[start, end)` where `end === undefined` selects the single key `start`
 * and `end === ''` means unbounded (etcd's range end `"\0"`).
 */
import type { SortOrder, SortTarget, CompareResult, CompareTarget } from './types.ts';

/** A selection of keys (R2.2). */
export interface Span {
  start: string;
  /** undefined: the single key; '': every key >= start; else exclusive end. */
  end: string | undefined;
  /** The request's range end as sent (for the duplicate-key check, R4.9). */
  rawEnd: string | undefined;
}

/** A validated Put. */
export interface NPut {
  op: 'put';
  /** The key as a binary string (its bytes are written into the record from it). */
  kstr: string;
  value: Uint8Array;
  lease: number;
  prevKv: boolean;
  ignoreValue: boolean;
  ignoreLease: boolean;
}

/** A validated Range. */
export interface NRange {
  op: 'range';
  span: Span;
  revision: number;
  limit: number;
  countOnly: boolean;
  keysOnly: boolean;
  sortOrder: SortOrder;
  sortTarget: SortTarget;
  minMod: number;
  maxMod: number;
  minCreate: number;
  maxCreate: number;
}

/** A validated DeleteRange. */
export interface NDelete {
  op: 'deleteRange';
  span: Span;
  prevKv: boolean;
}

/** A validated compare. */
export interface NCompare {
  span: Span;
  target: CompareTarget;
  result: CompareResult;
  /** bytes for 'value', a number otherwise. */
  value: number | Uint8Array;
}

/** A validated Txn. */
export interface NTxn {
  op: 'txn';
  compare: NCompare[];
  success: NOp[];
  failure: NOp[];
}

/** Any validated operation. */
export type NOp = NPut | NRange | NDelete | NTxn;
