// Model-based property test (issue #3): random operation sequences against a memory store and a
// LevelDB store (with reopens) compared, result by result, to a reference model that keeps the
// whole key space at every revision (an array of all revisions). Covers R1–R5 and R9.9.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openMVCCStore, type MVCCStore, type KeyValue, type TxnOp, type Compare, type RangeOptions, type SortTarget, type SortOrder } from '../src/mvcc/index.ts';
import { isStrataError } from '../src/errors.ts';
import { SeededRandom } from '../src/util/rng.ts';

type MKV = { key: string; value: string; createRevision: number; modRevision: number; version: number; lease: number };
type State = Map<string, MKV>;
class ModelError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const bin = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const unbin = (b: Uint8Array): string => String.fromCharCode(...b);
const norm = (kv: KeyValue): MKV => ({ key: unbin(kv.key), value: unbin(kv.value), createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, lease: kv.lease });

function prefixEnd(k: string): string {
  let i = k.length - 1;
  while (i >= 0 && k.charCodeAt(i) === 0xff) i--;
  if (i < 0) return '\0';
  return k.slice(0, i) + String.fromCharCode(k.charCodeAt(i) + 1);
}

interface SpanSpec {
  key: string;
  rangeEnd?: string;
  prefix?: boolean;
  fromKey?: boolean;
}

/** [key, end]: end undefined = single; '' = unbounded; rawEnd as the client sends it. */
function resolve(s: SpanSpec): { key: string; end: string | undefined; rawEnd: string | undefined } {
  let key = s.key;
  let raw: string | undefined;
  if (s.prefix) {
    if (key === '') {
      key = '\0';
      raw = '\0';
    } else raw = prefixEnd(key);
  } else if (s.fromKey) {
    if (key === '') key = '\0';
    raw = '\0';
  } else if (s.rangeEnd !== undefined && s.rangeEnd !== '') raw = s.rangeEnd;
  if (key === '') throw new ModelError('ErrEmptyKey');
  return { key, end: raw === undefined ? undefined : raw === '\0' ? '' : raw, rawEnd: raw };
}

function select(state: State, s: SpanSpec): MKV[] {
  const { key, end } = resolve(s);
  if (end === undefined) {
    const kv = state.get(key);
    return kv ? [kv] : [];
  }
  return [...state.values()].filter((kv) => kv.key >= key && (end === '' || kv.key < end)).sort((a, b) => (a.key < b.key ? -1 : 1));
}

const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The reference: an array of all states, state[r] is the key space at revision r. */
class Model {
  states: State[] = [new Map(), new Map()];
  /** Every watch event so far (R6.5: revision order, operation order inside a revision). */
  events: { type: 'put' | 'delete'; kv: MKV; prevKv?: MKV }[] = [];
  /** etcd's compactMainRev: -1 before the first compaction (R5.1: Compact(0) then succeeds once). */
  compactRev = -1;
  get rev(): number {
    return this.states.length - 1;
  }
  get cur(): State {
    return this.states[this.rev]!;
  }

  range(s: SpanSpec, o: RangeOptions, view?: { state: State; rev: number }): { kvs: MKV[]; count: number; more: boolean; revision: number } {
    const viewRev = view?.rev ?? this.rev;
    const rev = o.revision ?? 0;
    if (rev > viewRev) throw new ModelError('ErrFutureRev');
    if (rev > 0 && rev < this.compactRev) throw new ModelError('ErrCompacted');
    const state = rev > 0 ? this.states[rev]! : (view?.state ?? this.cur);
    const all = select(state, s);
    const count = all.length;
    if (o.countOnly) return { kvs: [], count, more: false, revision: viewRev };
    const filtered = !!(o.minModRevision || o.maxModRevision || o.minCreateRevision || o.maxCreateRevision);
    const limit = o.limit ?? 0;
    const order = o.sortOrder ?? 'none';
    const target = o.sortTarget ?? 'key';
    // R2.8 as etcd runs it: without sort order and filters only limit+1 keys are read.
    let kvs = order !== 'none' || filtered || limit === 0 ? all : all.slice(0, limit + 1);
    kvs = kvs.filter(
      (kv) =>
        !(o.maxModRevision && kv.modRevision > o.maxModRevision) &&
        !(o.minModRevision && kv.modRevision < o.minModRevision) &&
        !(o.maxCreateRevision && kv.createRevision > o.maxCreateRevision) &&
        !(o.minCreateRevision && kv.createRevision < o.minCreateRevision),
    );
    const eff = target !== 'key' && order === 'none' ? 'ascend' : order;
    if (eff !== 'none') {
      const f = (kv: MKV): number | string => (target === 'key' ? kv.key : target === 'value' ? kv.value : kv[target]);
      kvs = [...kvs].sort((a, b) => {
        const x = f(a);
        const y = f(b);
        const c = typeof x === 'number' ? x - (y as number) : cmpStr(x, y as string);
        return (eff === 'descend' ? -c : c) || cmpStr(a.key, b.key);
      });
    }
    let more = false;
    if (limit > 0 && kvs.length > limit) {
      kvs = kvs.slice(0, limit);
      more = true;
    }
    if (o.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: '' }));
    return { kvs, count, more, revision: viewRev };
  }
}

