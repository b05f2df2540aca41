// Foundation utilities: errors, codec, CRC-32C, seeded RNG, virtual clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { strataError, isStrataError, StrataError, InvalidArgumentError, OutOfRangeError } from '../src/errors.ts';
import { encode, decode, crc32c } from '../src/codec/index.ts';
import { allocBytes, frame, isFrame, unframe } from '../src/codec/frame.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { VirtualClock } from '../src/util/clock.ts';

test('errors carry etcd codes and category classes', () => {
  const e = strataError('ErrCompacted', 'revision 3 < 5');
  assert.ok(e instanceof StrataError && e instanceof OutOfRangeError);
  assert.equal(e.code, 'ErrCompacted');
  assert.equal(e.name, 'OutOfRangeError');
  assert.match(e.message, /^ErrCompacted: revision 3 < 5$/);
  assert.ok(isStrataError(e, 'ErrCompacted'));
  assert.ok(!isStrataError(e, 'ErrFutureRev'));
  assert.ok(strataError('ErrEmptyKey') instanceof InvalidArgumentError);
  assert.ok(!isStrataError(new Error('x')));
});

test('codec round-trips with a version byte and rejects unknown versions', () => {
  const v = { a: 1, b: 'x', c: new Uint8Array([1, 2, 3]), d: [1, 2], big: 2 ** 40, neg: -5 };
  const bytes = encode(v);
  assert.equal(bytes[0], 1);
  const back = decode<typeof v>(bytes);
  assert.equal(back.a, 1);
  assert.equal(back.big, 2 ** 40);
  assert.equal(back.neg, -5);
  assert.deepEqual([...back.c], [1, 2, 3]);
  const bad = Uint8Array.from(bytes);
  bad[0] = 99;
  assert.throws(() => decode(bad), (e: unknown) => isStrataError(e, 'ErrFormatVersion'));
  assert.throws(() => decode(new Uint8Array()), (e: unknown) => isStrataError(e, 'ErrCorrupt'));
});

test('frame appends a header behind a body: in place behind allocBytes, copied otherwise; unframe gives both back', () => {
  const body = allocBytes(1000);
  body.fill(7);
  const once = frame(body, { leases: [1, 2], name: 'x' });
  assert.equal(once.buffer, body.buffer, 'framed in place');
  const twice = frame(once, { v: 1, d: [] });
  assert.equal(twice.buffer, body.buffer, 'framed in place again');
  const outer = unframe<{ v: number; d: unknown[] }>(twice);
  assert.deepEqual(outer.header, { v: 1, d: [] });
  const inner = unframe<{ leases: number[]; name: string }>(outer.body);
  assert.deepEqual(inner.header, { leases: [1, 2], name: 'x' });
  assert.deepEqual(inner.body, new Uint8Array(1000).fill(7));
  // Framing the same body again must not overwrite the first frame's header.
  const again = frame(body, { other: true });
  assert.notEqual(again.buffer, body.buffer);
  assert.deepEqual(unframe(once).header, { leases: [1, 2], name: 'x' });
  assert.deepEqual(unframe(again).header, { other: true });
  // Any other body is copied, and the original is untouched.
  const plain = new Uint8Array([1, 2, 3]);
  const copied = frame(plain, 5);
  assert.deepEqual(unframe(copied).body, plain);
  assert.deepEqual(plain, new Uint8Array([1, 2, 3]));
  // Damage is ErrCorrupt, not a wrong answer.
  assert.equal(isFrame(new Uint8Array([1, 2])), false);
  assert.throws(() => unframe(new Uint8Array([1, 2, 3])), (e: unknown) => isStrataError(e, 'ErrCorrupt'));
  const bad = copied.slice();
  bad[bad.length - 6] = 0xff; // header length beyond the record
  assert.throws(() => unframe(bad), (e: unknown) => isStrataError(e, 'ErrCorrupt'));
});

test('crc32c matches the standard check value and composes', () => {
  const data = new TextEncoder().encode('123456789');
  assert.equal(crc32c(data), 0xe3069283);
  assert.equal(crc32c(data.subarray(4), crc32c(data.subarray(0, 4))), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  // 32 zero bytes: RFC 3720 test vector.
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
});

test('SeededRandom is deterministic per seed and distinct across seeds', () => {
  const a = new SeededRandom(42);
  const b = new SeededRandom(42);
  const c = new SeededRandom(43);
  const xs = Array.from({ length: 20 }, () => a.nextU32());
  const ys = Array.from({ length: 20 }, () => b.nextU32());
  const zs = Array.from({ length: 20 }, () => c.nextU32());
  assert.deepEqual(xs, ys);
  assert.notDeepEqual(xs, zs);
  const saved = new SeededRandom(a.state());
  assert.equal(saved.nextU32(), a.nextU32());
  for (let i = 0; i < 1000; i++) {
    const n = a.int(7);
    assert.ok(Number.isInteger(n) && n >= 0 && n < 7);
  }
});

test('VirtualClock fires timers in time order, ties in creation order', () => {
  const clock = new VirtualClock();
  const fired: string[] = [];
  clock.setTimer(() => fired.push('b@20'), 20);
  clock.setTimer(() => fired.push('a@10'), 10);
  clock.setTimer(() => fired.push('c@20'), 20);
  const h = clock.setTimer(() => fired.push('never'), 15);
  clock.clearTimer(h);
  clock.advance(15);
  assert.deepEqual(fired, ['a@10']);
  assert.equal(clock.now(), 15);
  clock.advance(10);
  assert.deepEqual(fired, ['a@10', 'b@20', 'c@20']);
  assert.equal(clock.now(), 25);
});
