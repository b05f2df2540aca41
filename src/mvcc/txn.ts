/**
 * A write transaction over the store (etcd's storeTxnWrite) and Txn
 * execution (section 4). All changes of one WriteTxn share the main
 * revision `beginRev + 1`, with sub-revisions in execution order (R1.2,
 * R4.7). Changes go to the key index at once, so later operations of the
 * same Txn see them (R4.6); reads at `beginRev` still see the state before
 * the Txn, which is what compares use (R4.1, R4.5).
 *
 * Execution never fails half-way: every state-dependent error (R4.9) is
 * checked before the first change.
 */
import { strataError } from '../errors.ts';
import type { BackendRecord } from './backend.ts';
import { compareBytes, EMPTY, strToBytes } from './bytes.ts';
import type { IndexEntry } from './key-index.ts';
import { executeRange, visitLive, type Reader } from './range.ts';
import { decodeRecord, encodePutStr, encodeTombstone } from './record.ts';
import type { NCompare, NDelete, NOp, NPut, NRange, NTxn } from './request.ts';
import type { Revision } from './revision.ts';
import type { TreeIndex } from './tree-index.ts';
import type { DeleteResult, KeyValue, PutResult, RangeResult, TxnResponse, TxnResult } from './types.ts';

/** A change as watchers see it. */
export interface StoreEvent {
  type: 'put' | 'delete';
  /** Key as a binary string. */
  kstr: string;
  kv: KeyValue;
}

/** What a write transaction needs from the store. */
export interface TxnContext extends Reader {
  readonly index: TreeIndex;
  readonly currentRev: number;
  readonly compactRev: number;
  /** Lease existence (R3.1 step 4). */
  leaseExists(id: number): boolean;
  /** True when watchers exist (otherwise no events are collected). */
  readonly watching: boolean;
  /** Record that `kstr` is now attached to `lease` (0: to none). */
  attachLease(kstr: string, lease: number): void;
}

/** Check a Range's revision against the store (R2.4): ErrFutureRev, then ErrCompacted. */
export function checkRangeRev(revision: number, currentRev: number, compactRev: number): void {
  if (revision > currentRev) throw strataError('ErrFutureRev', `required revision ${revision} is a future revision`);
  if (revision > 0 && revision < compactRev) throw strataError('ErrCompacted', `required revision ${revision} has been compacted`);
}

/** One write transaction: collects records and events at one revision. */
export class WriteTxn implements Reader {
  readonly beginRev: number;
  readonly records: BackendRecord[] = [];
  readonly events: StoreEvent[] = [];
  private readonly ctx: TxnContext;

  constructor(ctx: TxnContext) {
    this.ctx = ctx;
    this.beginRev = ctx.currentRev;
  }

  get index(): TreeIndex {
    return this.ctx.index;
  }

  /** The revision this Txn's reads see: beginRev, or beginRev + 1 once it changed something. */
  get rev(): number {
    return this.records.length > 0 ? this.beginRev + 1 : this.beginRev;
  }

  load(e: IndexEntry): KeyValue {
    if (e.rev.main === this.beginRev + 1) {
      // Written by this Txn (records are in sub-revision order).
      const d = decodeRecord(this.records[e.rev.sub]!.value, e.rev.main);
      if (!d.tombstone) return d.kv;
    }
    return this.ctx.load(e);
  }

  private nextRev(): Revision {
    return { main: this.beginRev + 1, sub: this.records.length };
  }

  /** Apply a Put (checks done). The record holds the only copy of the key and value bytes. */
  put(p: NPut): PutResult {
    const ctx = this.ctx;
    const ki = ctx.index.getOrCreate(p.kstr);
    const cur = ki.latest();
    const prev = cur !== undefined && (p.prevKv || p.ignoreValue || p.ignoreLease) ? this.load(cur) : undefined;
    const main = this.beginRev + 1;
    const sub = this.records.length;
    const createRevision = cur === undefined ? main : cur.createRevision;
    const version = cur === undefined ? 1 : cur.version + 1;
    const lease = p.ignoreLease && prev !== undefined ? prev.lease : p.lease;
    const inValue = p.ignoreValue && prev !== undefined ? prev.value : p.value;
    const rec = encodePutStr(p.kstr, inValue, createRevision, version, lease);
    ki.put({ main, sub }, createRevision, version);
    this.records.push({ main, sub, value: rec });
    if (ctx.watching) {
      // Key and value are views into the record; events are shared by watchers (read-only).
      const vOff = rec.length - inValue.length;
      const kv: KeyValue = { key: rec.subarray(vOff - p.kstr.length, vOff), value: rec.subarray(vOff), createRevision, modRevision: main, version, lease };
      this.events.push({ type: 'put', kstr: p.kstr, kv });
    }
    ctx.attachLease(p.kstr, lease);
    const res: PutResult = { revision: main };
    if (p.prevKv && prev !== undefined) res.prevKv = prev;
    return res;
  }

  /** Apply a DeleteRange: tombstones in key order under one main revision (R3.5). */
  deleteRange(d: NDelete): DeleteResult {
    const victims: { kstr: string; e: IndexEntry }[] = [];
    visitLive(this.ctx.index, d.span, this.rev, (ki, e) => {
      victims.push({ kstr: ki.key, e });
    });
    const prevKvs: KeyValue[] = [];
    for (const { kstr, e } of victims) {
      if (d.prevKv) prevKvs.push(this.load(e));
      const rev = this.nextRev();
      const key = strToBytes(kstr);
      this.ctx.index.get(kstr)!.tombstone(rev);
      this.records.push({ main: rev.main, sub: rev.sub, value: encodeTombstone(key) });
      if (this.ctx.watching) this.events.push({
        type: 'delete',
        kstr,
        kv: { key, value: EMPTY, createRevision: 0, modRevision: rev.main, version: 0, lease: 0 },
      });
      this.ctx.attachLease(kstr, 0);
    }
    const res: DeleteResult = { deleted: victims.length, revision: this.rev };
    if (d.prevKv) res.prevKvs = prevKvs;
    return res;
  }

