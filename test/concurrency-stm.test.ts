// STM (R8.4) on a 3-member LocalCluster: conflict retries, what each
// isolation level checks, and a randomised bank-transfer run whose total
// must be preserved (serializable results under contention).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSTM } from '../src/concurrency/index.ts';
import type { Isolation } from '../src/concurrency/index.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { TEST_TIMEOUT_MS, text, useCluster } from './concurrency-harness.ts';

const { member } = useCluster();
const value = async (key: string): Promise<string> => text((await member(0).get(key)).kvs[0]?.value);

test('R8.4 reads of keys written in the same attempt return the buffered value; writes apply atomically', { timeout: TEST_TIMEOUT_MS }, async () => {
  await member(0).put('/stm0/a', '1');
  const r = await runSTM(member(1), async (stm) => {
    const before = await stm.get('/stm0/a');
    stm.put('/stm0/a', 'x');
    stm.put('/stm0/b', 'y');
    stm.del('/stm0/c');
    return [before, await stm.get('/stm0/a'), await stm.get('/stm0/missing'), String(await stm.rev('/stm0/missing'))];
  });
  assert.deepEqual(r.result, ['1', 'x', '', '0']);
  assert.equal(r.attempts, 1);
  assert.equal(r.response.succeeded, true);
  const a = (await member(2).get('/stm0/a')).kvs[0]!;
  const b = (await member(2).get('/stm0/b')).kvs[0]!;
  assert.equal(a.modRevision, b.modRevision, 'one revision for all writes');
  assert.equal(a.modRevision, r.response.header.revision);
});

test('R8.4 a conflicting write makes the function run again with fresh data (every level but readCommitted)', { timeout: TEST_TIMEOUT_MS }, async () => {
  for (const isolation of ['serializableSnapshot', 'serializable', 'repeatableReads'] as Isolation[]) {
    const key = `/stm1/${isolation}`;
    await member(1).put(key, '10'); // through the STM's member: its serializable reads see it
    let runs = 0;
    const r = await runSTM(
      member(1),
      async (stm) => {
        runs++;
        const v = Number(await stm.get(key));
        if (runs === 1) await member(2).put(key, '100'); // another client changes what we read
        stm.put(key, String(v + 1));
        return v;
      },
      { isolation },
    );
    assert.equal(r.attempts, 2, isolation);
    assert.equal(runs, 2);
    assert.equal(r.result, 100, `${isolation}: the retry read the new value`);
    assert.equal(await value(key), '101', `${isolation}: no lost update`);
  }
});

test('R8.4 readCommitted checks nothing: the commit succeeds and the concurrent update is lost', { timeout: TEST_TIMEOUT_MS }, async () => {
  await member(1).put('/stm2/k', '10'); // through the STM's member: its serializable reads see it
  const r = await runSTM(
    member(1),
    async (stm) => {
      const v = Number(await stm.get('/stm2/k'));
      await member(2).put('/stm2/k', '100');
      stm.put('/stm2/k', String(v + 1));
    },
    { isolation: 'readCommitted' },
  );
  assert.equal(r.attempts, 1);
  assert.equal(await value('/stm2/k'), '11');
});

