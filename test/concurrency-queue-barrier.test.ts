// Barrier (R8.5), DoubleBarrier (R8.6), Queue (R8.7) and PriorityQueue (R8.8)
// on a 3-member LocalCluster, with clients on different members.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStrataError } from '../src/errors.ts';
import { Barrier, DoubleBarrier, PriorityQueue, Queue, Session } from '../src/concurrency/index.ts';
import { TEST_TIMEOUT_MS, sleep, track, until, useCluster } from './concurrency-harness.ts';

const h = useCluster();
const { member } = h;
const count = h.countPrefix;

test('R8.5 barrier: hold/ErrKeyExists, wait blocks until release, wait on a lowered barrier returns at once', { timeout: TEST_TIMEOUT_MS }, async () => {
  const b0 = new Barrier(member(0), '/bar');
  await new Barrier(member(1), '/bar').wait(); // not held: returns at once
  await b0.hold();
  await assert.rejects(new Barrier(member(2), '/bar').hold(), (err) => isStrataError(err, 'ErrKeyExists'));
  const waits = [track(new Barrier(member(1), '/bar').wait()), track(new Barrier(member(2), '/bar').wait())];
  await sleep(50);
  assert.equal(waits.some((w) => w.done), false, 'waiters blocked while held');
  await b0.release();
  await Promise.all(waits.map((w) => w.p));
  const ctl = new AbortController();
  await b0.hold();
  const aborted = track(new Barrier(member(1), '/bar').wait({ signal: ctl.signal }));
  await sleep(20);
  ctl.abort();
  await assert.rejects(aborted.p, (err) => isStrataError(err, 'ErrAborted'));
  await b0.release();
});

test('R8.6 double barrier: n clients enter together, the n+1-th gets ErrTooManyClients, all leave together', { timeout: TEST_TIMEOUT_MS }, async () => {
  const n = 3;
  const sessions = await Promise.all([0, 1, 2, 3].map((i) => Session.create(member(i))));
  const bars = sessions.map((s) => new DoubleBarrier(s, '/dbar', n));
  const e0 = track(bars[0]!.enter());
  await until(async () => (await count('/dbar/waiters/')) === 1, 'first entrant');
  const e1 = track(bars[1]!.enter());
  await until(async () => (await count('/dbar/waiters/')) === 2, 'second entrant');
  await sleep(30);
  assert.equal(e0.done || e1.done, false, 'entrants wait for the n-th');
  await bars[2]!.enter(); // the n-th: puts the ready flag
  await Promise.all([e0.p, e1.p]);
  assert.equal(e0.error ?? e1.error, undefined);
  assert.equal(await count('/dbar/ready'), 1);
  await assert.rejects(bars[3]!.enter(), (err) => isStrataError(err, 'ErrTooManyClients'));
  assert.equal(await count('/dbar/waiters/'), n, 'the rejected client left no key');

  const l0 = track(bars[0]!.leave());
  const l1 = track(bars[1]!.leave());
  await sleep(50);
  assert.equal(l0.done || l1.done, false, 'nobody leaves before everyone leaves');
  await bars[2]!.leave();
  await Promise.all([l0.p, l1.p]);
  assert.equal(l0.error ?? l1.error, undefined);
  assert.equal(await count('/dbar/'), 0, 'waiters and ready flag removed');
  await Promise.all(sessions.map((s) => s.close()));
});

test('R8.6 double barrier: of 5 concurrent entrants with n = 3, exactly 3 enter and 2 get ErrTooManyClients', { timeout: TEST_TIMEOUT_MS }, async () => {
  const sessions = await Promise.all([0, 1, 2, 3, 4].map((i) => Session.create(member(i))));
  const bars = sessions.map((s) => new DoubleBarrier(s, '/dbar3', 3));
  const results = await Promise.allSettled(bars.map((b) => b.enter()));
  const entered = bars.filter((_, i) => results[i]!.status === 'fulfilled');
  const rejected = results.filter((r) => r.status === 'rejected');
  assert.equal(entered.length, 3);
  assert.ok(rejected.every((r) => r.status === 'rejected' && isStrataError(r.reason, 'ErrTooManyClients')));
  assert.equal(await count('/dbar3/waiters/'), 3);
  await Promise.all(entered.map((b) => b.leave()));
  assert.equal(await count('/dbar3/'), 0);
  await Promise.all(sessions.map((s) => s.close()));
});

