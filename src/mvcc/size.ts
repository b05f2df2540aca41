/**
 * Encoded size of a write request as etcd measures it (section 11,
 * ErrRequestTooLarge): the protobuf size of the request wrapped in etcd's
 * internal Raft request with its header. Computed from the normalised
 * request, so the limit is checked before anything is applied.
 */
import { strataError } from '../errors.ts';
import type { NCompare, NOp, NTxn, Span } from './request.ts';

function varint(n: number): number {
  if (n < 0) return 10;
  let s = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    s++;
  }
  return s;
}

/** A length-delimited field (1-byte tag) of `len` bytes; empty fields are not sent. */
function field(len: number, tagBytes = 1): number {
  return len === 0 ? 0 : tagBytes + varint(len) + len;
}

/** A varint field; zero is not sent. */
function vfield(n: number, tagBytes = 1): number {
  return n === 0 ? 0 : tagBytes + varint(n);
}

function flag(b: boolean): number {
  return b ? 2 : 0;
}

function spanSize(s: Span): number {
  return field(s.start.length) + field(s.rawEnd?.length ?? 0);
}

function compareSize(c: NCompare): number {
  let n = vfield(c.result === '==' ? 0 : c.result === '>' ? 1 : c.result === '<' ? 2 : 3);
  n += vfield(['version', 'createRevision', 'modRevision', 'value', 'lease'].indexOf(c.target));
  n += field(c.span.start.length);
  n += typeof c.value === 'number' ? vfield(c.value) : field(c.value.length);
  n += field(c.span.rawEnd?.length ?? 0, 2);
  return n;
}

/** Protobuf size of one operation's request message. */
export function opSize(op: NOp): number {
  switch (op.op) {
    case 'put':
      return field(op.kstr.length) + field(op.value.length) + vfield(op.lease) + flag(op.prevKv) + flag(op.ignoreValue) + flag(op.ignoreLease);
    case 'range':
      return (
        spanSize(op.span) + vfield(op.limit) + vfield(op.revision) + vfield(op.sortOrder === 'none' ? 0 : op.sortOrder === 'ascend' ? 1 : 2) +
        vfield(['key', 'version', 'createRevision', 'modRevision', 'value'].indexOf(op.sortTarget)) + flag(op.keysOnly) + flag(op.countOnly) +
        vfield(op.minMod) + vfield(op.maxMod) + vfield(op.minCreate) + vfield(op.maxCreate)
      );
    case 'deleteRange':
      return spanSize(op.span) + flag(op.prevKv);
    case 'txn':
      return txnSize(op);
  }
}

function txnSize(t: NTxn): number {
  let n = 0;
  for (const c of t.compare) n += field(compareSize(c));
  for (const o of t.success) n += field(field(opSize(o)));
  for (const o of t.failure) n += field(field(opSize(o)));
  return n;
}

/** Bytes of etcd's internal request header (a request id). */
const HEADER = 2 + 1 + 1 + 9;

/** Size of the whole internal Raft request carrying `op`. */
export function requestSize(op: NOp): number {
  return HEADER + field(opSize(op));
}

/** Throw ErrRequestTooLarge when the encoded request exceeds `max` bytes. */
export function checkRequestSize(op: NOp, max: number): void {
  const n = requestSize(op);
  if (n > max) throw strataError('ErrRequestTooLarge', `request is too large (${n} > ${max} bytes)`);
}