/** A write in progress: a copy of the state at the next revision. */
class Tx {
  state: State;
  changed = false;
  constructor(readonly m: Model) {
    this.state = new Map(m.cur);
  }
  get rev(): number {
    return this.changed ? this.m.rev + 1 : this.m.rev;
  }
  put(key: string, value: string, o: { lease?: number; prevKv?: boolean; ignoreValue?: boolean; ignoreLease?: boolean }): { revision: number; prevKv?: MKV } {
    const prev = this.state.get(key);
    const rev = this.m.rev + 1;
    this.state.set(key, {
      key,
      // (A key deleted earlier in the same txn by a "\0"-ended delete, which the duplicate check lets
      // through, has no previous value: etcd would fail internally; Strata uses the request's.)
      value: o.ignoreValue && prev ? prev.value : value,
      createRevision: prev ? prev.createRevision : rev,
      modRevision: rev,
      version: prev ? prev.version + 1 : 1,
      lease: o.ignoreLease && prev ? prev.lease : (o.lease ?? 0),
    });
    this.changed = true;
    this.events.push({ type: 'put', kv: this.state.get(key)! });
    return o.prevKv && prev ? { revision: rev, prevKv: prev } : { revision: rev };
  }
  del(s: SpanSpec, prevKv: boolean): { deleted: number; prevKvs?: MKV[]; revision: number } {
    const victims = select(this.state, s);
    for (const kv of victims) {
      this.state.delete(kv.key);
      this.events.push({ type: 'delete', kv: { key: kv.key, value: '', createRevision: 0, modRevision: this.m.rev + 1, version: 0, lease: 0 } });
    }
    if (victims.length > 0) this.changed = true;
    const r: { deleted: number; prevKvs?: MKV[]; revision: number } = { deleted: victims.length, revision: this.rev };
    if (prevKv) r.prevKvs = victims;
    return r;
  }
  /** Watch events of this write, in operation order (R4.7, R6.4). */
  events: { type: 'put' | 'delete'; kv: MKV; prevKv?: MKV }[] = [];
  commit(): void {
    if (!this.changed) return;
    // R6.6: prev_kv is the key's state at rev - 1, for every event but a creation.
    const before = this.m.cur;
    for (const e of this.events) {
      const prev = before.get(e.kv.key);
      if (prev && !(e.type === 'put' && e.kv.createRevision === e.kv.modRevision)) e.prevKv = prev;
    }
    this.m.events.push(...this.events);
    this.m.states.push(this.state);
  }
}

const KEYS = ['a', 'ab', 'abc', 'b', 'b\xff', 'c', '\xff', 'd1', 'd2', 'd3'];
const TARGETS: SortTarget[] = ['key', 'version', 'createRevision', 'modRevision', 'value'];
const ORDERS: SortOrder[] = ['none', 'ascend', 'descend'];

function genSpan(rng: SeededRandom): SpanSpec {
  const key = rng.pick(KEYS);
  switch (rng.int(5)) {
    case 0:
      return { key, prefix: true };
    case 1:
      return { key, fromKey: true };
    case 2:
      return { key, rangeEnd: rng.pick([...KEYS, '\0', 'zz']) };
    default:
      return { key };
  }
}

