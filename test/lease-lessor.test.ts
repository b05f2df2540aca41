// Lessor: pure lease bookkeeping (spec §7), driven by explicit times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lessor, minLeaseTtl, MAX_LEASE_TTL, LeaseIdGenerator, keyString } from '../src/lease/index.ts';
import { isStrataError } from '../src/errors.ts';
import { SeededRandom } from '../src/util/rng.ts';

const k = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

test('R7.1 minimum TTL is ceil(1.5 x election timeout): 2 s for 1 s', () => {
  assert.equal(minLeaseTtl(1000), 2);
  assert.equal(minLeaseTtl(500), 1);
  assert.equal(minLeaseTtl(3000), 5);
});

test('R7.1 grant: TTL raised to the minimum, explicit id kept, ErrLeaseExists, ErrLeaseTTLTooLarge', () => {
  const l = new Lessor({ minTtl: 2 });
  assert.deepEqual(l.grant(5, 1, 0), { id: 5, ttl: 2 });
  assert.deepEqual(l.grant(6, 60, 0), { id: 6, ttl: 60 });
  assert.throws(() => l.grant(5, 10, 0), (e: unknown) => isStrataError(e, 'ErrLeaseExists'));
  assert.throws(() => l.grant(7, MAX_LEASE_TTL + 1, 0), (e: unknown) => isStrataError(e, 'ErrLeaseTTLTooLarge'));
  assert.deepEqual(l.grant(8, MAX_LEASE_TTL, 0), { id: 8, ttl: MAX_LEASE_TTL });
  assert.throws(() => l.grant(-1, 10, 0), (e: unknown) => isStrataError(e, 'ErrInvalidArgument'));
  assert.deepEqual(l.list(), [5, 6, 8]);
  assert.equal(l.has(7), false, 'a rejected grant changes nothing');
});

test('R7.1 id 0 generates unique positive ids, distinct across members', () => {
  const a = new Lessor({ idGenerator: new LeaseIdGenerator(1, 1000) });
  const b = new Lessor({ idGenerator: new LeaseIdGenerator(2, 1000) });
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) {
    for (const l of [a, b]) {
      const { id } = l.grant(0, 10, 0);
      assert.ok(id > 0 && Number.isSafeInteger(id));
      assert.ok(!seen.has(id));
      seen.add(id);
    }
  }
  // The generator skips ids that are already live.
  const c = new Lessor({ idGenerator: new LeaseIdGenerator(1, 0) });
  c.grant(new LeaseIdGenerator(1, 0).next(), 10, 0);
  const { id } = c.grant(0, 10, 0);
  assert.equal(c.size, 2);
  assert.ok(id > 0);
});

test('R7.4 revoke returns attached keys sorted and forgets them; unknown id => ErrLeaseNotFound', () => {
  const l = new Lessor();
  l.grant(1, 10, 0);
  for (const key of ['c', 'a', 'b']) l.attach(1, k(key));
  assert.equal(l.leaseOf(k('a')), 1);
  assert.deepEqual(l.revoke(1).map(str), ['a', 'b', 'c']);
  assert.equal(l.leaseOf(k('a')), 0);
  assert.throws(() => l.revoke(1), (e: unknown) => isStrataError(e, 'ErrLeaseNotFound'));
  l.grant(2, 10, 0);
  assert.deepEqual(l.revoke(2), [], 'a lease without keys revokes to no keys');
});

test('R3.3 a key has at most one lease: attach moves it, detach removes it', () => {
  const l = new Lessor();
  l.grant(1, 10, 0);
  l.grant(2, 10, 0);
  l.attach(1, k('x'));
  l.attach(2, k('x'));
  assert.equal(l.leaseOf(k('x')), 2);
  assert.deepEqual(l.timeToLive(1, 0, true).keys, []);
  assert.deepEqual(l.timeToLive(2, 0, true).keys?.map(str), ['x']);
  l.detach(k('x'));
  assert.equal(l.leaseOf(k('x')), 0);
  l.detach(k('never'));
  assert.throws(() => l.attach(9, k('x')), (e: unknown) => isStrataError(e, 'ErrLeaseNotFound'));
});

test('R7.3 renew on the primary: TTL = granted TTL; unknown or expired => 0; non-primary refuses', () => {
  const l = new Lessor({ minTtl: 2 });
  assert.throws(() => l.renew(1, 0), (e: unknown) => isStrataError(e, 'ErrNotLeader'));
  l.promote(0, 0);
  l.grant(1, 10, 0);
  assert.equal(l.renew(1, 5000), 10);
  assert.equal(l.timeToLive(1, 5000).ttl, 10);
  assert.equal(l.renew(42, 5000), 0);
  assert.equal(l.renew(1, 15_000), 0, 'expired at 15 s: renew reports 0');
});

