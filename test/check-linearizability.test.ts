// Issue #7: checkLinearizability on hand-made histories, pending operations,
// counterexamples, budgets, custom models, and random histories against a
// brute-force checker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkLinearizability,
  registerModel,
  kvModel,
  createKvModel,
  type Model,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
  type KvInput,
  type KvOutput,
} from '../src/check/index.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { VirtualClock } from '../src/util/clock.ts';
import { isStrataError } from '../src/errors.ts';

type RegOp = Operation<RegisterInput, RegisterOutput>;

const w = (clientId: number, value: number, call: number, ret: number): RegOp => ({
  clientId,
  input: { type: 'write', value },
  call,
  output: ret === Infinity ? undefined : {},
  return: ret,
});
const r = (clientId: number, value: number | undefined, call: number, ret: number): RegOp => ({
  clientId,
  input: { type: 'read' },
  call,
  output: { value },
  return: ret,
});
const cas = (clientId: number, expected: number, value: number, ok: boolean | undefined, call: number, ret: number): RegOp => ({
  clientId,
  input: { type: 'cas', expected, value },
  call,
  output: ok === undefined ? undefined : { ok },
  return: ret,
});

test('issue #7: sequential register histories follow the model', () => {
  assert.equal(checkLinearizability(registerModel, []).result, 'linearizable');
  assert.equal(checkLinearizability(registerModel, [r(0, undefined, 0, 1)]).result, 'linearizable');
  assert.equal(checkLinearizability(registerModel, [r(0, 3, 0, 1)]).result, 'not-linearizable');
  assert.equal(checkLinearizability(registerModel, [w(0, 1, 0, 1), r(0, 1, 2, 3)]).result, 'linearizable');
  assert.equal(checkLinearizability(registerModel, [w(0, 1, 0, 1), r(0, 2, 2, 3)]).result, 'not-linearizable');
  // CAS on an empty register fails; a successful CAS swaps.
  assert.equal(checkLinearizability(registerModel, [cas(0, 0, 1, false, 0, 1), r(0, undefined, 2, 3)]).result, 'linearizable');
  assert.equal(checkLinearizability(registerModel, [cas(0, 0, 1, true, 0, 1)]).result, 'not-linearizable');
  assert.equal(
    checkLinearizability(registerModel, [w(0, 0, 0, 1), cas(0, 0, 5, true, 2, 3), r(1, 5, 4, 5)]).result,
    'linearizable',
  );
});

test('issue #7: concurrent operations may take effect in either order; real time is respected', () => {
  // The 6.824 quiz example: a write concurrent with two reads that see new then old.
  const ok = [w(0, 100, 0, 100), r(1, 100, 25, 75), r(2, 0, 30, 60)];
  const init0: Model<number, RegisterInput, RegisterOutput> = { ...registerModel, init: () => 0 } as Model<
    number,
    RegisterInput,
    RegisterOutput
  >;
  assert.equal(checkLinearizability(init0, ok).result, 'linearizable');
  // A read that returned before the other began cannot see an older value after a newer one.
  const bad = [w(0, 200, 0, 100), r(1, 200, 10, 30), r(2, 0, 40, 90)];
  assert.equal(checkLinearizability(init0, bad).result, 'not-linearizable');
  // Equal timestamps count as concurrent: a read called when a write returns may precede it.
  assert.equal(checkLinearizability(registerModel, [w(0, 1, 0, 5), r(1, undefined, 5, 6)]).result, 'linearizable');
  assert.equal(checkLinearizability(registerModel, [w(0, 1, 0, 5), r(1, undefined, 6, 7)]).result, 'not-linearizable');
});

