// Session (R8.1), Mutex (R8.2) and RWMutex (R8.9) on a 3-member LocalCluster,
// with clients talking to different members.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStrataError } from '../src/errors.ts';
import { Mutex, RWMutex, Session, DEFAULT_SESSION_TTL } from '../src/concurrency/index.ts';
import type { KVClient } from '../src/concurrency/index.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { TEST_TIMEOUT_MS, sleep, text, track, until, useCluster } from './concurrency-harness.ts';

const h = useCluster();
const { member } = h;
const keysUnder = (pfx: string): Promise<number> => h.countPrefix(`${pfx}/`);

test('R8.1 session: default TTL 60 s, keep-alive renews, close() revokes the lease and fires done', { timeout: TEST_TIMEOUT_MS }, async () => {
  const s = await Session.create(member(0));
  const ttl = await member(1).lease.timeToLive(s.lease);
  assert.equal(ttl.grantedTtl, DEFAULT_SESSION_TTL);
  await member(2).put('/r81/k', 'v', { lease: s.lease });
  assert.equal(s.isDone, false);
  await s.close();
  await s.done;
  assert.equal(s.signal.aborted, true);
  assert.equal((await member(0).lease.timeToLive(s.lease)).ttl, -1, 'lease revoked');
  assert.equal((await member(1).get('/r81/k')).kvs.length, 0, 'keys of the lease deleted');
  await s.close(); // idempotent
});

test('R8.1 session: keep-alive outlives the TTL; orphan() stops it and the lease then expires', { timeout: TEST_TIMEOUT_MS }, async () => {
  const s = await Session.create(member(1), { ttl: 1 });
  await member(1).put('/r81b/k', 'v', { lease: s.lease });
  await sleep(1800); // longer than the TTL: only renewals keep the key
  assert.equal((await member(0).get('/r81b/k')).kvs.length, 1, 'key kept alive by the session');
  s.orphan();
  await s.done;
  await until(async () => (await member(2).get('/r81b/k')).kvs.length === 0, 'orphaned lease to expire');
  // A session on an existing lease does not grant a new one.
  const g = await member(0).lease.grant(30);
  const s2 = await Session.create(member(2), { lease: g.id });
  assert.equal(s2.lease, g.id);
  await s2.close();
});

test('R8.2 mutual exclusion: read-modify-write under the lock from 6 clients on 3 members loses no update', { timeout: TEST_TIMEOUT_MS }, async () => {
  const clients = 6;
  const rounds = 5;
  const sessions = await Promise.all(Array.from({ length: clients }, (_, i) => Session.create(member(i))));
  await member(0).put('/r82/counter', '0');
  let inside = 0;
  let maxInside = 0;
  await Promise.all(
    sessions.map(async (s, i) => {
      const m = new Mutex(s, '/r82/lock');
      const node = member(i);
      for (let r = 0; r < rounds; r++) {
        await m.lock();
        inside++;
        maxInside = Math.max(maxInside, inside);
        const v = Number(text((await node.get('/r82/counter')).kvs[0]?.value));
        await sleep(1);
        await node.put('/r82/counter', String(v + 1));
        inside--;
        await m.unlock();
      }
    }),
  );
  assert.equal(maxInside, 1, 'never two holders at once');
  assert.equal(text((await member(2).get('/r82/counter')).kvs[0]?.value), String(clients * rounds));
  assert.equal(await keysUnder('/r82/lock'), 0, 'every lock key removed');
  await Promise.all(sessions.map((s) => s.close()));
});