test('R8.4 repeatableReads reads each key once; serializableSnapshot reads one snapshot and also guards written keys', { timeout: TEST_TIMEOUT_MS }, async () => {
  // repeatableReads: the second read of a key returns the cached value.
  await member(1).put('/stm3/k', 'old');
  let runs = 0;
  const perRun: string[][] = [];
  const rr = await runSTM(
    member(1),
    async (stm) => {
      runs++;
      const first = await stm.get('/stm3/k');
      if (runs === 1) await member(2).put('/stm3/k', 'new');
      perRun.push([first, await stm.get('/stm3/k')]);
      return perRun[perRun.length - 1];
    },
    { isolation: 'repeatableReads' },
  );
  assert.deepEqual(perRun, [
    ['old', 'old'],
    ['new', 'new'],
  ]);
  assert.deepEqual(rr.result, ['new', 'new']);
  assert.equal(rr.attempts, 2, 'the read set changed: retried');

  // serializableSnapshot: a key read after another client's write is read at the first read's revision.
  await member(0).put('/stm3/a', 'a0');
  await member(0).put('/stm3/b', 'b0');
  runs = 0;
  perRun.length = 0;
  const snap = await runSTM(member(1), async (stm) => {
    runs++;
    const a = await stm.get('/stm3/a');
    if (runs === 1) await member(2).put('/stm3/b', 'b1');
    perRun.push([a, await stm.get('/stm3/b')]);
    return perRun[perRun.length - 1];
  });
  assert.deepEqual(perRun, [
    ['a0', 'b0'],
    ['a0', 'b1'],
  ]);
  assert.deepEqual(snap.result, ['a0', 'b1']);
  assert.equal(snap.attempts, 2, 'the first attempt read b0 from the snapshot, then conflicted');

  // A blind write to a key changed after the snapshot: serializableSnapshot retries, serializable does not.
  for (const [isolation, attempts] of [
    ['serializableSnapshot', 2],
    ['serializable', 1],
  ] as Array<[Isolation, number]>) {
    const k = `/stm3/w-${isolation}`;
    await member(0).put(k, 'v0');
    runs = 0;
    const r = await runSTM(
      member(1),
      async (stm) => {
        runs++;
        await stm.get('/stm3/a'); // fixes the snapshot
        if (runs === 1) await member(2).put(k, 'v1');
        stm.put(k, 'mine');
      },
      { isolation },
    );
    assert.equal(r.attempts, attempts, isolation);
    assert.equal(await value(k), 'mine');
  }
});

test('R8.4 an error thrown by the function aborts without writing; prefetch joins the read set', { timeout: TEST_TIMEOUT_MS }, async () => {
  await assert.rejects(
    runSTM(member(0), async (stm) => {
      stm.put('/stm4/never', 'x');
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal((await member(1).get('/stm4/never')).kvs.length, 0);
  await member(0).put('/stm4/p', '7');
  const r = await runSTM(member(2), async (stm) => Number(await stm.get('/stm4/p')), { prefetch: ['/stm4/p'] });
  assert.equal(r.result, 7);
});

test('R8.4 bank transfers from 6 clients on 3 members keep the total (serializable results under conflicts)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const seed = Number(process.env.SEED ?? 4242);
  t.diagnostic(`seed=${seed}`);
  const rng = new SeededRandom(seed);
  const accounts = 5;
  const initial = 100;
  for (let i = 0; i < accounts; i++) await member(0).put(`/bank/${i}`, String(initial));
  let totalAttempts = 0;
  let transfers = 0;
  await Promise.all(
    Array.from({ length: 6 }, async (_, c) => {
      const node = member(c);
      const local = rng.fork();
      for (let n = 0; n < 8; n++) {
        const from = local.int(accounts);
        const to = (from + 1 + local.int(accounts - 1)) % accounts;
        const amount = 1 + local.int(40);
        const r = await runSTM(node, async (stm) => {
          const a = Number(await stm.get(`/bank/${from}`));
          const b = Number(await stm.get(`/bank/${to}`));
          if (a < amount) return false; // never overdraw
          stm.put(`/bank/${from}`, String(a - amount));
          stm.put(`/bank/${to}`, String(b + amount));
          return true;
        });
        totalAttempts += r.attempts;
        if (r.result) transfers++;
      }
    }),
  );
  const balances = await Promise.all(Array.from({ length: accounts }, async (_, i) => Number(await value(`/bank/${i}`))));
  t.diagnostic(`transfers=${transfers} attempts=${totalAttempts} balances=${balances.join(',')}`);
  assert.equal(
    balances.reduce((x, y) => x + y, 0),
    accounts * initial,
    'money is neither created nor destroyed',
  );
  assert.ok(balances.every((b) => b >= 0), 'no account overdrawn');
  assert.ok(transfers > 0);
});
