// StrataNode Lease service over a LocalCluster (issue #6; spec §7).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCluster } from '../src/server/local-cluster.ts';
import { isStrataError } from '../src/errors.ts';
import type { StrataNode } from '../src/server/strata-node.ts';

const dec = (b: Uint8Array | undefined): string => (b === undefined ? '<none>' : new TextDecoder().decode(b));
const code = (c: string) => (e: unknown) => isStrataError(e) && e.code === c;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// tick 50 ms × 10 = 500 ms election timeout ⇒ minimum TTL ceil(0.75 s) = 1 s.
let cluster: LocalCluster;
let leader: StrataNode;
let follower: StrataNode;

before(async () => {
  cluster = await LocalCluster.start({ size: 3, tickMs: 50, nodeOptions: { leaseCheckpointIntervalMs: 0 } });
  leader = await cluster.waitForLeader();
  follower = cluster.nodes.find((n) => n !== leader) as StrataNode;
});
after(async () => {
  await cluster.close();
});

async function until(pred: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await pred()) return true;
    await sleep(50);
  }
  return pred();
}

test('R7.1 grant through a follower: TTL raised to the minimum, generated ids unique, errors', async () => {
  const a = await follower.lease.grant(0);
  assert.equal(a.ttl, 1, 'ceil(1.5 × 500 ms) = 1 s');
  assert.ok(a.id > 0);
  const b = await leader.lease.grant(30);
  assert.equal(b.ttl, 30);
  assert.notEqual(a.id, b.id);
  const c = await follower.lease.grant(10, { id: 4242 });
  assert.equal(c.id, 4242);
  await assert.rejects(leader.lease.grant(10, { id: 4242 }), code('ErrLeaseExists'));
  await assert.rejects(leader.lease.grant(9_000_000_001), code('ErrLeaseTTLTooLarge'));
  const rev = (await leader.get('x')).header.revision;
  assert.equal(c.header.revision <= rev, true, 'grant creates no revision');
  await leader.lease.revoke(4242);
});

test('R7.2/R7.4 revoke deletes every attached key in one revision; unknown lease => ErrLeaseNotFound', async () => {
  const l = await follower.lease.grant(60);
  for (const k of ['/l/c', '/l/a', '/l/b']) await follower.put(k, 'v', { lease: l.id });
  await leader.put('/l/free', 'v');
  const start = (await leader.get('/l/')).header.revision + 1;
  const ac = new AbortController();
  const events: Array<[string, string, number]> = [];
  const watching = (async () => {
    for await (const resp of cluster.nodes[2]!.watch('/l/', { prefix: true, startRevision: start, signal: ac.signal })) {
      for (const e of resp.events) events.push([e.type, dec(e.kv.key), e.kv.modRevision]);
      if (events.length >= 3) break;
    }
  })();
  const r = await follower.lease.revoke(l.id);
  await watching;
  ac.abort();
  assert.deepEqual(events.map((e) => e[1]), ['/l/a', '/l/b', '/l/c'], 'sorted key order');
  assert.ok(events.every((e) => e[0] === 'delete' && e[2] === r.header.revision), 'one revision');
  const g = await leader.get('/l/', { prefix: true });
  assert.deepEqual(g.kvs.map((kv) => dec(kv.key)), ['/l/free']);
  await assert.rejects(leader.lease.revoke(l.id), code('ErrLeaseNotFound'));
  await assert.rejects(follower.put('/l/x', 'v', { lease: l.id }), code('ErrLeaseNotFound'));
});

test('R3.3 a put without a lease detaches the key: revoking the old lease leaves it', async () => {
  const l = await leader.lease.grant(60);
  await leader.put('/d/k', '1', { lease: l.id });
  await follower.put('/d/k', '2');
  const ttl = await leader.lease.timeToLive(l.id, { keys: true });
  assert.deepEqual(ttl.keys, []);
  await leader.lease.revoke(l.id);
  assert.equal(dec((await leader.get('/d/k')).kvs[0]?.value), '2');
});