test('R8.2 waiters acquire in FIFO order (each watches its predecessor)', { timeout: TEST_TIMEOUT_MS }, async () => {
  const holder = await Session.create(member(0));
  const hm = new Mutex(holder, '/fifo');
  await hm.lock();
  const order: number[] = [];
  const waiters: Array<Promise<void>> = [];
  const sessions: Session[] = [];
  for (let i = 1; i <= 4; i++) {
    const s = await Session.create(member(i));
    sessions.push(s);
    const m = new Mutex(s, '/fifo');
    waiters.push(
      m.lock().then(async () => {
        order.push(i);
        await sleep(5);
        await m.unlock();
      }),
    );
    await until(async () => (await keysUnder('/fifo')) === i + 1, `waiter ${i} queued`);
  }
  await sleep(50);
  assert.deepEqual(order, [], 'nobody acquires while the lock is held');
  await hm.unlock();
  await Promise.all(waiters);
  assert.deepEqual(order, [1, 2, 3, 4]);
  await Promise.all([holder, ...sessions].map((s) => s.close()));
});

test('R8.2 tryLock gives ErrLocked and leaves no key; unlock twice gives ErrLockReleased; isOwner() guards writes', { timeout: TEST_TIMEOUT_MS }, async () => {
  const a = await Session.create(member(0));
  const b = await Session.create(member(1));
  const ma = new Mutex(a, '/try');
  const mb = new Mutex(b, '/try');
  await ma.tryLock();
  assert.equal(ma.key, `/try/${a.lease.toString(16)}`);
  assert.ok(ma.header !== undefined && ma.header.revision > 0);
  await assert.rejects(mb.tryLock(), (err) => isStrataError(err, 'ErrLocked'));
  assert.equal(await keysUnder('/try'), 1, 'the failed tryLock removed its key');
  const guarded = await member(2).txn({ compare: [ma.isOwner()], success: [{ put: { key: '/try-data', value: 'x' } }] });
  assert.equal(guarded.succeeded, true, 'owner compare holds while locked');
  const stale = ma.isOwner();
  await ma.unlock();
  await assert.rejects(ma.unlock(), (err) => isStrataError(err, 'ErrLockReleased'));
  const late = await member(2).txn({ compare: [stale], success: [{ put: { key: '/try-data', value: 'y' } }] });
  assert.equal(late.succeeded, false, 'owner compare fails after unlock');
  await mb.tryLock(); // free now
  await mb.unlock();
  await Promise.all([a.close(), b.close()]);
});

test('R8.2 two Mutexes on one session and prefix share one key, so both hold the lock', { timeout: TEST_TIMEOUT_MS }, async () => {
  const s = await Session.create(member(0));
  const m1 = new Mutex(s, '/shared');
  const m2 = new Mutex(s, '/shared');
  await m1.lock();
  await m2.lock(); // same key: does not wait
  assert.equal(m1.key, m2.key);
  assert.equal(await keysUnder('/shared'), 1);
  await m1.unlock();
  await s.close();
});

test('R8.2 a holder whose session expires releases the lock; a waiter whose session dies gets ErrSessionExpired', { timeout: TEST_TIMEOUT_MS }, async () => {
  // Holder's session stops renewing: its key expires with the lease and the waiter gets the lock.
  const dying = await Session.create(member(0), { ttl: 1 });
  const live = await Session.create(member(1));
  await new Mutex(dying, '/exp').lock();
  const waiter = track(new Mutex(live, '/exp').lock());
  await until(async () => (await keysUnder('/exp')) === 2, 'waiter queued');
  dying.orphan();
  await waiter.p;
  assert.equal(waiter.error, undefined);

  // Now `live` holds; a waiter on a session that dies fails with ErrSessionExpired and leaves no key.
  const dying2 = await Session.create(member(2), { ttl: 1 });
  const w2 = track(new Mutex(dying2, '/exp').lock());
  await until(async () => (await keysUnder('/exp')) === 2, 'second waiter queued');
  dying2.orphan();
  await assert.rejects(w2.p, (err) => isStrataError(err, 'ErrSessionExpired'));
  assert.equal(await keysUnder('/exp'), 1, 'only the holder is left');
  await live.close();
  assert.equal(await keysUnder('/exp'), 0, 'closing the session released the lock');
});