test('issue #7: a pending operation may take effect at any time after its call, or never', () => {
  // Took effect: a later read sees it.
  assert.equal(checkLinearizability(registerModel, [w(0, 7, 0, Infinity), r(1, 7, 10, 11)]).result, 'linearizable');
  // Never took effect: a later read does not see it.
  assert.equal(checkLinearizability(registerModel, [w(0, 7, 0, Infinity), r(1, undefined, 10, 11)]).result, 'linearizable');
  // But it cannot take effect before its call.
  assert.equal(checkLinearizability(registerModel, [r(1, 7, 0, 1), w(0, 7, 2, Infinity)]).result, 'not-linearizable');
  // Once seen, it stays: reading the old value afterwards is not linearizable.
  assert.equal(
    checkLinearizability(registerModel, [w(0, 7, 0, Infinity), r(1, 7, 10, 11), r(1, undefined, 12, 13)]).result,
    'not-linearizable',
  );
  // A pending CAS with unknown outcome may have swapped.
  assert.equal(
    checkLinearizability(registerModel, [w(0, 1, 0, 1), cas(1, 1, 2, undefined, 2, Infinity), r(2, 2, 5, 6)]).result,
    'linearizable',
  );
  // Identical pending writes are interchangeable but each can take effect only once.
  const twins = [w(0, 1, 0, Infinity), w(1, 1, 0, Infinity), r(2, 1, 1, 2), w(3, 2, 3, 4), r(2, 2, 5, 6), r(2, 1, 7, 8)];
  assert.equal(checkLinearizability(registerModel, twins).result, 'linearizable');
  assert.equal(checkLinearizability(registerModel, twins.slice(1)).result, 'not-linearizable');
  // A read with unknown output (timed out) accepts anything.
  const timedOut: RegOp = { clientId: 3, input: { type: 'read' }, call: 0, output: undefined, return: 4 };
  assert.equal(checkLinearizability(registerModel, [timedOut]).result, 'linearizable');
});

test('issue #7: the counterexample is the longest linearizable prefix and the operation that cannot follow', () => {
  const h = [w(0, 1, 0, 10), r(1, 1, 11, 12), w(0, 2, 13, 14), r(1, 1, 15, 16), r(2, 2, 17, 18)];
  const res = checkLinearizability(registerModel, h);
  assert.equal(res.result, 'not-linearizable');
  assert.equal(res.partitions.length, 1);
  const cx = res.counterexample?.[0];
  assert.ok(cx !== undefined);
  assert.equal(cx.partition, 0);
  assert.deepEqual(cx.prefix, [0, 1, 2]);
  assert.equal(cx.state, 2);
  assert.equal(cx.stuck, 3);
  assert.deepEqual(cx.candidates, [{ op: 3, legal: false }]);
  assert.deepEqual(res.partitions[0]?.linearization, [0, 1, 2]);
  assert.deepEqual(res.partitions[0]?.operations, [0, 1, 2, 3, 4]);

  // The prefix takes every operation that fits: both writes, then the read of 3 is stuck.
  const h2 = [w(0, 1, 0, 1), w(1, 2, 2, 10), r(2, 3, 3, 5), r(3, 2, 11, 12)];
  const cx2 = checkLinearizability(registerModel, h2).counterexample?.[0];
  assert.ok(cx2 !== undefined);
  assert.deepEqual(cx2.prefix, [0, 1]);
  assert.equal(cx2.state, 2);
  assert.equal(cx2.stuck, 2);
  assert.deepEqual(cx2.candidates, [{ op: 2, legal: false }]);
});

test('issue #7: a linearizable result carries a complete linearization that replays on the model', () => {
  const h = [w(0, 1, 0, 10), r(1, 1, 1, 12), w(2, 2, 2, 3), r(3, 2, 4, 5), w(0, 3, 11, Infinity)];
  const res = checkLinearizability(registerModel, h);
  assert.equal(res.result, 'linearizable');
  const lin = res.partitions[0]?.linearization ?? [];
  assert.deepEqual([...lin].sort(), [0, 1, 2, 3, 4]);
  let s = registerModel.init();
  const pos = new Map(lin.map((op, k) => [op, k]));
  for (const i of lin) {
    const op = h[i] as RegOp;
    const [ok, next] = registerModel.step(s, op.input, op.output);
    assert.ok(ok, `step ${i} illegal in the returned linearization`);
    s = next;
  }
  // Real-time order: if a returned before b was called, a comes first.
  for (const [a, ia] of pos) {
    for (const [b, ib] of pos) {
      if ((h[a] as RegOp).return < (h[b] as RegOp).call) assert.ok(ia < ib, `${a} must precede ${b}`);
    }
  }
});

