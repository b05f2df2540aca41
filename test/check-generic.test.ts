// Issue #7: the generic path (user models through model.step) with the kinds
// of models users write — string states built by concatenation (partitioned by
// key), Map and plain-object states copied on each write (with and without
// `equal`, with and without `readOnly`) — gives the verdicts of a brute-force
// search on small random KV histories, and the verdicts of the built-in
// compiled KV model on larger ones (where the transition cache, the state
// table's incremental hashing and the flattening of long strings are used).
// `SEED=n` reruns with another seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkLinearizability,
  createKvModel,
  partitionByKey,
  type KvInput,
  type KvOutput,
  type Model,
} from '../src/check/index.ts';
import { StateTable } from '../src/check/states.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { bruteForce, randomKvHistory, type KvOp } from './check-histories.ts';


const seed = Number(process.env.SEED ?? 7);


/** Appends of 'a' or 'b0'…'b2'. */
const appendAB = (rng: SeededRandom): string => (rng.int(2) === 0 ? 'a' : `b${rng.int(3)}`);

const NEVER = Symbol('never');

/**
 * KV semantics of `createKvModel({ absent })`, written the way a user would:
 * `value` is a key's value (or `absent`), `expect` what an output or a CAS
 * expectation asks for, `written` the value after a write.
 */
function semantics(absent: string | undefined): {
  expect: (v: string | undefined) => string | undefined | typeof NEVER;
  step: (cur: string | undefined, input: KvInput, output: KvOutput | undefined) => [boolean, string | undefined];
} {
  const expect = (v: string | undefined): string | undefined | typeof NEVER => (v === undefined ? (absent === undefined ? undefined : NEVER) : v);
  const norm = (v: string | undefined): string | undefined => (v === absent ? absent : v);
  return {
    expect,
    step: (cur, input, output) => {
      switch (input.type) {
        case 'get':
          return [output === undefined || expect(output.value) === cur, cur];
        case 'put':
          return [true, norm(input.value)];
        case 'append':
          return [true, norm((cur ?? '') + input.value)];
        case 'delete':
          return [output?.ok === undefined || output.ok === (cur !== absent), absent];
        case 'cas': {
          const swaps = expect(input.expected) === cur;
          return [output?.ok === undefined || output.ok === swaps, swaps ? norm(input.value) : cur];
        }
      }
    },
  };
}

/** One key's value as the state (a string, or `undefined` for absent); needs partitioning by key. */
function valueModel(absent: string | undefined, extra: Partial<Model<string | undefined, KvInput, KvOutput>> = {}): Model<string | undefined, KvInput, KvOutput> {
  const sem = semantics(absent);
  return {
    init: () => absent,
    step: (s, input, output) => {
      const [ok, next] = sem.step(s, input, output);
      // A read hands back the very state it was given.
      return [ok, next === s ? s : next];
    },
    partition: partitionByKey,
    ...extra,
  };
}

/** A Map from key to value, copied on each write (absent keys are not in it). */
function mapModel(absent: string | undefined, extra: Partial<Model<Map<string, string>, KvInput, KvOutput>> = {}): Model<Map<string, string>, KvInput, KvOutput> {
  const sem = semantics(absent);
  return {
    init: () => new Map(),
    step: (s, input, output) => {
      const cur = s.has(input.key) ? s.get(input.key) : absent;
      const [ok, next] = sem.step(cur, input, output);
      if (next === cur) return [ok, s];
      const copy = new Map(s);
      if (next === absent || next === undefined) copy.delete(input.key);
      else copy.set(input.key, next);
      return [ok, copy];
    },
    ...extra,
  };
}

/** A plain object from key to value, copied on each write. */
function objectModel(absent: string | undefined, extra: Partial<Model<Record<string, string>, KvInput, KvOutput>> = {}): Model<Record<string, string>, KvInput, KvOutput> {
  const sem = semantics(absent);
  return {
    init: () => ({}),
    step: (s, input, output) => {
      const cur = Object.prototype.hasOwnProperty.call(s, input.key) ? s[input.key] : absent;
      const [ok, next] = sem.step(cur, input, output);
      if (next === cur) return [ok, s];
      const copy: Record<string, string> = { ...s };
      if (next === absent || next === undefined) delete copy[input.key];
      else copy[input.key] = next;
      return [ok, copy];
    },
    ...extra,
  };
}

const readOnly = (input: KvInput): boolean => input.type === 'get';