  /** Run a Range inside this Txn (checks done): it sees the Txn's earlier changes (R4.6). */
  range(r: NRange): RangeResult {
    const rev = this.rev;
    return executeRange(this, r, r.revision > 0 ? r.revision : rev, rev);
  }
}

/** The branch decisions of a Txn and its nested Txns, all taken on the state before it (R4.5). */
interface Path {
  ok: boolean;
  /** For each op of the executed branch: the nested Txn's path, if it is one. */
  nested: (Path | undefined)[];
}

function compareOne(c: NCompare, kv: KeyValue): boolean {
  let r: number;
  switch (c.target) {
    case 'value':
      r = compareBytes(kv.value, c.value as Uint8Array);
      break;
    case 'version':
      r = Math.sign(kv.version - (c.value as number));
      break;
    case 'createRevision':
      r = Math.sign(kv.createRevision - (c.value as number));
      break;
    case 'modRevision':
      r = Math.sign(kv.modRevision - (c.value as number));
      break;
    case 'lease':
      r = Math.sign(kv.lease - (c.value as number));
      break;
  }
  switch (c.result) {
    case '==':
      return r === 0;
    case '!=':
      return r !== 0;
    case '>':
      return r > 0;
    case '<':
      return r < 0;
  }
}

const ABSENT: KeyValue = { key: EMPTY, value: EMPTY, createRevision: 0, modRevision: 0, version: 0, lease: 0 };

/** Evaluate one compare at `atRev` (R4.3, R4.4). */
export function evalCompare(reader: Reader, c: NCompare, atRev: number): boolean {
  let any = false;
  let ok = true;
  const needsRecord = c.target === 'value' || c.target === 'lease';
  visitLive(reader.index, c.span, atRev, (_ki, e) => {
    any = true;
    // Version and revisions are in the index entry; only value and lease need the record.
    const kv = needsRecord ? reader.load(e) : { ...ABSENT, createRevision: e.createRevision, modRevision: e.rev.main, version: e.version };
    if (!compareOne(c, kv)) {
      ok = false;
      return false;
    }
    return true;
  });
  if (any) return ok;
  // An empty range is one missing key: VALUE compares fail, others compare against 0.
  return c.target === 'value' ? false : compareOne(c, ABSENT);
}

function computePath(reader: Reader, t: NTxn, atRev: number): Path {
  const ok = t.compare.every((c) => evalCompare(reader, c, atRev));
  const ops = ok ? t.success : t.failure;
  return { ok, nested: ops.map((op) => (op.op === 'txn' ? computePath(reader, op, atRev) : undefined)) };
}

function branch(t: NTxn, path: Path): NOp[] {
  return path.ok ? t.success : t.failure;
}

/** Put checks on the executed branch, depth first (R4.9): ErrKeyNotFound, then ErrLeaseNotFound. */
function checkPuts(ctx: TxnContext, t: NTxn, path: Path, atRev: number): void {
  const ops = branch(t, path);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.op === 'txn') checkPuts(ctx, op, path.nested[i]!, atRev);
    else if (op.op === 'put') {
      if ((op.ignoreValue || op.ignoreLease) && ctx.index.get(op.kstr)?.get(atRev) === undefined) {
        throw strataError('ErrKeyNotFound', 'key not found');
      }
      if (op.lease !== 0 && !ctx.leaseExists(op.lease)) throw strataError('ErrLeaseNotFound', `lease ${op.lease} not found`);
    }
  }
}

/** Range revision checks on the executed branch (R4.9). */
function checkRanges(ctx: TxnContext, t: NTxn, path: Path): void {
  const ops = branch(t, path);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.op === 'txn') checkRanges(ctx, op, path.nested[i]!);
    else if (op.op === 'range') checkRangeRev(op.revision, ctx.currentRev, ctx.compactRev);
  }
}

function runOps(wt: WriteTxn, t: NTxn, path: Path): TxnResult {
  const responses: TxnResponse[] = [];
  const ops = branch(t, path);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    switch (op.op) {
      case 'put':
        responses.push({ put: wt.put(op) });
        break;
      case 'range':
        responses.push({ range: wt.range(op) });
        break;
      case 'deleteRange':
        responses.push({ deleteRange: wt.deleteRange(op) });
        break;
      case 'txn':
        // etcd leaves a nested Txn's header empty: its revision reads 0 (R4.8).
        responses.push({ txn: { ...runOps(wt, op, path.nested[i]!), revision: 0 } });
        break;
    }
  }
  return { succeeded: path.ok, responses, revision: wt.rev };
}

/**
 * Check and run a validated Txn in `wt` (R4.1–R4.9). Throws before any
 * change if a state-dependent check fails.
 */
export function executeTxn(ctx: TxnContext, wt: WriteTxn, t: NTxn): TxnResult {
  const path = computePath(wt, t, wt.beginRev);
  checkPuts(ctx, t, path, wt.beginRev);
  checkRanges(ctx, t, path);
  return runOps(wt, t, path);
}