test('issue #7: the KV model partitions by key and implements get/put/append/delete/cas', () => {
  const op = (clientId: number, input: KvInput, output: KvOutput | undefined, call: number, ret: number): Operation<KvInput, KvOutput> => ({
    clientId,
    input,
    output,
    call,
    return: ret,
  });
  const h = [
    op(0, { type: 'put', key: 'a', value: 'x' }, {}, 0, 1),
    op(1, { type: 'put', key: 'b', value: 'y' }, {}, 0, 1),
    op(0, { type: 'append', key: 'a', value: 'z' }, {}, 2, 3),
    op(1, { type: 'get', key: 'a' }, { value: 'xz' }, 4, 5),
    op(0, { type: 'cas', key: 'b', expected: 'y', value: 'w' }, { ok: true }, 6, 7),
    op(1, { type: 'cas', key: 'b', expected: 'y', value: 'v' }, { ok: false }, 8, 9),
    op(0, { type: 'delete', key: 'a' }, { ok: true }, 10, 11),
    op(1, { type: 'get', key: 'a' }, { value: undefined }, 12, 13),
    op(0, { type: 'cas', key: 'c', expected: undefined, value: 'new' }, { ok: true }, 14, 15),
    op(1, { type: 'get', key: 'c' }, { value: 'new' }, 16, 17),
    op(0, { type: 'delete', key: 'zz' }, { ok: false }, 18, 19),
  ];
  const res = checkLinearizability(kvModel, h);
  assert.equal(res.result, 'linearizable');
  assert.equal(res.partitions.length, 4); // a, b, c, zz
  assert.equal(checkLinearizability(kvModel, h, { partition: false }).result, 'linearizable');
  // Break key b only: the counterexample names b's partition.
  const broken = [...h];
  broken[5] = op(1, { type: 'cas', key: 'b', expected: 'y', value: 'v' }, { ok: true }, 8, 9);
  const bad = checkLinearizability(kvModel, broken, { allFailures: true });
  assert.equal(bad.result, 'not-linearizable');
  assert.equal(bad.counterexample?.length, 1);
  const part = bad.partitions[bad.counterexample?.[0]?.partition ?? -1];
  assert.ok(part?.operations.every((i) => (broken[i]?.input as KvInput).key === 'b'));
  assert.equal(bad.counterexample?.[0]?.stuck, 5);
  // With an "absent" value (Porcupine's kv files use ''), a missing key reads as it.
  const empty = createKvModel({ absent: '' });
  assert.equal(checkLinearizability(empty, [op(0, { type: 'get', key: 'q' }, { value: '' }, 0, 1)]).result, 'linearizable');
  assert.equal(checkLinearizability(kvModel, [op(0, { type: 'get', key: 'q' }, { value: '' }, 0, 1)]).result, 'not-linearizable');
});

test('issue #7: budgets — unknown only when time or steps run out', () => {
  // A history with many concurrent pending writes and a contradiction at the end needs many steps.
  const h: RegOp[] = [];
  for (let i = 0; i < 14; i++) h.push(w(i, i, 0, Infinity));
  for (let i = 0; i < 14; i++) h.push(r(20 + i, i, 1 + 2 * i, 2 + 2 * i));
  h.push(r(40, 99, 100, 101));
  const full = checkLinearizability(registerModel, h);
  assert.equal(full.result, 'not-linearizable');
  const capped = checkLinearizability(registerModel, h, { maxSteps: 10 });
  assert.equal(capped.result, 'unknown');
  assert.ok(capped.steps <= 10);
  assert.equal(capped.counterexample, undefined);
  // An injected clock that jumps past the deadline on every look.
  const clock = new VirtualClock();
  const jumpy = { now: () => (clock.advance(1000), clock.now()) };
  assert.equal(checkLinearizability(registerModel, h, { timeoutMs: 500, clock: jumpy }).result, 'unknown');
  assert.equal(checkLinearizability(registerModel, h, { timeoutMs: 1e9, clock }).result, 'not-linearizable');
});