function userModels(absent: string | undefined): { name: string; model: Model<unknown, KvInput, KvOutput>; partitionedOnly: boolean }[] {
  const sameMap = (a: Map<string, string>, b: Map<string, string>): boolean => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
  const sameObject = (a: Record<string, string>, b: Record<string, string>): boolean =>
    Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => a[k] === b[k]);
  // Models of different state types in one list: the checker never mixes them.
  const any = <S>(m: Model<S, KvInput, KvOutput>): Model<unknown, KvInput, KvOutput> => m as unknown as Model<unknown, KvInput, KvOutput>;
  return [
    { name: 'string', model: any(valueModel(absent)), partitionedOnly: true },
    { name: 'string+equal', model: any(valueModel(absent, { equal: (a, b) => a === b })), partitionedOnly: true },
    { name: 'string+readOnly', model: any(valueModel(absent, { readOnly })), partitionedOnly: true },
    { name: 'map', model: any(mapModel(absent)), partitionedOnly: false },
    { name: 'map+equal', model: any(mapModel(absent, { equal: sameMap })), partitionedOnly: false },
    { name: 'map+partition+readOnly', model: any(mapModel(absent, { partition: partitionByKey, readOnly })), partitionedOnly: false },
    { name: 'object', model: any(objectModel(absent)), partitionedOnly: false },
    { name: 'object+equal', model: any(objectModel(absent, { equal: sameObject })), partitionedOnly: false },
  ];
}


/**
 * A history that executes a random sequence of operations at random points in
 * time and records what they saw (so it is linearizable), with reads of
 * wrong values mixed in when `corrupt`.
 */
function recordedHistory(rng: SeededRandom, n: number, keys: readonly string[], corrupt: boolean): KvOp[] {
  const values = new Map<string, string>();
  const h: KvOp[] = [];
  for (let i = 0; i < n; i++) {
    const key = keys[rng.int(keys.length)] as string;
    const cur = values.get(key) ?? '';
    const call = i * 2 - rng.int(8);
    const ret = i * 2 + 1 + rng.int(8);
    const r = rng.int(10);
    if (r < 3) {
      const wrong = corrupt && rng.int(25) === 0;
      h.push({ clientId: i, input: { type: 'get', key }, call, output: { value: wrong ? cur + 'z' : cur }, return: ret });
    } else if (r < 4) {
      const value = `p${rng.int(4)}`;
      values.set(key, value);
      h.push({ clientId: i, input: { type: 'put', key, value }, call, output: {}, return: ret });
    } else {
      const value = `x${rng.int(6)}`;
      values.set(key, cur + value);
      const pending = rng.int(30) === 0;
      h.push({ clientId: i, input: { type: 'append', key, value }, call, output: pending ? undefined : {}, return: pending ? Infinity : ret });
    }
  }
  return h;
}

test('issue #7: generic path with user models (string, Map, object states) agrees with brute force', (t) => {
  t.diagnostic(`seed=${seed}`);
  const rng = new SeededRandom(seed);
  const counts = { lin: 0, not: 0 };
  for (const absent of [undefined, '']) {
    const reference = createKvModel(absent === undefined ? {} : { absent });
    const models = userModels(absent);
    for (let k = 0; k < 150; k++) {
      const h = randomKvHistory(rng, 2 + rng.int(6), { span: 12, keys: ['x', 'y'], allOps: true, pendingOneIn: 10, appendValue: appendAB });
      const want = bruteForce(reference, h) ? 'linearizable' : 'not-linearizable';
      counts[want === 'linearizable' ? 'lin' : 'not']++;
      for (const { name, model, partitionedOnly } of models) {
        for (const partition of partitionedOnly ? [true] : [true, false]) {
          const got = checkLinearizability(model, h, { partition }).result;
          assert.equal(got, want, `${name} absent=${String(absent)} case ${k} partition=${partition}: ${JSON.stringify(h)}`);
        }
      }
    }
  }
  t.diagnostic(`${counts.lin} linearizable, ${counts.not} not`);
  assert.ok(counts.lin > 40 && counts.not > 40, 'the generator should produce both verdicts');
});

test('issue #7: generic path agrees with the compiled KV model on larger histories', (t) => {
  t.diagnostic(`seed=${seed}`);
  const rng = new SeededRandom(seed + 1);
  const reference = createKvModel({ absent: '' });
  const models = userModels('');
  const counts = { lin: 0, not: 0, unknown: 0 };
  for (let k = 0; k < 24; k++) {
    const keys = k % 3 === 0 ? ['x'] : ['x', 'y', 'z'];
    const h = k % 2 === 0 ? recordedHistory(rng, 60 + rng.int(90), keys, k % 4 === 2) : randomKvHistory(rng, 40 + rng.int(40), { span: 60, keys, allOps: false, pendingOneIn: 10, appendValue: appendAB });
    const budget = { maxSteps: 200_000 };
    for (const partition of [true, false]) {
      const want = checkLinearizability(reference, h, { ...budget, partition });
      counts[want.result === 'linearizable' ? 'lin' : want.result === 'not-linearizable' ? 'not' : 'unknown']++;
      if (want.result === 'unknown') continue;
      for (const { name, model, partitionedOnly } of models) {
        if (partitionedOnly && !partition) continue;
        const got = checkLinearizability(model, h, { maxSteps: 2_000_000, partition });
        assert.equal(got.result, want.result, `${name} case ${k} partition=${partition} (${h.length} operations)`);
      }
    }
  }
  t.diagnostic(`${counts.lin} linearizable, ${counts.not} not, ${counts.unknown} over budget`);
  assert.ok(counts.lin > 5 && counts.not > 5, 'both verdicts should occur');
});

