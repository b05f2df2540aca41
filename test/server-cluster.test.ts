// Cluster and maintenance functions, restarts and limits (issue #6; spec §9, §10, §11).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../src/server/local-cluster.ts';
import { StrataNode as Node } from '../src/server/strata-node.ts';
import { TcpTransport } from '../src/transport/tcp.ts';
import { isStrataError } from '../src/errors.ts';
import type { StrataNode } from '../src/server/strata-node.ts';

const dec = (b: Uint8Array | undefined): string => (b === undefined ? '<none>' : new TextDecoder().decode(b));
const code = (c: string) => (e: unknown) => isStrataError(e) && e.code === c;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('R9.1/R9.5 members.list and status', async () => {
  const c = await LocalCluster.start({ size: 3, tickMs: 50 });
  try {
    const leader = await c.waitForLeader();
    await leader.put('s', '1');
    const members = await c.nodes[1]!.members.list();
    assert.deepEqual(members.map((m) => m.name), ['node-1', 'node-2', 'node-3']);
    assert.deepEqual(members.map((m) => m.id), c.names.map((n) => c.idOf(n)));
    assert.ok(members.every((m) => !m.isLearner && m.peerURLs.length === 1));
    for (const n of c.nodes) {
      await n.get('s'); // applied here too
      const st = await n.status();
      assert.equal(st.memberId, n.id);
      assert.equal(st.leader, leader.id);
      assert.ok(st.raftTerm >= 1 && st.raftIndex >= 1 && st.appliedIndex <= st.raftIndex, JSON.stringify(st));
      assert.ok(st.dbSize > 0);
      assert.equal(st.isLearner, false);
      assert.equal(typeof st.version, 'string');
      assert.equal(st.dbSizeQuota, 2 * 1024 * 1024 * 1024, 'default quota 2 GiB');
    }
  } finally {
    await c.close();
  }
});