type Op =
  | { op: 'put'; key: string; value: string; o: { lease?: number; prevKv?: boolean; ignoreValue?: boolean; ignoreLease?: boolean } }
  | { op: 'del'; span: SpanSpec; prevKv: boolean }
  | { op: 'range'; span: SpanSpec; o: RangeOptions }
  | { op: 'txn'; compare: Compare[]; success: TxnOp[]; failure: TxnOp[] }
  | { op: 'compact'; rev: number; physical: boolean }
  | { op: 'reopen' }
  | { op: 'hash' };

function genPut(rng: SeededRandom): Extract<Op, { op: 'put' }> {
  const o: { lease?: number; prevKv?: boolean; ignoreValue?: boolean; ignoreLease?: boolean } = {};
  if (rng.chance(0.3)) o.lease = rng.range(1, 3);
  if (rng.chance(0.4)) o.prevKv = true;
  const iv = rng.chance(0.08);
  if (iv) o.ignoreValue = true;
  if (rng.chance(0.08)) {
    o.ignoreLease = true;
    delete o.lease;
  }
  return { op: 'put', key: rng.pick(KEYS), value: iv ? '' : `v${rng.int(20)}`, o };
}

function genRangeOpts(rng: SeededRandom, rev: number): RangeOptions {
  const o: RangeOptions = {};
  if (rng.chance(0.3)) o.revision = rng.range(-1, rev + 1);
  if (rng.chance(0.4)) o.limit = rng.int(4);
  if (rng.chance(0.4)) o.sortTarget = rng.pick(TARGETS);
  if (rng.chance(0.4)) o.sortOrder = rng.pick(ORDERS);
  if (rng.chance(0.15)) o.minModRevision = rng.int(rev + 1);
  if (rng.chance(0.15)) o.maxModRevision = rng.int(rev + 1);
  if (rng.chance(0.1)) o.minCreateRevision = rng.int(rev + 1);
  if (rng.chance(0.1)) o.maxCreateRevision = rng.int(rev + 1);
  if (rng.chance(0.1)) o.countOnly = true;
  if (rng.chance(0.1)) o.keysOnly = true;
  return o;
}

function genCompare(rng: SeededRandom, rev: number): Compare {
  const target = rng.pick(['version', 'createRevision', 'modRevision', 'value', 'lease'] as const);
  const c: Compare = { key: bin(rng.pick(KEYS)), target, result: rng.pick(['==', '!=', '>', '<'] as const), value: target === 'value' ? `v${rng.int(20)}` : rng.int(rev + 1) };
  if (rng.chance(0.2)) c.rangeEnd = bin(rng.pick([...KEYS, '\0']));
  return c;
}

function genTxnOp(rng: SeededRandom, rev: number, depth = 0): TxnOp {
  if (depth === 0 && rng.chance(0.1)) {
    const list = (): TxnOp[] => Array.from({ length: rng.int(3) }, () => genTxnOp(rng, rev, 1));
    return { txn: { compare: Array.from({ length: rng.int(2) }, () => genCompare(rng, rev)), success: list(), failure: list() } };
  }
  const k = rng.int(3);
  if (k === 0) {
    const p = genPut(rng);
    return { put: { key: bin(p.key), value: p.value, ...p.o } };
  }
  if (k === 1) {
    const s = genSpan(rng);
    return { deleteRange: { ...s, key: bin(s.key), ...(s.rangeEnd !== undefined ? { rangeEnd: bin(s.rangeEnd) } : {}), prevKv: rng.chance(0.5) } };
  }
  const s = genSpan(rng);
  return { range: { ...s, key: bin(s.key), ...(s.rangeEnd !== undefined ? { rangeEnd: bin(s.rangeEnd) } : {}), ...genRangeOpts(rng, rev) } };
}

function gen(rng: SeededRandom, rev: number, compactRev: number, level: boolean): Op {
  const r = rng.next();
  if (r < 0.35) return genPut(rng);
  if (r < 0.45) return { op: 'del', span: genSpan(rng), prevKv: rng.chance(0.5) };
  if (r < 0.65) return { op: 'range', span: genSpan(rng), o: genRangeOpts(rng, rev) };
  if (r < 0.88) {
    const compare: Compare[] = Array.from({ length: rng.int(3) }, () => genCompare(rng, rev));
    const list = (): TxnOp[] => Array.from({ length: rng.int(4) }, () => genTxnOp(rng, rev));
    return { op: 'txn', compare, success: list(), failure: list() };
  }
  if (r < 0.94) return { op: 'compact', rev: rng.range(Math.max(compactRev, 0) - 1, rev + 1), physical: rng.chance(0.5) };
  if (r < 0.97 && level) return { op: 'reopen' };
  return { op: 'hash' };
}

