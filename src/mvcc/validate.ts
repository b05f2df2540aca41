/**
 * Up-front validation (R3.1 steps 1–3, R4.9, section 11): turns user
 * requests into normalised ones ({@link NOp}) or throws the error etcd's
 * API layer would, in etcd's order. Nothing here reads the store;
 * state-dependent checks (leases, absent keys, revisions) happen when a
 * request is applied.
 */
import { strataError } from '../errors.ts';
import { bytesToStr, EMPTY, prefixEnd, toBytes } from './bytes.ts';
import type { NCompare, NDelete, NOp, NPut, NRange, NTxn, Span } from './request.ts';
import type {
  Compare,
  DeleteOptions,
  KeyRangeOptions,
  PutOptions,
  RangeOptions,
  SortOrder,
  SortTarget,
  TxnOp,
  TxnRequest,
} from './types.ts';

/** Default largest Txn list (R4.9). */
export const DEFAULT_MAX_TXN_OPS = 128;
/** Default largest write request, 1.5 MiB (section 11). */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

const SORT_ORDERS: ReadonlySet<string> = new Set(['none', 'ascend', 'descend']);
const SORT_TARGETS: ReadonlySet<string> = new Set(['key', 'version', 'createRevision', 'modRevision', 'value']);
const TARGETS: ReadonlySet<string> = new Set(['version', 'createRevision', 'modRevision', 'value', 'lease']);
const RESULTS: ReadonlySet<string> = new Set(['==', '!=', '>', '<']);

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

function optObject<T extends object>(x: T | undefined, what: string): Partial<T> {
  if (x === undefined) return {};
  if (!isObject(x)) throw strataError('ErrInvalidArgument', `${what} must be an object`);
  return x;
}

function int(x: unknown, what: string, dflt = 0): number {
  if (x === undefined) return dflt;
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) throw strataError('ErrInvalidArgument', `${what} must be an integer`);
  return x;
}

function bool(x: unknown, what: string): boolean {
  if (x === undefined) return false;
  if (typeof x !== 'boolean') throw strataError('ErrInvalidArgument', `${what} must be a boolean`);
  return x;
}

/**
 * The request key and range end after the client-side options (R2.3):
 * `prefix` computes the prefix end, `fromKey` sets `"\0"`; with either, an
 * empty key becomes `"\0"`. Throws ErrEmptyKey for an empty key (R2.1).
 */
export function resolveSpan(keyInput: unknown, o: KeyRangeOptions): { span: Span } {
  const prefix = bool(o.prefix, 'prefix');
  const fromKey = bool(o.fromKey, 'fromKey');
  if (!prefix && !fromKey) {
    // The common case, without byte arrays for ASCII strings.
    const start = binStr(keyInput, 'key');
    const rawEnd = o.rangeEnd === undefined ? '' : binStr(o.rangeEnd, 'rangeEnd');
    if (start.length === 0) throw strataError('ErrEmptyKey', 'key is not provided');
    if (rawEnd === '') return { span: { start, end: undefined, rawEnd: undefined } };
    return { span: { start, end: rawEnd === '\0' ? '' : rawEnd, rawEnd } };
  }
  let key = toBytes(keyInput, 'key');
  let end: Uint8Array;
  if (prefix) {
    if (key.length === 0) {
      key = new Uint8Array([0]);
      end = new Uint8Array([0]);
    } else end = prefixEnd(key);
  } else {
    if (key.length === 0) key = new Uint8Array([0]);
    end = new Uint8Array([0]);
  }
  const rawEnd = bytesToStr(end);
  return { span: { start: bytesToStr(key), end: rawEnd === '\0' ? '' : rawEnd, rawEnd } };
}

/** True if every char of `s` is below 0x80 (then its UTF-8 bytes are its chars). */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** A string or bytes input as a binary string (bytes.ts); ErrInvalidArgument for a wrong type. */
function binStr(input: unknown, what: string): string {
  // An ASCII string is its own binary string: no byte array needed.
  if (typeof input === 'string' && isAscii(input)) return input;
  return bytesToStr(toBytes(input, what));
}