test('issue #7: malformed histories are rejected with ErrInvalidArgument', () => {
  assert.throws(() => checkLinearizability(registerModel, [w(0, 1, 5, 4)]), (e) => isStrataError(e, 'ErrInvalidArgument'));
  assert.throws(() => checkLinearizability(registerModel, [w(0, 1, Infinity, Infinity)]), (e) => isStrataError(e, 'ErrInvalidArgument'));
  const foreign: Model<number | undefined, RegisterInput, RegisterOutput> = {
    ...registerModel,
    partition: (hist) => [hist.map((o) => ({ ...o }))],
  };
  assert.throws(() => checkLinearizability(foreign, [w(0, 1, 0, 1)]), (e) => isStrataError(e, 'ErrInvalidArgument'));
});

// A user model: a FIFO queue with object states, no equal/hash (structural defaults).
type QIn = { op: 'enq'; v: number } | { op: 'deq' };
type QOut = { v: number | null };
const queueModel: Model<{ items: number[] }, QIn, QOut> = {
  init: () => ({ items: [] }),
  step(s, input, output) {
    if (input.op === 'enq') return [true, { items: [...s.items, input.v] }];
    const head = s.items.length > 0 ? (s.items[0] as number) : null;
    if (output !== undefined && output.v !== head) return [false, s];
    return [true, { items: s.items.slice(1) }];
  },
  describe: (input, output) => (input.op === 'enq' ? `enq(${input.v})` : `deq() → ${output?.v ?? '?'}`),
};

test('issue #7: a custom user model (queue, object states) with default and custom equality', () => {
  const q = (clientId: number, input: QIn, output: QOut | undefined, call: number, ret: number): Operation<QIn, QOut> => ({
    clientId,
    input,
    output,
    call,
    return: ret,
  });
  const ok = [
    q(0, { op: 'enq', v: 1 }, {} as QOut, 0, 10),
    q(1, { op: 'enq', v: 2 }, {} as QOut, 0, 10),
    q(2, { op: 'deq' }, { v: 2 }, 11, 12),
    q(2, { op: 'deq' }, { v: 1 }, 13, 14),
    q(2, { op: 'deq' }, { v: null }, 15, 16),
  ];
  assert.equal(checkLinearizability(queueModel, ok).result, 'linearizable');
  const bad = [q(0, { op: 'enq', v: 1 }, {} as QOut, 0, 1), q(1, { op: 'enq', v: 2 }, {} as QOut, 2, 3), q(2, { op: 'deq' }, { v: 2 }, 4, 5)];
  const res = checkLinearizability(queueModel, bad);
  assert.equal(res.result, 'not-linearizable');
  assert.deepEqual(res.counterexample?.[0]?.state, { items: [1, 2] });
  // The same with a custom equality (and no hash): still exact.
  let calls = 0;
  const withEqual = { ...queueModel, equal: (a: { items: number[] }, b: { items: number[] }) => (calls++, a.items.join() === b.items.join()) };
  assert.equal(checkLinearizability(withEqual, ok).result, 'linearizable');
  assert.equal(checkLinearizability(withEqual, bad).result, 'not-linearizable');
  assert.ok(calls > 0, 'custom equal was used');
});

// ---- random histories against a brute-force checker ----

/** Brute force: some order of the completed ops plus any subset of pending ones fits model and real time. */
function bruteForce<S, I, O>(model: Model<S, I, O>, h: readonly Operation<I, O>[]): boolean {
  const n = h.length;
  const used = new Array<boolean>(n).fill(false);
  const must = h.filter((o) => o.return !== Infinity).length;
  const go = (state: S, placed: number, completed: number): boolean => {
    if (completed === must) return true;
    // The next op must be called before every unplaced completed op returns.
    let minRet = Infinity;
    for (let i = 0; i < n; i++) if (!used[i]) minRet = Math.min(minRet, (h[i] as Operation<I, O>).return);
    for (let i = 0; i < n; i++) {
      const op = h[i] as Operation<I, O>;
      if (used[i] || op.call > minRet) continue;
      const [ok, next] = model.step(state, op.input, op.output);
      if (!ok) continue;
      used[i] = true;
      const done = go(next, placed + 1, completed + (op.return !== Infinity ? 1 : 0));
      used[i] = false;
      if (done) return true;
    }
    return false;
  };
  return go(model.init(), 0, 0);
}