function spanOf(x: { key: Uint8Array | string; rangeEnd?: Uint8Array | string; prefix?: boolean; fromKey?: boolean }): SpanSpec {
  const s: SpanSpec = { key: typeof x.key === 'string' ? x.key : unbin(x.key) };
  if (x.rangeEnd !== undefined) s.rangeEnd = typeof x.rangeEnd === 'string' ? x.rangeEnd : unbin(x.rangeEnd);
  if (x.prefix) s.prefix = true;
  if (x.fromKey) s.fromKey = true;
  return s;
}

/** R4.9 duplicate-key check, as etcd runs it (nested deletes only constrain later puts). */
function dupCheck(ops: TxnOp[]): { puts: Set<string>; dels: { key: string; raw: string | undefined }[] } {
  const dels: { key: string; raw: string | undefined }[] = [];
  for (const o of ops) if ('deleteRange' in o) {
    const r = resolve(spanOf(o.deleteRange));
    dels.push({ key: r.key, raw: r.rawEnd });
  }
  const inDel = (k: string): boolean => dels.some((d) => (d.raw === undefined ? d.key === k : d.key <= k && k < d.raw));
  const puts = new Set<string>();
  for (const o of ops) {
    if (!('txn' in o)) continue;
    const t = dupCheck(o.txn.success ?? []);
    const e = dupCheck(o.txn.failure ?? []);
    for (const k of t.puts) {
      if (puts.has(k) || inDel(k)) throw new ModelError('ErrDuplicateKey');
      puts.add(k);
    }
    for (const k of e.puts) {
      if ((puts.has(k) && !t.puts.has(k)) || inDel(k)) throw new ModelError('ErrDuplicateKey');
      puts.add(k);
    }
    dels.push(...t.dels, ...e.dels);
  }
  for (const o of ops) {
    if (!('put' in o)) continue;
    const k = unbin(o.put.key as Uint8Array);
    if (puts.has(k) || inDel(k)) throw new ModelError('ErrDuplicateKey');
    puts.add(k);
  }
  return { puts, dels };
}

/** Static validation of a txn tree (empty compare keys), then the duplicate check per branch. */
function validate(t: { compare?: Compare[]; success?: TxnOp[]; failure?: TxnOp[] }): void {
  for (const c of t.compare ?? []) resolve(spanOf(c));
  for (const o of [...(t.success ?? []), ...(t.failure ?? [])]) if ('txn' in o) validate(o.txn);
}

/** Branch choice of a txn tree on the state before it (R4.5). */
interface Path {
  ok: boolean;
  nested: (Path | undefined)[];
}

function txnPath(m: Model, t: { compare?: Compare[]; success?: TxnOp[]; failure?: TxnOp[] }): Path {
  const ok = (t.compare ?? []).every((c) => modelCompare(m, c));
  const ops = (ok ? t.success : t.failure) ?? [];
  return { ok, nested: ops.map((o) => ('txn' in o ? txnPath(m, o.txn) : undefined)) };
}

function branch(t: { success?: TxnOp[]; failure?: TxnOp[] }, p: Path): TxnOp[] {
  return (p.ok ? t.success : t.failure) ?? [];
}

function checkPuts(m: Model, t: { success?: TxnOp[]; failure?: TxnOp[] }, p: Path): void {
  branch(t, p).forEach((o, i) => {
    if ('txn' in o) checkPuts(m, o.txn, p.nested[i]!);
    else if ('put' in o && (o.put.ignoreValue || o.put.ignoreLease) && !m.cur.has(unbin(o.put.key as Uint8Array))) throw new ModelError('ErrKeyNotFound');
  });
}