test('R8.2 an aborted lock() rejects with ErrAborted and withdraws from the queue', { timeout: TEST_TIMEOUT_MS }, async () => {
  const a = await Session.create(member(0));
  const b = await Session.create(member(1));
  const c = await Session.create(member(2));
  const ma = new Mutex(a, '/abort');
  await ma.lock();
  const ctl = new AbortController();
  const wb = track(new Mutex(b, '/abort').lock({ signal: ctl.signal }));
  await until(async () => (await keysUnder('/abort')) === 2, 'b queued');
  const wc = track(new Mutex(c, '/abort').lock());
  await until(async () => (await keysUnder('/abort')) === 3, 'c queued');
  ctl.abort();
  await assert.rejects(wb.p, (err) => isStrataError(err, 'ErrAborted'));
  await until(async () => (await keysUnder('/abort')) === 2, "b's key removed");
  assert.equal(wc.done, false, 'c still waits for a');
  await ma.unlock();
  await wc.p;
  await Promise.all([a.close(), b.close(), c.close()]);
});

test('R8.9 RWMutex: readers share, a writer excludes readers and writers, later readers wait for an earlier writer', { timeout: TEST_TIMEOUT_MS }, async () => {
  const rng = new SeededRandom(Number(process.env.SEED ?? 7));
  const sessions = await Promise.all([0, 1, 2, 3].map((i) => Session.create(member(i))));
  const [r1, r2, w, r3] = sessions.map((s) => new RWMutex(s, '/rw')) as [RWMutex, RWMutex, RWMutex, RWMutex];
  await r1.rLock();
  await r2.rLock(); // readers do not block readers
  const wl = track(w.lock());
  await until(async () => (await keysUnder('/rw')) === 3, 'writer queued');
  const rl = track(r3.rLock());
  await until(async () => (await keysUnder('/rw')) === 4, 'late reader queued');
  await sleep(30);
  assert.equal(wl.done, false, 'writer waits for readers');
  assert.equal(rl.done, false, 'reader after a waiting writer waits');
  await r1.rUnlock();
  await sleep(Math.floor(rng.next() * 20));
  assert.equal(wl.done, false, 'writer still waits for the second reader');
  await r2.rUnlock();
  await wl.p;
  await sleep(30);
  assert.equal(rl.done, false, 'reader waits while the writer holds');
  await w.unlock();
  await rl.p;
  await r3.rUnlock();
  await assert.rejects(r3.rUnlock(), (err) => isStrataError(err, 'ErrLockReleased'));
  assert.equal(await keysUnder('/rw'), 0);
  await Promise.all(sessions.map((s) => s.close()));
});

test('R8.2 recipes take any KVClient: a wrapper that delegates to a member (and counts calls) works', { timeout: TEST_TIMEOUT_MS }, async () => {
  const node = member(2);
  const calls = { txn: 0, watch: 0 };
  const client: KVClient = {
    put: (k, v, o) => node.put(k, v, o),
    get: (k, o) => node.get(k, o),
    delete: (k, o) => node.delete(k, o),
    txn: (r, o) => {
      calls.txn++;
      return node.txn(r, o);
    },
    watch: (k, o) => {
      calls.watch++;
      return node.watch(k, o);
    },
    lease: {
      grant: (ttl, o) => node.lease.grant(ttl, o),
      revoke: (id, o) => node.lease.revoke(id, o),
      keepAlive: (id, o) => node.lease.keepAlive(id, o),
    },
  };
  const holder = await Session.create(member(0));
  const hm = new Mutex(holder, '/adapt');
  await hm.lock();
  const s = await Session.create(client);
  const waiting = new Mutex(s, '/adapt').lock();
  await until(async () => (await keysUnder('/adapt')) === 2, 'wrapped client queued');
  // The waiter opens its watch on the predecessor through the wrapper; unlock only
  // once it is waiting there, so the hand-over itself goes through the wrapper.
  await until(() => calls.watch >= 1, 'wrapped client watching');
  await hm.unlock();
  await waiting;
  assert.ok(calls.txn >= 1, 'the recipe went through the wrapper');
  await Promise.all([holder.close(), s.close()]);
  assert.equal(await keysUnder('/adapt'), 0);
});