function randomRegisterHistory(rng: SeededRandom, n: number): RegOp[] {
  const h: RegOp[] = [];
  for (let i = 0; i < n; i++) {
    const call = rng.int(20);
    const ret = rng.int(8) === 0 ? Infinity : call + rng.int(8);
    const kind = rng.int(3);
    const value = rng.int(3);
    if (kind === 0) h.push(w(i, value, call, ret));
    else if (kind === 1) h.push(ret === Infinity ? { ...r(i, undefined, call, ret), output: undefined } : r(i, rng.int(4) === 0 ? undefined : value, call, ret));
    else h.push(cas(i, rng.int(3), value, ret === Infinity ? undefined : rng.int(2) === 0, call, ret));
  }
  return h;
}

test('issue #7: random small register histories agree with a brute-force checker', (t) => {
  const seed = Number(process.env.SEED ?? 7);
  t.diagnostic(`seed=${seed}`);
  const rng = new SeededRandom(seed);
  let lin = 0;
  for (let k = 0; k < 600; k++) {
    const h = randomRegisterHistory(rng, 2 + rng.int(6));
    const want = bruteForce(registerModel, h);
    const got = checkLinearizability(registerModel, h);
    assert.equal(got.result, want ? 'linearizable' : 'not-linearizable', `case ${k}: ${JSON.stringify(h)}`);
    if (want) lin++;
  }
  t.diagnostic(`${lin} of 600 linearizable`);
  assert.ok(lin > 60 && lin < 540, 'the generator should produce both verdicts');
});

test('issue #7: long histories generated from a sequential run are linearizable; a corrupted read is not', (t) => {
  const seed = Number(process.env.SEED ?? 11);
  t.diagnostic(`seed=${seed}`);
  const rng = new SeededRandom(seed);
  for (let round = 0; round < 4; round++) {
    // Five clients, one op each at a time; each takes effect at a random point inside its interval.
    const h: Operation<KvInput, KvOutput>[] = [];
    const store = new Map<string, string>();
    const busyUntil = [0, 0, 0, 0, 0];
    const effects: { at: number; op: number }[] = [];
    for (let i = 0; i < 300; i++) {
      const c = rng.int(5);
      const call = (busyUntil[c] as number) + rng.int(5);
      const ret = call + 1 + rng.int(30);
      busyUntil[c] = ret + 1;
      const key = 'k' + rng.int(3);
      const kind = rng.int(3);
      const input: KvInput = kind === 0 ? { type: 'get', key } : kind === 1 ? { type: 'put', key, value: String(i) } : { type: 'append', key, value: `.${i}` };
      h.push({ clientId: c, input, call, output: undefined, return: ret });
      effects.push({ at: call + rng.next() * (ret - call), op: i });
    }
    effects.sort((a, b) => a.at - b.at);
    const outputs = new Map<number, KvOutput>();
    for (const { op } of effects) {
      const input = (h[op] as Operation<KvInput, KvOutput>).input;
      if (input.type === 'get') outputs.set(op, { value: store.get(input.key) });
      else if (input.type === 'put') {
        store.set(input.key, input.value);
        outputs.set(op, {});
      } else if (input.type === 'append') {
        store.set(input.key, (store.get(input.key) ?? '') + input.value);
        outputs.set(op, {});
      }
    }
    const full = h.map((o, i) => ({ ...o, output: outputs.get(i) }));
    assert.equal(checkLinearizability(kvModel, full).result, 'linearizable', `round ${round}`);
    assert.equal(checkLinearizability(kvModel, full, { partition: false }).result, 'linearizable', `round ${round} unpartitioned`);
    // Corrupt the last get: it reports a value nobody wrote.
    const last = full.map((o) => o.input.type).lastIndexOf('get');
    const corrupted = full.map((o, i) => (i === last ? { ...o, output: { value: 'never' } } : o));
    const bad = checkLinearizability(kvModel, corrupted);
    assert.equal(bad.result, 'not-linearizable', `round ${round} corrupted`);
    assert.equal(bad.counterexample?.[0]?.stuck, last);
  }
});