/** Validate a Put (R3.1 steps 1–3). */
export function normalizePut(keyInput: unknown, valueInput: unknown, options: PutOptions | undefined): NPut {
  const o = optObject(options, 'put options');
  // No copies here: applying the put copies key and value once, into the record
  // (the caller's buffers are not kept, so it may reuse them afterwards).
  const kstr = binStr(keyInput, 'key');
  const ignoreValue = bool(o.ignoreValue, 'ignoreValue');
  const ignoreLease = bool(o.ignoreLease, 'ignoreLease');
  const value = valueInput === undefined && ignoreValue ? EMPTY : toBytes(valueInput, 'value');
  const lease = int(o.lease, 'lease');
  if (kstr.length === 0) throw strataError('ErrEmptyKey', 'key is not provided');
  if (ignoreValue && value.length !== 0) throw strataError('ErrValueProvided', 'value is provided');
  if (ignoreLease && lease !== 0) throw strataError('ErrLeaseProvided', 'lease is provided');
  return { op: 'put', kstr, value, lease, prevKv: bool(o.prevKv, 'prevKv'), ignoreValue, ignoreLease };
}

/** Validate a Range (R2.1, R2.6; a negative limit ⇒ ErrInvalidArgument). */
export function normalizeRange(keyInput: unknown, options: RangeOptions | undefined): NRange {
  const o = optObject(options, 'range options');
  const { span } = resolveSpan(keyInput, o);
  const sortOrder = o.sortOrder ?? 'none';
  const sortTarget = o.sortTarget ?? 'key';
  if (typeof sortOrder !== 'string' || !SORT_ORDERS.has(sortOrder)) throw strataError('ErrInvalidSortOption', `unknown sort order ${String(sortOrder)}`);
  if (typeof sortTarget !== 'string' || !SORT_TARGETS.has(sortTarget)) throw strataError('ErrInvalidSortOption', `unknown sort target ${String(sortTarget)}`);
  const limit = int(o.limit, 'limit');
  if (limit < 0) throw strataError('ErrInvalidArgument', 'limit must not be negative');
  return {
    op: 'range',
    span,
    revision: int(o.revision, 'revision'),
    limit,
    countOnly: bool(o.countOnly, 'countOnly'),
    keysOnly: bool(o.keysOnly, 'keysOnly'),
    sortOrder: sortOrder as SortOrder,
    sortTarget: sortTarget as SortTarget,
    minMod: int(o.minModRevision, 'minModRevision'),
    maxMod: int(o.maxModRevision, 'maxModRevision'),
    minCreate: int(o.minCreateRevision, 'minCreateRevision'),
    maxCreate: int(o.maxCreateRevision, 'maxCreateRevision'),
  };
}

/** Validate a DeleteRange (R3.5). */
export function normalizeDelete(keyInput: unknown, options: DeleteOptions | undefined): NDelete {
  const o = optObject(options, 'delete options');
  const { span } = resolveSpan(keyInput, o);
  return { op: 'deleteRange', span, prevKv: bool(o.prevKv, 'prevKv') };
}

function normalizeCompare(c: Compare): NCompare {
  if (typeof c !== 'object' || c === null) throw strataError('ErrInvalidArgument', 'compare must be an object');
  const { span } = resolveSpan(c.key, { rangeEnd: c.rangeEnd });
  if (typeof c.target !== 'string' || !TARGETS.has(c.target)) throw strataError('ErrInvalidArgument', `unknown compare target ${String(c.target)}`);
  if (typeof c.result !== 'string' || !RESULTS.has(c.result)) throw strataError('ErrInvalidArgument', `unknown compare result ${String(c.result)}`);
  let value: number | Uint8Array;
  if (c.target === 'value') value = toBytes(c.value, 'compare value');
  else value = int(c.value, 'compare value');
  return { span, target: c.target, result: c.result, value };
}

function listOf<T>(x: T[] | undefined, what: string): T[] {
  if (x === undefined) return [];
  if (!Array.isArray(x)) throw strataError('ErrInvalidArgument', `${what} must be an array`);
  return x;
}

/**
 * Validate a Txn as etcd does (R4.9): ErrTooManyOps on the largest list
 * (nested budget: maxOps minus the parent's largest list), then empty
 * compare keys, then each operation in order (success, then failure).
 * The duplicate-key check is separate ({@link checkDuplicateKeys}).
 */