function checkRanges(m: Model, t: { success?: TxnOp[]; failure?: TxnOp[] }, p: Path): void {
  branch(t, p).forEach((o, i) => {
    if ('txn' in o) checkRanges(m, o.txn, p.nested[i]!);
    else if ('range' in o) {
      const rev = o.range.revision ?? 0;
      if (rev > m.rev) throw new ModelError('ErrFutureRev');
      if (rev > 0 && rev < m.compactRev) throw new ModelError('ErrCompacted');
    }
  });
}

function run(m: Model, tx: Tx, t: { success?: TxnOp[]; failure?: TxnOp[] }, p: Path): { succeeded: boolean; responses: unknown[]; revision: number } {
  const responses: unknown[] = [];
  branch(t, p).forEach((o, i) => {
    if ('put' in o) responses.push({ put: tx.put(unbin(o.put.key as Uint8Array), String(o.put.value), o.put) });
    else if ('deleteRange' in o) responses.push({ deleteRange: tx.del(spanOf(o.deleteRange), o.deleteRange.prevKv === true) });
    else if ('range' in o) responses.push({ range: m.range(spanOf(o.range), o.range, { state: tx.state, rev: tx.rev }) });
    else responses.push({ txn: { ...run(m, tx, o.txn, p.nested[i]!), revision: 0 } }); // R4.8: etcd leaves nested headers empty
  });
  return { succeeded: p.ok, responses, revision: tx.rev };
}

function modelCompare(m: Model, c: Compare): boolean {
  const kvs = select(m.cur, spanOf({ key: c.key, ...(c.rangeEnd !== undefined ? { rangeEnd: c.rangeEnd } : {}) }));
  const one = (kv: MKV | undefined): boolean => {
    let r: number;
    if (c.target === 'value') {
      if (kv === undefined) return false;
      r = cmpStr(kv.value, c.value as string);
    } else r = Math.sign((kv ? kv[c.target] : 0) - (c.value as number));
    return c.result === '==' ? r === 0 : c.result === '!=' ? r !== 0 : c.result === '>' ? r > 0 : r < 0;
  };
  return kvs.length === 0 ? one(undefined) : kvs.every(one);
}

type Res = unknown;

function applyModel(m: Model, op: Op): Res {
  switch (op.op) {
    case 'put': {
      if ((op.o.ignoreValue || op.o.ignoreLease) && !m.cur.has(op.key)) throw new ModelError('ErrKeyNotFound');
      const tx = new Tx(m);
      const r = tx.put(op.key, op.value, op.o);
      tx.commit();
      return r;
    }
    case 'del': {
      resolve(op.span);
      const tx = new Tx(m);
      const r = tx.del(op.span, op.prevKv);
      tx.commit();
      return r;
    }
    case 'range':
      return m.range(op.span, op.o);
    case 'txn': {
      validate(op);
      dupCheck(op.success);
      dupCheck(op.failure);
      const p = txnPath(m, op);
      checkPuts(m, op, p);
      checkRanges(m, op, p);
      const tx = new Tx(m);
      const res = run(m, tx, op, p);
      tx.commit();
      return res;
    }
    case 'compact':
      if (op.rev <= m.compactRev) throw new ModelError('ErrCompacted');
      if (op.rev > m.rev) throw new ModelError('ErrFutureRev');
      m.compactRev = op.rev;
      return { revision: m.rev };
    default:
      return undefined;
  }
}

function normalizeResult(x: unknown): unknown {
  if (x instanceof Uint8Array) return unbin(x);
  if (Array.isArray(x)) return x.map(normalizeResult);
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    if (o.key instanceof Uint8Array && 'modRevision' in o) return norm(o as unknown as KeyValue);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, normalizeResult(v)]));
  }
  return x;
}

async function applyStore(s: MVCCStore, op: Op): Promise<Res> {
  const sp = (x: SpanSpec): { rangeEnd?: Uint8Array; prefix?: boolean; fromKey?: boolean } => ({
    ...(x.rangeEnd !== undefined ? { rangeEnd: bin(x.rangeEnd) } : {}),
    ...(x.prefix ? { prefix: true } : {}),
    ...(x.fromKey ? { fromKey: true } : {}),
  });
  switch (op.op) {
    case 'put':
      return s.put(bin(op.key), op.value, op.o);
    case 'del':
      return s.deleteRange(bin(op.span.key), { ...sp(op.span), prevKv: op.prevKv });
    case 'range':
      return s.range(bin(op.span.key), { ...sp(op.span), ...op.o });
    case 'txn':
      return s.txn({ compare: op.compare, success: op.success, failure: op.failure });
    case 'compact':
      return s.compact(op.rev, { physical: op.physical });
    default:
      return undefined;
  }
}