test('issue #7: string states merge by content however they were built (concatenated, flat, model hash)', () => {
  // Concurrent appends and puts reach equal strings by different routes
  // ("a" + "b", put "ab"; long chains that get flattened). Interning must
  // give equal strings one id whether V8 holds them as trees of pieces or
  // flat, so all three models search exactly alike.
  const h: KvOp[] = [];
  for (let i = 0; i < 14; i++) {
    const input: KvInput = i % 5 === 4 ? { type: 'put', key: 'k', value: ['ab', 'ba', 'aab', 'abab'][i % 4] as string } : { type: 'append', key: 'k', value: i % 2 === 0 ? 'a' : 'b' };
    h.push({ clientId: i, input, call: i % 3, output: {}, return: 20 + (i % 4) });
  }
  h.push({ clientId: 30, input: { type: 'get', key: 'k' }, call: 25, output: { value: 'none' }, return: 26 });
  const concatenated = valueModel('');
  const flat: Model<string | undefined, KvInput, KvOutput> = {
    ...concatenated,
    step: (s, input, output) => {
      const [ok, next] = (concatenated.step as Model<string | undefined, KvInput, KvOutput>['step'])(s, input, output);
      return [ok, next === s || next === undefined ? next : Array.from(next).join('')];
    },
  };
  const hashed: Model<string | undefined, KvInput, KvOutput> = { ...concatenated, hash: (s) => (s === undefined ? -1 : s.length) };
  const results = [concatenated, flat, hashed].map((m) => checkLinearizability(m, h));
  for (const r of results) assert.equal(r.result, 'not-linearizable');
  assert.ok((results[0] as { states: number }).states > 100);
  for (const r of results.slice(1)) {
    assert.equal(r.states, (results[0] as { states: number }).states, 'same distinct states');
    assert.equal(r.steps, (results[0] as { steps: number }).steps, 'same search');
  }
});

test('issue #7: incremental hashing of Map and object states gives the ids full hashing gives', (t) => {
  t.diagnostic(`seed=${seed}`);
  const rng = new SeededRandom(seed + 2);
  const keys = ['a', 'b', 'c', 'd', 'e'];
  const vals = ['', 'x', 'y', 'xy', 'yx'];
  // Maps: random edits (set, delete, same value again) derived from interned parents.
  const maps = new StateTable<Map<string, string | undefined>>({ init: () => new Map(), step: (s) => [true, s] });
  const mapIds: Map<string, string | undefined>[] = [new Map()];
  maps.intern(new Map());
  const objects = new StateTable<Record<string, string | undefined>>({ init: () => ({}), step: (s) => [true, s] });
  const objIds: Record<string, string | undefined>[] = [{}];
  objects.intern({});
  for (let i = 0; i < 3000; i++) {
    const from = rng.int(mapIds.length);
    const parent = mapIds[from] as Map<string, string | undefined>;
    const next = new Map(parent);
    const key = keys[rng.int(keys.length)] as string;
    const r = rng.int(4);
    if (r === 0) next.delete(key);
    else if (r === 1) next.set(key, undefined);
    else next.set(key, vals[rng.int(vals.length)]);
    const id = maps.internFrom(next, from);
    // A fresh copy in another insertion order must get the same id by full hashing.
    const shuffled = new Map([...next].reverse());
    assert.equal(maps.intern(shuffled), id, `map ${JSON.stringify([...next])}`);
    if (id === mapIds.length) mapIds.push(next);

    const ofrom = rng.int(objIds.length);
    const oparent = objIds[ofrom] as Record<string, string | undefined>;
    const onext: Record<string, string | undefined> = { ...oparent };
    if (r === 0) delete onext[key];
    else if (r === 1) onext[key] = undefined; // same as absent for objects
    else onext[key] = vals[rng.int(vals.length)];
    const oid = objects.internFrom(onext, ofrom);
    const ocopy: Record<string, string | undefined> = {};
    for (const k of Object.keys(onext).reverse()) if (onext[k] !== undefined) ocopy[k] = onext[k];
    assert.equal(objects.intern(ocopy), oid, `object ${JSON.stringify(onext)}`);
    if (oid === objIds.length) objIds.push(onext);
  }
  // Every distinct map over 5 keys × (absent, undefined, 5 values) is possible; far fewer are met.
  assert.ok(mapIds.length > 100 && objIds.length > 100, `${mapIds.length} maps, ${objIds.length} objects`);
  assert.equal(maps.size, mapIds.length);
  assert.equal(objects.size, objIds.length);
});