export function normalizeTxn(req: TxnRequest, maxOps: number): NTxn {
  if (typeof req !== 'object' || req === null) throw strataError('ErrInvalidArgument', 'txn must be an object');
  const compare = listOf(req.compare, 'compare');
  const success = listOf(req.success, 'success');
  const failure = listOf(req.failure, 'failure');
  const largest = Math.max(compare.length, success.length, failure.length);
  if (largest > maxOps) throw strataError('ErrTooManyOps', `too many operations in txn request (${largest} > ${maxOps})`);
  const nc = compare.map(normalizeCompare);
  const budget = maxOps - largest;
  return {
    op: 'txn',
    compare: nc,
    success: success.map((op) => normalizeOp(op, budget)),
    failure: failure.map((op) => normalizeOp(op, budget)),
  };
}

function normalizeOp(op: TxnOp, maxOps: number): NOp {
  if (typeof op !== 'object' || op === null) throw strataError('ErrInvalidArgument', 'txn operation must be an object');
  if ('put' in op && op.put !== undefined) {
    const p = op.put;
    if (!isObject(p)) throw strataError('ErrInvalidArgument', 'put must be an object');
    return normalizePut(p.key, p.value, p);
  }
  if ('range' in op && op.range !== undefined) {
    if (!isObject(op.range)) throw strataError('ErrInvalidArgument', 'range must be an object');
    return normalizeRange(op.range.key, op.range);
  }
  if ('deleteRange' in op && op.deleteRange !== undefined) {
    if (!isObject(op.deleteRange)) throw strataError('ErrInvalidArgument', 'deleteRange must be an object');
    return normalizeDelete(op.deleteRange.key, op.deleteRange);
  }
  if ('txn' in op && op.txn !== undefined) return normalizeTxn(op.txn, maxOps);
  throw strataError('ErrInvalidArgument', 'txn operation must be one of put, range, deleteRange, txn');
}

/** A delete interval as etcd's duplicate check sees it: [start, rawEnd) or the point start. */
interface DelIv {
  start: string;
  end: string | undefined;
}

function hits(dels: readonly DelIv[], k: string): boolean {
  for (const d of dels) {
    if (d.end === undefined ? d.start === k : d.start <= k && k < d.end) return true;
  }
  return false;
}

function dup(): never {
  throw strataError('ErrDuplicateKey', 'duplicate key given in txn request');
}

/**
 * etcd's static duplicate-key check over one branch (R4.9): a Put key may
 * not repeat another Put or lie inside a DeleteRange of the same branch
 * tree; overlapping deletes are fine; the then- and else-branch of one
 * nested Txn may share Put keys; Ranges are ignored. Like etcd, a nested
 * Txn's deletes only constrain Puts checked after it, and a range end of
 * `"\0"` is compared as the byte string it is.
 */
export function checkDuplicateKeys(ops: readonly NOp[]): { puts: Set<string>; dels: DelIv[] } {
  const dels: DelIv[] = [];
  for (const op of ops) if (op.op === 'deleteRange') dels.push({ start: op.span.start, end: op.span.rawEnd });
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.op !== 'txn') continue;
    const t = checkDuplicateKeys(op.success);
    const e = checkDuplicateKeys(op.failure);
    for (const k of t.puts) {
      if (puts.has(k) || hits(dels, k)) dup();
      puts.add(k);
    }
    for (const k of e.puts) {
      if (puts.has(k) && !t.puts.has(k)) dup();
      if (hits(dels, k)) dup();
      puts.add(k);
    }
    dels.push(...t.dels, ...e.dels);
  }
  for (const op of ops) {
    if (op.op !== 'put') continue;
    if (puts.has(op.kstr) || hits(dels, op.kstr)) dup();
    puts.add(op.kstr);
  }
  return { puts, dels };
}

/** A fully validated top-level Txn (R4.9 static checks, in etcd's order). */
export function validateTxn(req: TxnRequest, maxOps: number): NTxn {
  const t = normalizeTxn(req, maxOps);
  checkDuplicateKeys(t.success);
  checkDuplicateKeys(t.failure);
  return t;
}

/** True when a Txn has no write anywhere in it (R4.10: a nested Txn makes it a write). */
export function isReadOnlyTxn(t: NTxn): boolean {
  return t.success.every((o) => o.op === 'range') && t.failure.every((o) => o.op === 'range');
}