test('R7.5 timeToLive: floor of remaining seconds, granted TTL, keys; unknown => -1', () => {
  const l = new Lessor();
  l.promote(0, 0);
  l.grant(3, 10, 1000);
  l.attach(3, k('k1'));
  const t = l.timeToLive(3, 3500, true);
  assert.equal(t.ttl, 7); // 11 000 - 3500 = 7.5 s -> 7
  assert.equal(t.grantedTtl, 10);
  assert.deepEqual(t.keys?.map(str), ['k1']);
  assert.deepEqual(l.timeToLive(99, 0), { id: 99, ttl: -1, grantedTtl: 0 });
});

test('R7.6 only the primary expires leases; followers hold them forever; rate limited', () => {
  const l = new Lessor({ revokeRate: 10, expiredRetryMs: 3000 });
  l.grant(100, 2, 0);
  assert.deepEqual(l.expired(1_000_000), [], 'a follower never reports expiry');
  l.revoke(100);
  l.promote(0, 0);
  for (let id = 1; id <= 20; id++) l.grant(id, 2, 0); // granted on the primary: all expire at 2000
  assert.deepEqual(l.expired(1999), []);
  const first = l.expired(2000);
  assert.equal(first.length, 5, 'half a second of a 10/s rate');
  const second = l.expired(2000);
  assert.equal(second.length, 5);
  assert.equal(new Set([...first, ...second]).size, 10, 'reported leases are not reported again');
  l.expired(2000);
  l.expired(2000);
  assert.deepEqual(l.expired(2000), []);
  assert.equal(l.expired(5000).length, 5, 'unrevoked leases are reported again after the retry interval');
  l.demote();
  assert.deepEqual(l.expired(1e9), []);
});

test('R7.7 promote: expiry = now + remaining + election timeout (leader change extends leases)', () => {
  const l = new Lessor();
  l.grant(1, 10, 0);
  l.grant(2, 100, 0);
  l.checkpoint(2, 30);
  l.promote(50_000, 1000);
  assert.equal(l.lookup(1)?.expiry, 50_000 + 1000 + 10_000);
  assert.equal(l.lookup(2)?.expiry, 50_000 + 1000 + 30_000, 'a checkpoint counts as the remaining TTL');
  assert.deepEqual(l.expired(60_999), []);
  assert.deepEqual(l.expired(61_000), [1]);
});

test('R7.7 promote spreads >= 1000 leases expiring together to about 750/s', () => {
  const l = new Lessor({ revokeRate: 1000 });
  for (let id = 1; id <= 3000; id++) l.grant(id, 10, 0);
  l.promote(0, 1000);
  const perSecond = new Map<number, number>();
  for (const id of l.list()) {
    const e = l.lookup(id)?.expiry ?? 0;
    assert.ok(e >= 11_000);
    const s = Math.floor((e - 11_000) / 1000);
    perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
  }
  for (const [, n] of perSecond) assert.ok(n <= 751, `at most ~750 per second, got ${n}`);
  assert.ok(perSecond.size >= 4);
});

test('R7.8 checkpoints: due for long leases, applied on all members, cleared by renew', () => {
  const l = new Lessor();
  l.promote(0, 0);
  l.grant(1, 600, 0);
  l.grant(2, 10, 0);
  const due = l.checkpointsDue(100_000, 300_000);
  assert.deepEqual(due, [{ id: 1, remainingTtl: 500 }]);
  const follower = new Lessor();
  follower.grant(1, 600, 0);
  follower.checkpoint(1, 500);
  assert.equal(follower.lookup(1)?.remainingTtl, 500);
  follower.renewApplied(1, 200);
  assert.equal(follower.lookup(1)?.remainingTtl, 0);
  follower.checkpoint(77, 5); // unknown: ignored
});

test('renewApplied on a follower estimates expiry from the local refresh', () => {
  const l = new Lessor();
  l.grant(1, 10, 0);
  assert.equal(l.timeToLive(1, 4000).ttl, 6);
  assert.equal(l.renewApplied(1, 5000), 10);
  assert.equal(l.timeToLive(1, 5000).ttl, 10);
  assert.equal(l.renewApplied(1, 16_000), 0, 'locally estimated as expired');
  assert.equal(l.renewApplied(2, 0), 0);
});

test('snapshot/restore round-trips the replicated lease state', () => {
  const rng = new SeededRandom(Number(process.env.SEED ?? 7));
  const a = new Lessor();
  for (let i = 0; i < 50; i++) {
    const { id } = a.grant(0, rng.range(1, 500), 0);
    if (rng.chance(0.3)) a.checkpoint(id, rng.range(1, 100));
    a.attach(id, k(`key${i}`));
  }
  const b = new Lessor();
  b.grant(999, 5, 0);
  b.restore(a.snapshot(), 0);
  assert.deepEqual(b.snapshot(), a.snapshot());
  assert.equal(b.has(999), false);
  assert.equal(b.leaseOf(k('key1')), 0, 'attachments are rebuilt by the caller');
  assert.ok(keyString(k('x')) === 'x');
});