test('R7.3/R7.5 keepAliveOnce, timeToLive with keys, leases list; unknown => TTL 0 / -1', async () => {
  const l = await leader.lease.grant(20);
  await leader.put('/t/k', 'v', { lease: l.id });
  const ka = await follower.lease.keepAliveOnce(l.id);
  assert.equal(ka.ttl, 20);
  const t = await follower.lease.timeToLive(l.id, { keys: true });
  assert.equal(t.grantedTtl, 20);
  assert.ok(t.ttl >= 18 && t.ttl <= 20, `ttl ${t.ttl}`);
  assert.deepEqual(t.keys?.map(dec), ['/t/k']);
  const lt = await leader.lease.timeToLive(l.id);
  assert.ok(lt.ttl >= 18 && lt.ttl <= 20);
  assert.equal(lt.keys, undefined);
  assert.equal((await follower.lease.keepAliveOnce(987654)).ttl, 0);
  assert.equal((await follower.lease.timeToLive(987654)).ttl, -1);
  const list = await cluster.nodes[2]!.lease.list();
  assert.ok(list.leases.some((x) => x.id === l.id));
  await leader.lease.revoke(l.id);
});

test('R7.6 the leader expires a lease by proposing a revoke: its keys vanish on every member', async () => {
  const l = await follower.lease.grant(1);
  await follower.put('/e/k', 'v', { lease: l.id });
  const t0 = performance.now();
  const gone = await until(async () => (await leader.get('/e/k')).count === 0, 5000);
  assert.ok(gone, 'expired within 5 s');
  assert.ok(performance.now() - t0 >= 500, 'not before most of its TTL');
  for (const n of cluster.nodes) assert.equal((await n.get('/e/k')).count, 0);
  assert.equal((await follower.lease.timeToLive(l.id)).ttl, -1);
  assert.equal((await follower.lease.keepAliveOnce(l.id)).ttl, 0, 'R7.3 expired lease renews to TTL 0');
});

test('R7.3 keepAlive keeps a short lease alive until closed; then it expires', async () => {
  const l = await follower.lease.grant(1);
  await follower.put('/ka/k', 'v', { lease: l.id });
  const handle = follower.lease.keepAlive(l.id);
  const seen: number[] = [];
  const reading = (async () => {
    for await (const r of handle) {
      seen.push(r.ttl);
      if (seen.length >= 3) break;
    }
  })();
  await sleep(2500);
  await reading;
  assert.ok(seen.length >= 3 && seen.every((t) => t === 1), `responses ${seen.join(',')}`);
  assert.equal((await leader.get('/ka/k')).count, 1, 'still alive after 2.5 × TTL');
  handle.close();
  await handle.done;
  const gone = await until(async () => (await leader.get('/ka/k')).count === 0, 5000);
  assert.ok(gone, 'expires once keep-alives stop');
});

test('R7.7 a new leader extends leases: remaining = full TTL + election timeout; R9.6 moveLeader', async () => {
  const l = await leader.lease.grant(4);
  await sleep(1200);
  const before = await leader.lease.timeToLive(l.id);
  assert.ok(before.ttl <= 3, `old leader counts down (${before.ttl})`);
  await assert.rejects(follower.moveLeader(leader.id), code('ErrNotLeader'));
  await assert.rejects(leader.moveLeader(123), code('ErrBadLeaderTransferee'));
  const target = follower;
  await leader.moveLeader(target.id);
  const now = await cluster.waitForLeader();
  assert.equal(now.id, target.id);
  const after = await target.lease.timeToLive(l.id);
  // The new leader restarts from the full 4 s TTL plus 0.5 s; the old one had < 3 s left.
  assert.ok(after.ttl > before.ttl && after.ttl >= 3, `extended on the new leader (${before.ttl} -> ${after.ttl})`);
  await target.lease.revoke(l.id);
  leader = target;
  follower = cluster.nodes.find((n) => n !== leader) as StrataNode;
});

test('R7.8 with checkpoints, a new leader continues from the checkpointed remaining TTL', async () => {
  const c = await LocalCluster.start({ size: 3, tickMs: 50, nodeOptions: { leaseCheckpointIntervalMs: 400 } });
  try {
    const l0 = await c.waitForLeader();
    const lease = await l0.lease.grant(8);
    await sleep(2500);
    const target = c.nodes.find((n) => n !== l0) as StrataNode;
    await l0.moveLeader(target.id);
    await c.waitForLeader();
    const t = await target.lease.timeToLive(lease.id);
    assert.ok(t.ttl <= 7, `restarts from the checkpoint (~5.5 s + 0.5 s), not the full 8 s (${t.ttl})`);
    assert.ok(t.ttl >= 4, `and still extends it (${t.ttl})`);
    const ka = await target.lease.keepAliveOnce(lease.id);
    assert.equal(ka.ttl, 8, 'a renewal clears the checkpoint');
  } finally {
    await c.close();
  }
});
