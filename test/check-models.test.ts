// Issue #7: the built-in models' building blocks — the KV store's hash-consed
// values and maps, and the default structural state equality.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KvStore } from '../src/check/models/kv-store.ts';
import { deepEqual, hashValue } from '../src/check/hash.ts';
import { checkLinearizability, createKvModel, createRegisterModel, type Operation, type KvInput, type KvOutput } from '../src/check/index.ts';

test('issue #7: KV store values are canonical ropes (one id per string, however built)', () => {
  const s = new KvStore();
  const ab = s.appendText(s.appendText(KvStore.ROOT, 'a'), 'b');
  const ab2 = s.value('ab');
  assert.equal(ab, ab2, 'put "ab" and append "a" then "b" give the same value');
  assert.ok(s.spells(ab, 'ab'));
  assert.ok(!s.spells(ab, 'ba') && !s.spells(ab, 'a') && !s.spells(ab, 'abc'));
  assert.ok(s.spells(KvStore.ROOT, ''));
  assert.equal(s.text(ab), 'ab');
  assert.equal(s.appendText(s.appendText(KvStore.ROOT, 'a'), 'b'), ab);
  assert.equal(s.appendText(ab, ''), ab);
  assert.equal(s.appendText(s.value('a'), 'bc'), s.appendText(ab, 'c'));
  assert.notEqual(s.value('abc'), s.value('acb'));
  // Appending to "no value" starts from the empty string; NIL spells nothing.
  assert.equal(s.appendText(KvStore.NIL, 'ab'), ab);
  assert.ok(!s.spells(KvStore.NIL, ''));
  assert.equal(s.expect(undefined), KvStore.NIL);
  assert.equal(new KvStore('').expect(undefined), KvStore.NEVER);
  // Many values built in different orders stay canonical.
  const t = new KvStore();
  const pieces = ['x', 'yz', 'x', '', 'zz', 'y'];
  let v = KvStore.ROOT;
  let text = '';
  for (let i = 0; i < 2000; i++) {
    const p = pieces[i % pieces.length] as string;
    v = t.appendText(v, p);
    text += p;
    if (i % 97 === 0) assert.equal(t.value(text), v);
  }
  assert.equal(t.text(v), text);
});

test('issue #7: KV store maps are canonical whatever the order of writes', () => {
  const s = new KvStore();
  const [x, y, z] = [s.keyId('x'), s.keyId('y'), s.keyId('z')];
  const v1 = s.value('1');
  const v2 = s.value('2');
  const m1 = s.set(s.set(s.set(KvStore.EMPTY, x, v1), y, v2), z, v1);
  const m2 = s.set(s.set(s.set(KvStore.EMPTY, z, v1), x, v1), y, v2);
  assert.equal(m1, m2);
  assert.equal(s.lookup(m1, y), v2);
  assert.equal(s.lookup(s.set(m1, y, s.absent), y), s.absent);
  assert.equal(s.set(s.set(m1, y, s.absent), y, v2), m1);
  assert.equal(s.set(m1, x, v1), m1, 'setting the same value changes nothing');
  assert.deepEqual([...s.entries(m1)].sort(), [
    ['x', '1'],
    ['y', '2'],
    ['z', '1'],
  ]);
  assert.equal(s.set(KvStore.EMPTY, x, s.absent), KvStore.EMPTY);
  // With an absent string, setting a key to it removes the key.
  const e = new KvStore('');
  assert.equal(e.set(KvStore.EMPTY, e.keyId('k'), e.value('')), KvStore.EMPTY);
});

test('issue #7: unpartitioned KV checks handle many keys', () => {
  const model = createKvModel();
  const h: Operation<KvInput, KvOutput>[] = [];
  for (let i = 0; i < 5000; i++) h.push({ clientId: 0, input: { type: 'put', key: `k${i}`, value: 'v' }, call: 2 * i, output: {}, return: 2 * i + 1 });
  h.push({ clientId: 1, input: { type: 'get', key: 'k0' }, call: 1e5, output: { value: 'v' }, return: 1e5 + 1 });
  const r = checkLinearizability(model, h, { partition: false });
  assert.equal(r.result, 'linearizable');
  const last = r.partitions[0]?.linearization.at(-1);
  assert.equal(last, 5000);
  assert.equal(model.entries(model.init()).size, 0);
});

test('issue #7: default state equality is structural and sound', () => {
  assert.ok(deepEqual(new Map([['a', 1], ['b', 2]]), new Map([['b', 2], ['a', 1]])));
  assert.equal(hashValue(new Map([['a', 1], ['b', 2]])), hashValue(new Map([['b', 2], ['a', 1]])));
  assert.ok(deepEqual({ a: 1, b: undefined }, { a: 1 }));
  assert.equal(hashValue({ a: 1, b: undefined }), hashValue({ a: 1 }));
  assert.ok(deepEqual([1, { x: [2] }], [1, { x: [2] }]));
  assert.ok(!deepEqual([1, 2], [2, 1]));
  assert.ok(deepEqual(0, -0) && hashValue(0) === hashValue(-0));
  assert.ok(deepEqual(NaN, NaN));
  class P {
    constructor(readonly v: number) {}
  }
  class Q {
    constructor(readonly v: number) {}
  }
  assert.ok(deepEqual(new P(1), new P(1)));
  assert.ok(!deepEqual(new P(1), new Q(1)), 'different prototypes differ');
  assert.ok(!deepEqual({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(!deepEqual(new Set([1]), new Map([[1, 1]])));
});

test('issue #7: the register model works over strings', () => {
  const m = createRegisterModel<string>();
  const h = [
    { clientId: 0, input: { type: 'write' as const, value: 'a' }, call: 0, output: {}, return: 1 },
    { clientId: 1, input: { type: 'cas' as const, expected: 'a', value: 'b' }, call: 2, output: { ok: true }, return: 3 },
    { clientId: 0, input: { type: 'read' as const }, call: 4, output: { value: 'b' }, return: 5 },
  ];
  assert.equal(checkLinearizability(m, h).result, 'linearizable');
  assert.equal(checkLinearizability(m, [...h, { clientId: 2, input: { type: 'read' as const }, call: 6, output: { value: 'a' }, return: 7 }]).result, 'not-linearizable');
});