test('R8.6 double barrier: a participant whose session dies does not block the others leaving', { timeout: TEST_TIMEOUT_MS }, async () => {
  const sessions = await Promise.all([0, 1].map((i) => Session.create(member(i), { ttl: 1 })));
  const bars = sessions.map((s) => new DoubleBarrier(s, '/dbar2', 2));
  await Promise.all(bars.map((b) => b.enter()));
  const l0 = track(bars[0]!.leave());
  sessions[1]!.orphan(); // never leaves; its key goes with its lease
  await l0.p;
  assert.equal(l0.error, undefined);
  await sessions[0]!.close();
});

test('R8.7 queue: FIFO across producers on different members, dequeue waits for an item, each item to one consumer', { timeout: TEST_TIMEOUT_MS }, async () => {
  const q0 = new Queue(member(0), '/q');
  const q1 = new Queue(member(1), '/q');
  const q2 = new Queue(member(2), '/q');
  await q0.enqueue('a');
  await q1.enqueue('b');
  await q2.enqueue('c');
  assert.deepEqual([await q2.dequeue(), await q1.dequeue(), await q0.dequeue()], ['a', 'b', 'c']);

  const waiting = track(q1.dequeue());
  await sleep(30);
  assert.equal(waiting.done, false, 'empty queue: dequeue waits');
  await q2.enqueue('late');
  assert.equal(await waiting.p, 'late');

  // Many consumers, many items: every item is taken exactly once.
  const items = Array.from({ length: 24 }, (_, i) => `item-${i}`);
  const consumers = [q0, q1, q2, q0, q1, q2].map((q) =>
    (async () => {
      const got: string[] = [];
      for (let i = 0; i < 4; i++) got.push(await q.dequeue());
      return got;
    })(),
  );
  for (const [i, item] of items.entries()) await [q0, q1, q2][i % 3]!.enqueue(item);
  const got = (await Promise.all(consumers)).flat();
  assert.deepEqual([...got].sort(), [...items].sort());
  assert.equal(await count('/q/'), 0);

  const ctl = new AbortController();
  const aborted = track(q0.dequeue({ signal: ctl.signal }));
  await sleep(20);
  ctl.abort();
  await assert.rejects(aborted.p, (err) => isStrataError(err, 'ErrAborted'));
});

test('R8.8 priority queue: lowest priority number first, FIFO within a priority', { timeout: TEST_TIMEOUT_MS }, async () => {
  const pq = new PriorityQueue(member(0), '/pq');
  const pq2 = new PriorityQueue(member(1), '/pq');
  await pq.enqueue('x5', 5);
  await pq2.enqueue('y1', 1);
  await pq.enqueue('z5', 5);
  await pq2.enqueue('w0', 0);
  await pq.enqueue('v1', 1);
  const out: string[] = [];
  for (let i = 0; i < 5; i++) out.push(await [pq, pq2][i % 2]!.dequeue());
  assert.deepEqual(out, ['w0', 'y1', 'v1', 'x5', 'z5']);
  await assert.rejects(pq.enqueue('bad', 70000), (err) => isStrataError(err, 'ErrInvalidArgument'));
  // Concurrent producers on one priority get distinct sequence numbers.
  await Promise.all(Array.from({ length: 6 }, (_, i) => [pq, pq2][i % 2]!.enqueue(`c${i}`, 3)));
  assert.equal(await count('/pq/00003/'), 6);
  const drained: string[] = [];
  for (let i = 0; i < 6; i++) drained.push(await pq.dequeue());
  assert.deepEqual([...drained].sort(), ['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
  const waiting = track(pq2.dequeue());
  await sleep(20);
  assert.equal(waiting.done, false);
  await pq.enqueue('next', 9);
  assert.equal(await waiting.p, 'next');
});