test('R10.1 kill and restart members on LevelStorage: acknowledged writes survive, a new leader is elected', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-server-'));
  const c = await LocalCluster.start({ size: 3, tickMs: 50, dataDir: dir });
  try {
    let leader = await c.waitForLeader();
    const acked = new Map<string, string>();
    for (let i = 0; i < 30; i++) {
      await c.nodes[i % 3]!.put(`/r/${i % 7}`, `v${i}`);
      acked.set(`/r/${i % 7}`, `v${i}`);
    }
    const lease = await leader.lease.grant(600);
    await leader.put('/r/leased', 'x', { lease: lease.id });
    const oldLeader = leader.name;
    await c.kill(oldLeader);
    leader = await c.waitForLeader();
    assert.notEqual(leader.name, oldLeader);
    await leader.put('/r/after', 'y');
    acked.set('/r/after', 'y');
    await c.restart(oldLeader);
    // Restart everybody: the state comes back from the Raft log on disk.
    for (const name of c.names) {
      await c.kill(name);
      await c.restart(name);
    }
    leader = await c.waitForLeader();
    for (const n of c.nodes) {
      for (const [k, v] of acked) assert.equal(dec((await n.get(k)).kvs[0]?.value), v, `${n.name} ${k}`);
    }
    const ttl = await leader.lease.timeToLive(lease.id, { keys: true });
    assert.deepEqual(ttl.keys?.map(dec), ['/r/leased'], 'leases and attachments survive restart');
    const w = await leader.put('/r/final', 'z');
    for (const n of c.nodes) await n.get('/r/final');
    const hashes = await Promise.all(c.nodes.map((n) => n.hashKV(w.revision)));
    assert.equal(new Set(hashes.map((h) => h.hash)).size, 1, 'R9.9 members agree after restarts');
  } finally {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('snapshots: a member that missed many entries catches up from a snapshot (MVCC + leases restored)', async () => {
  const c = await LocalCluster.start({ size: 3, tickMs: 50, nodeOptions: { snapshotCount: 50 } });
  try {
    let leader = await c.waitForLeader();
    const lagging = c.nodes.find((n) => n !== leader) as StrataNode;
    const name = lagging.name;
    await c.kill(name);
    const lease = await leader.lease.grant(600);
    await leader.put('/snap-leased', 'l', { lease: lease.id });
    for (let i = 0; i < 300; i++) await leader.put(`/snap/${i % 20}`, `v${i}`);
    await c.restart(name);
    leader = await c.waitForLeader();
    const back = c.node(name);
    const g = await back.get('/snap/', { prefix: true });
    assert.equal(g.count, 20);
    assert.equal(dec(g.kvs.find((kv) => dec(kv.key) === '/snap/19')?.value), 'v299');
    const t = await back.lease.timeToLive(lease.id, { keys: true });
    assert.equal(t.grantedTtl, 600);
    assert.deepEqual(t.keys?.map(dec), ['/snap-leased']);
    const rev = g.header.revision;
    const hashes = await Promise.all(c.nodes.map((n) => n.hashKV(rev)));
    assert.equal(new Set(hashes.map((h) => h.hash)).size, 1);
  } finally {
    await c.close();
  }
});

test('R9.7 quota: ErrNoSpace raises the NOSPACE alarm; writes fail, reads and deletes work; disarm clears it', async () => {
  const c = await LocalCluster.start({ size: 3, tickMs: 50, nodeOptions: { quotaBackendBytes: 64 * 1024 } });
  try {
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n !== leader) as StrataNode;
    const value = 'x'.repeat(4000);
    let failed: unknown;
    for (let i = 0; i < 100 && failed === undefined; i++) {
      try {
        await leader.put(`/q/${i}`, value);
      } catch (err) {
        failed = err;
      }
    }
    assert.ok(isStrataError(failed, 'ErrNoSpace'), String(failed));
    const until = performance.now() + 3000;
    while ((await follower.alarms.list()).length === 0 && performance.now() < until) await sleep(20);
    const alarms = await follower.alarms.list();
    assert.deepEqual(alarms.map((a) => a.alarm), ['NOSPACE']);
    await assert.rejects(follower.put('/q/small', 's'), code('ErrNoSpace'));
    await assert.rejects(follower.lease.grant(10), code('ErrNoSpace'));
    await assert.rejects(follower.txn({ success: [{ put: { key: '/q/t', value: '1' } }] }), code('ErrNoSpace'));
    assert.ok((await follower.get('/q/', { prefix: true, countOnly: true })).count > 0, 'reads work');
    const del = await follower.delete('/q/', { prefix: true });
    assert.ok(del.deleted > 0, 'deletes work');
    const st = await follower.status();
    assert.ok(st.errors.some((e) => e.includes('NOSPACE')));
    await follower.compact(del.revision, { physical: true });
    await follower.defragment();
    await follower.alarms.disarm();
    assert.deepEqual(await leader.alarms.list(), []);
    await follower.put('/q/ok', 'fine');
  } finally {
    await c.close();
  }
});

test('close(): pending and later calls reject with ErrStopped', async () => {
  const c = await LocalCluster.start({ size: 3, tickMs: 50 });
  try {
    const leader = await c.waitForLeader();
    const others = c.nodes.filter((n) => n !== leader);
    // Without a quorum a write cannot commit: it is still pending when the member closes.
    await c.kill(others[0]!.name);
    await c.kill(others[1]!.name);
    const pending = leader.put('/stop', 'x');
    const pendingRead = leader.get('/stop');
    await sleep(50);
    await leader.close();
    await assert.rejects(pending, code('ErrStopped'));
    await assert.rejects(pendingRead, code('ErrStopped'));
    await assert.rejects(leader.put('/stop', 'y'), code('ErrStopped'));
    await assert.rejects(leader.get('/stop', { serializable: true }), code('ErrStopped'));
  } finally {
    await c.close();
  }
});

test('R7.6 nothing expires while there is no leader; the next leader extends the lease', async () => {
  const c = await LocalCluster.start({ size: 3, tickMs: 50 });
  try {
    const leader = await c.waitForLeader();
    const l = await leader.lease.grant(1);
    await leader.put('/nl/k', 'v', { lease: l.id });
    const others = c.nodes.filter((n) => n !== leader);
    for (const n of others) await n.get('/nl/k');
    const survivor = others[0]!;
    await c.kill(leader.name);
    await c.kill(others[1]!.name);
    await sleep(1800);
    assert.equal((await survivor.get('/nl/k', { serializable: true })).count, 1, 'a follower alone expires nothing');
    await c.restart(others[1]!.name);
    await c.waitForLeader();
    const gone = Date.now() + 5000;
    while ((await survivor.get('/nl/k')).count > 0 && Date.now() < gone) await sleep(50);
    assert.equal((await survivor.get('/nl/k')).count, 0, 'expires once a leader has it');
  } finally {
    await c.close();
  }
});

test('StrataNode over TcpTransport: three members on loopback agree (any Transport works)', async () => {
  const transports = await Promise.all([1, 2, 3].map((id) => TcpTransport.listen({ id, port: 0 })));
  const cluster = transports.map((t, i) => ({ name: `tcp${i + 1}`, id: t.id, peerURLs: [`tcp://${t.address()}`] }));
  const nodes = await Promise.all(transports.map((t, i) => Node.open({ name: `tcp${i + 1}`, initialCluster: cluster, transport: t, tickMs: 50 })));
  try {
    const end = performance.now() + 10_000;
    while (!nodes.some((n) => n.isLeader) && performance.now() < end) await sleep(20);
    const w = await nodes[0]!.put('/tcp/k', 'over tcp');
    for (const n of nodes) assert.equal(dec((await n.get('/tcp/k')).kvs[0]?.value), 'over tcp');
    const hashes = await Promise.all(nodes.map((n) => n.hashKV(w.revision)));
    assert.equal(new Set(hashes.map((h) => h.hash)).size, 1);
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
});

test('R9.2–R9.4 members: add a learner, promote it, remove a member; errors', async () => {
  const c = await LocalCluster.start({ size: 3, tickMs: 50 });
  try {
    const leader = await c.waitForLeader();
    await leader.put('/m/k', 'before');
    await assert.rejects(leader.members.add({ name: 'dup', peerURLs: ['mem://node-1'] }), code('ErrPeerURLExist'));
    const learner = await c.addMember('node-4', { learner: true });
    await assert.rejects(leader.members.add({ name: 'node-5', peerURLs: ['mem://node-5'], isLearner: true }), code('ErrTooManyLearners'));
    const listed = await leader.members.list();
    assert.deepEqual(listed.map((m) => [m.name, m.isLearner]), [['node-1', false], ['node-2', false], ['node-3', false], ['node-4', true]]);
    // The learner catches up (serializable reads are what a learner serves, R9.4).
    const until = performance.now() + 5000;
    while ((await learner.get('/m/k', { serializable: true })).count === 0 && performance.now() < until) await sleep(20);
    assert.equal(dec((await learner.get('/m/k', { serializable: true })).kvs[0]?.value), 'before');
    await assert.rejects(learner.put('/m/x', 'y'), code('ErrNotSupportedForLearner'));
    await assert.rejects(learner.get('/m/k'), code('ErrNotSupportedForLearner'));
    assert.throws(() => learner.watch('/m/k'), code('ErrNotSupportedForLearner'));
    assert.equal((await learner.status()).isLearner, true);
    await assert.rejects(leader.members.promote(leader.id), code('ErrMemberNotLearner'));
    const follower = c.nodes.find((n) => n !== leader && n !== learner) as StrataNode;
    // Promote through a follower: etcd forwards it to the leader, which knows the
    // learner's progress from its acknowledgements — these may trail the learner's
    // own applied state on a loaded machine: retry while not ready.
    const ready = performance.now() + 5000;
    for (;;) {
      try {
        await follower.members.promote(learner.id);
        break;
      } catch (err) {
        if (!isStrataError(err) || err.code !== 'ErrLearnerNotReady' || performance.now() > ready) throw err;
        await sleep(20);
      }
    }
    assert.equal((await leader.members.list()).find((m) => m.id === learner.id)?.isLearner, false);
    const promoted = performance.now() + 5000;
    while ((await learner.status()).isLearner && performance.now() < promoted) await sleep(20);
    await learner.put('/m/k', 'after');
    await c.removeMember(follower.name);
    await assert.rejects(leader.members.remove(follower.id), code('ErrMemberNotFound'));
    const l2 = await c.waitForLeader();
    assert.equal((await l2.members.list()).length, 3);
    assert.equal(dec((await l2.get('/m/k')).kvs[0]?.value), 'after');
    assert.equal(learner.clusterId, leader.clusterId, 'a joined member agrees on the cluster id');
  } finally {
    await c.close();
  }
});

test('R9.2/R9.3 strict reconfiguration checks: ErrUnhealthy and ErrNotEnoughStartedMembers, on the leader and forwarded from a follower', async () => {
  const c = await LocalCluster.start({ size: 3, tickMs: 50 });
  try {
    const leader = await c.waitForLeader();
    await leader.put('/h/k', 'v');
    const [down, up] = c.nodes.filter((n) => n !== leader) as [StrataNode, StrataNode];
    const downId = down.id;
    await c.kill(down.name);
    await sleep(1500); // > one election timeout (500 ms): the leader no longer counts it as active
    // Removing an active voter would leave 1 active of 2: no quorum.
    await assert.rejects(leader.members.remove(up.id), code('ErrUnhealthy'));
    await assert.rejects(up.members.remove(up.id), code('ErrUnhealthy'), 'the leader refuses a forwarded removal with the same error');
    // Adding while a voter is not connected.
    await assert.rejects(leader.members.add({ name: 'node-4', peerURLs: ['mem://node-4'] }), code('ErrUnhealthy'));
    await assert.rejects(up.members.add({ name: 'node-5', peerURLs: ['mem://node-5'], isLearner: true }), code('ErrUnhealthy'));
    assert.deepEqual((await leader.members.list()).map((m) => m.id).sort(), [leader.id, downId, up.id].sort(), 'nothing reached the log');
    // A member that is down is safe to remove.
    await leader.members.remove(downId);
    // Now every voter is connected: a voter that never starts may be added (2 started of 3)...
    await leader.members.add({ name: 'node-4', peerURLs: ['mem://node-4'] });
    // ...but then removing a started one leaves 1 started of 2: ErrNotEnoughStartedMembers.
    await assert.rejects(up.members.remove(up.id), code('ErrNotEnoughStartedMembers'));
    // Writes still commit (2 of 3 voters).
    assert.ok((await up.put('/h/k', 'still')).header.revision > 0);
  } finally {
    await c.close();
  }
});

test('strictReconfigCheck: false turns the checks off (a change that breaks quorum is accepted)', async () => {
  const c = await LocalCluster.start({ size: 3, tickMs: 50, nodeOptions: { strictReconfigCheck: false } });
  try {
    const leader = await c.waitForLeader();
    const [down] = c.nodes.filter((n) => n !== leader) as [StrataNode];
    await c.kill(down.name);
    await sleep(1500);
    await leader.members.add({ name: 'node-4', peerURLs: ['mem://node-4'], isLearner: true });
    assert.equal((await leader.members.list()).length, 4);
  } finally {
    await c.close();
  }
});

test('auto-compaction (revision mode): the leader keeps the last N revisions', async () => {
  const c = await LocalCluster.start({ size: 3, tickMs: 50, nodeOptions: { autoCompactionRetention: 20, autoCompactionIntervalMs: 100 } });
  try {
    const leader = await c.waitForLeader();
    let last = 0;
    for (let i = 0; i < 60; i++) last = (await leader.put('/ac/k', `v${i}`)).revision;
    const until = performance.now() + 3000;
    while ((await leader.hashKV()).compactRevision < last - 25 && performance.now() < until) await sleep(50);
    const compactRev = (await leader.hashKV()).compactRevision;
    assert.ok(compactRev >= last - 25 && compactRev <= last - 20, `compacted to ${compactRev} (current ${last})`);
    await assert.rejects(leader.get('/ac/k', { revision: compactRev - 1 }), code('ErrCompacted'));
    assert.equal((await leader.get('/ac/k', { revision: last - 20 })).kvs.length, 1, 'the retained window is readable');
  } finally {
    await c.close();
  }
});

test('writes and linearizable reads issued before any leader is known wait for the election instead of being dropped', async () => {
  const c = await LocalCluster.start({ size: 3, tickMs: 20, waitForLeader: false });
  try {
    const n = c.nodes[0]!;
    assert.equal((await n.status()).leader, 0, 'no leader yet right after start');
    const put = await n.put('early', 'bird');
    assert.equal(put.header.revision, 2);
    assert.equal(dec((await n.get('early')).kvs[0]?.value), 'bird');
  } finally {
    await c.close();
  }
});
