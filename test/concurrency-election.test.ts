// Election (R8.3) on a 3-member LocalCluster: candidates on different
// members, failover when the leader's session closes or expires, and
// observe() seeing each leader and each proclaimed value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStrataError } from '../src/errors.ts';
import { Election, Session } from '../src/concurrency/index.ts';
import type { LeaderObservation } from '../src/concurrency/index.ts';
import { TEST_TIMEOUT_MS, sleep, text, track, until, useCluster } from './concurrency-harness.ts';

const h = useCluster();
const { member } = h;
const candidates = (pfx: string): Promise<number> => h.countPrefix(`${pfx}/`);

test('R8.3 election: one leader at a time, failover on session close and resign, observe() sees each leader and proclamation', { timeout: TEST_TIMEOUT_MS }, async () => {
  await assert.rejects(Election.observer(member(0), '/el').leader(), (err) => isStrataError(err, 'ErrElectionNoLeader'));

  // An observer started before anyone campaigns waits for the first leader.
  const seen: string[] = [];
  const ctl = new AbortController();
  const observing = (async () => {
    for await (const o of Election.observer(member(2), '/el').observe({ signal: ctl.signal })) seen.push(text(o.kv.value));
  })();

  const sessions = await Promise.all([0, 1, 2].map((i) => Session.create(member(i))));
  const [e1, e2, e3] = sessions.map((s) => new Election(s, '/el')) as [Election, Election, Election];
  await e1.campaign('a');
  const c2 = track(e2.campaign('b'));
  await until(async () => (await candidates('/el')) === 2, 'b is a candidate');
  const c3 = track(e3.campaign('c'));
  await until(async () => (await candidates('/el')) === 3, 'c is a candidate');
  assert.equal(text((await e3.leader()).kvs[0]?.value), 'a');
  await e1.proclaim('a2');
  await until(() => seen.includes('a2'), 'observer sees the proclamation');
  assert.equal(text((await e2.leader()).kvs[0]?.value), 'a2');
  await assert.rejects(new Election(sessions[1]!, '/el').proclaim('x'), (err) => isStrataError(err, 'ErrElectionNotLeader'));
  assert.equal(c2.done || c3.done, false, 'the others still campaign');

  // The leader's session closes (its key is revoked): the next-oldest candidate wins.
  await sessions[0]!.close();
  await c2.p;
  assert.equal(c3.done, false, 'only one new leader');
  assert.equal(text((await e3.leader()).kvs[0]?.value), 'b');
  await assert.rejects(e1.proclaim('zombie'), (err) => isStrataError(err, 'ErrElectionNotLeader'));

  await until(() => seen.includes('b'), 'observer sees the second leader');

  // Resign hands over to the last candidate.
  await e2.resign();
  await c3.p;
  assert.equal(text((await e1.leader()).kvs[0]?.value), 'c');
  await e3.proclaim('c2');
  await until(() => seen.includes('c2'), 'observer sees the last leader');
  ctl.abort();
  await observing;
  assert.deepEqual(seen, ['a', 'a2', 'b', 'c', 'c2']);
  await e3.resign();
  await e3.resign(); // no-op when not leading
  await assert.rejects(e3.leader(), (err) => isStrataError(err, 'ErrElectionNoLeader'));
  await Promise.all(sessions.map((s) => s.close()));
});

test('R8.3 campaign again on the same session proclaims the new value; an expired leader is replaced', { timeout: TEST_TIMEOUT_MS }, async () => {
  const s1 = await Session.create(member(0), { ttl: 1 });
  const s2 = await Session.create(member(1));
  const e1 = new Election(s1, '/el2');
  await e1.campaign('first');
  const again = new Election(s1, '/el2');
  await again.campaign('second'); // same key: proclaims
  assert.equal(again.rev, e1.rev);
  assert.equal(text((await again.leader()).kvs[0]?.value), 'second');

  const observed: LeaderObservation[] = [];
  const ctl = new AbortController();
  const observing = (async () => {
    for await (const o of new Election(s2, '/el2').observe({ signal: ctl.signal })) observed.push(o);
  })();
  const e2 = new Election(s2, '/el2');
  const c2 = track(e2.campaign('next'));
  await until(async () => (await candidates('/el2')) === 2, 'next is a candidate');
  s1.orphan(); // the leader stops renewing: its lease expires
  await c2.p;
  await until(() => observed.length === 2, 'observer sees the new leader');
  ctl.abort();
  await observing;
  assert.deepEqual(
    observed.map((o) => text(o.kv.value)),
    ['second', 'next'],
  );
  assert.ok(observed[1]!.revision > observed[0]!.revision);
  await assert.rejects(e1.proclaim('late'), (err) => isStrataError(err, 'ErrElectionNotLeader'));
  await s2.close();
});

test('R8.3 an aborted campaign rejects with ErrAborted and withdraws the candidacy', { timeout: TEST_TIMEOUT_MS }, async () => {
  const s1 = await Session.create(member(0));
  const s2 = await Session.create(member(1));
  await new Election(s1, '/el3').campaign('x');
  const ctl = new AbortController();
  const c = track(new Election(s2, '/el3').campaign('y', { signal: ctl.signal }));
  await until(async () => (await candidates('/el3')) === 2, 'y is a candidate');
  ctl.abort();
  await assert.rejects(c.p, (err) => isStrataError(err, 'ErrAborted'));
  await until(async () => (await candidates('/el3')) === 1, 'candidacy withdrawn');
  await Promise.all([s1.close(), s2.close()]);
});

test('R8.3 failover when the member hosting the leader crashes: its session lapses and the next candidate wins', { timeout: TEST_TIMEOUT_MS }, async () => {
  const victim = h.cluster.node('node-3');
  const survivor = h.cluster.node('node-1');
  const s1 = await Session.create(victim, { ttl: 1 });
  const s2 = await Session.create(survivor, { ttl: 1 });
  await new Election(s1, '/el4').campaign('on-node-3');
  const next = new Election(s2, '/el4');
  const c = track(next.campaign('on-node-1'));
  await until(async () => (await survivor.get('/el4/', { prefix: true, countOnly: true })).count === 2, 'second candidate');
  await h.cluster.kill('node-3'); // keep-alives from node-3 stop; only the lease's expiry can end its leadership
  await s1.done;
  await c.p;
  assert.equal(c.error, undefined);
  assert.equal(text((await next.leader()).kvs[0]?.value), 'on-node-1');
  await s2.close();
});