async function outcome(f: () => Promise<Res> | Res): Promise<{ ok: unknown } | { err: string }> {
  try {
    return { ok: normalizeResult(await f()) };
  } catch (e) {
    if (e instanceof ModelError) return { err: e.code };
    if (isStrataError(e)) return { err: e.code };
    throw e;
  }
}

test('model: random operations on memory and LevelDB stores match the reference model (R1–R5, R9.9)', async (t) => {
  const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`seed=${seed} (override with SEED=…)`);
  const rng = new SeededRandom(seed);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'strata-mvcc-model-'));
  const runs = Number(process.env.MVCC_MODEL_RUNS ?? 6);
  const steps = Number(process.env.MVCC_MODEL_STEPS ?? 400);
  const tally = new Map<string, number>();
  try {
    for (let run = 0; run < runs; run++) {
      const m = new Model();
      const mem = await openMVCCStore({ cacheEntries: 3 }); // tiny cache: exercise eviction and backend reads
      const levelPath = path.join(dir, `run${run}`);
      let lvl = await openMVCCStore({ path: levelPath });
      // A watch over every key on the memory store, consumed as it goes (R6.4–R6.6).
      const watched: unknown[] = [];
      const watcher = mem.watch('', { prefix: true, prevKv: true });
      const consuming = (async () => {
        for await (const r of watcher) for (const e of r.events) watched.push(normalizeResult(e));
      })();
      for (let i = 0; i < steps; i++) {
        const op = gen(rng, m.rev, m.compactRev, true);
        const where = `seed=${seed} run=${run} step=${i} op=${JSON.stringify(op, (_k, v: unknown) => (v instanceof Uint8Array ? unbin(v) : v))}`;
        if (op.op === 'reopen') {
          await lvl.close();
          lvl = await openMVCCStore({ path: levelPath });
          assert.equal(lvl.currentRevision, m.rev, `${where}: revision after reopen`);
          assert.equal(lvl.compactRevision, Math.max(0, m.compactRev), `${where}: compact revision after reopen`);
          continue;
        }
        if (op.op === 'hash') {
          assert.deepEqual(await lvl.hashKV(), await mem.hashKV(), `${where}: hashKV`);
          continue;
        }
        const want = await outcome(() => applyModel(m, op));
        const tag = `${op.op}${op.op === 'txn' && [...op.success, ...op.failure].some((o) => 'txn' in o) ? '(nested)' : ''}:${'err' in want ? want.err : 'ok'}`;
        tally.set(tag, (tally.get(tag) ?? 0) + 1);
        assert.deepEqual(await outcome(() => applyStore(mem, op)), want, `${where}: memory store`);
        assert.deepEqual(await outcome(() => applyStore(lvl, op)), want, `${where}: level store`);
        assert.equal(mem.currentRevision, m.rev, `${where}: revision`);
      }
      // Every readable revision matches the model at the end.
      for (let r = Math.max(m.compactRev, 1); r <= m.rev; r++) {
        const want = normalizeResult(m.range({ key: '\0', fromKey: true }, { revision: r }));
        assert.deepEqual(normalizeResult(await lvl.range('', { fromKey: true, revision: r })), want, `seed=${seed} final read at ${r}`);
      }
      for (let spin = 0; watched.length < m.events.length && spin < 200; spin++) await new Promise((res) => setTimeout(res, 5));
      assert.deepEqual(watched, m.events, `seed=${seed} run=${run}: watch events`);
      tally.set('watch events', (tally.get('watch events') ?? 0) + watched.length);
      watcher.cancel();
      await consuming;
      const snap = await lvl.snapshot();
      const restored = await openMVCCStore();
      await restored.restore(snap);
      assert.deepEqual(await restored.hashKV(), await mem.hashKV(), `seed=${seed}: hash after snapshot/restore`);
      await mem.close();
      await lvl.close();
      await restored.close();
    }
    t.diagnostic(`outcomes: ${[...tally].sort().map(([k, v]) => `${k}=${v}`).join(' ')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
