// RaftNode driver scenarios (issue #8 RaftNode, issue #4 snapshots/restart, issue #5 membership)
// on a VirtualClock + MemoryNetwork + MemoryStorage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStrataError } from '../src/errors.ts';
import { StateRole } from '../src/raft/types.ts';
import { Cluster, enc } from './node-harness.ts';
import { DigestStateMachine } from '../src/sim/state-machine.ts';
import type { StateMachine } from '../src/node/state-machine.ts';

const seed = Number(process.env.SEED ?? 7);

test('issue #8: a 3-node cluster elects one leader and emits leaderChange/roleChange (Raft §5.2)', async (t) => {
  t.diagnostic(`seed=${seed}`);
  const c = new Cluster([1, 2, 3], {}, seed);
  const leaders: number[] = [];
  const roles: string[] = [];
  await c.start();
  for (const n of c.nodes.values()) {
    n.on('leaderChange', (l) => leaders.push(l));
    n.on('roleChange', (r) => roles.push(r));
  }
  const l = await c.electLeader();
  const st = l.status();
  assert.equal(st.role, StateRole.Leader);
  assert.deepEqual(st.voters, [1, 2, 3]);
  assert.equal([...c.nodes.values()].filter((n) => n.status().role === StateRole.Leader).length, 1);
  assert.ok(leaders.filter((x) => x === l.id).length >= 3, 'every member saw the leader');
  assert.ok(roles.includes(StateRole.Leader));
});

test('issue #8: propose from the leader and from a follower resolves once applied, identically everywhere', async () => {
  const c = new Cluster([1, 2, 3], {}, seed);
  await c.start();
  const l = await c.electLeader();
  const f = [...c.nodes.values()].find((n) => n.id !== l.id)!;
  const a = c.wait(l.propose(enc('from-leader')));
  const b = c.wait(f.propose(enc('from-follower')));
  const [ra, rb] = await Promise.all([a, b]);
  assert.ok(ra.index > 0 && rb.index > 0 && ra.index !== rb.index);
  assert.equal(ra.term, l.status().term);
  assert.ok(f.appliedIndex >= rb.index, 'the follower acknowledged only after applying');
  // Results come from the state machine (the running count).
  assert.ok(ra.result >= 1 && rb.result >= 1 && ra.result !== rb.result);
  await c.until(() => [...c.nodes.values()].every((n) => n.appliedIndex >= Math.max(ra.index, rb.index)));
  const digests = new Set([1, 2, 3].map((id) => c.sm(id).digest()));
  assert.equal(digests.size, 1);
  assert.equal(c.sm(1).count, 2);
});

test('issue #8: many concurrent proposals are batched (one save covers many entries)', async () => {
  const c = new Cluster([1, 2, 3], {}, seed);
  await c.start();
  const l = await c.electLeader();
  const st = c.storages.get(l.id)!;
  const saves0 = st.stats.saves;
  const ps = Array.from({ length: 200 }, (_, i) => l.propose(enc(`p${i}`)));
  const rs = await c.wait(Promise.all(ps));
  assert.equal(new Set(rs.map((r) => r.index)).size, 200);
  assert.ok(st.stats.saves - saves0 < 50, `saves ${st.stats.saves - saves0} for 200 proposals`);
});

test('issue #8: readIndex resolves once the local member applied the read index (linearizable read)', async () => {
  const c = new Cluster([1, 2, 3], {}, seed);
  await c.start();
  const l = await c.electLeader();
  const r = await c.wait(l.propose(enc('x')));
  for (const n of c.nodes.values()) {
    const ri = await c.wait(n.readIndex());
    assert.ok(ri >= r.index, `read index ${ri} covers the acknowledged write ${r.index}`);
    assert.ok(n.appliedIndex >= ri);
  }
});

test('issue #8: transferLeadership hands over to the named voter; bad transferee is rejected', async () => {
  const c = new Cluster([1, 2, 3], {}, seed);
  await c.start();
  const l = await c.electLeader();
  const to = [1, 2, 3].find((x) => x !== l.id)!;
  await c.wait(l.transferLeadership(to));
  await c.until(() => c.node(to).status().role === StateRole.Leader);
  await assert.rejects(l.transferLeadership(99), (e: unknown) => isStrataError(e, 'ErrBadLeaderTransferee'));
});

test('issue #8: stop() rejects pending calls with ErrStopped; an aborted signal rejects with ErrAborted', async () => {
  const c = new Cluster([1, 2, 3], {}, seed);
  await c.start();
  const l = await c.electLeader();
  // Cut the leader off: its proposal is appended but cannot commit.
  c.net.isolate(l.id);
  const p = assert.rejects(l.propose(enc('stuck')), (e: unknown) => isStrataError(e, 'ErrStopped'));
  const ac = new AbortController();
  const q = assert.rejects(l.propose(enc('aborted'), { signal: ac.signal }), (e: unknown) => isStrataError(e, 'ErrAborted'));
  const r = assert.rejects(l.readIndex(), (e: unknown) => isStrataError(e, 'ErrStopped'));
  await c.advance(200);
  ac.abort();
  await q;
  await l.stop();
  await p;
  await r;
  await assert.rejects(l.propose(enc('late')), (e: unknown) => isStrataError(e, 'ErrStopped'));
  // Already-aborted signal.
  const f = [...c.nodes.values()].find((n) => n.id !== l.id)!;
  await assert.rejects(f.propose(enc('x'), { signal: AbortSignal.abort() }), (e: unknown) => isStrataError(e, 'ErrAborted'));
});

test('issue #8: a proposal with no leader is rejected with ErrProposalDropped', async () => {
  const c = new Cluster([1, 2, 3], {}, seed);
  await c.start();
  await assert.rejects(c.wait(c.node(1).propose(enc('early'))), (e: unknown) => isStrataError(e, 'ErrProposalDropped'));
});

test('issue #4: snapshots every snapshotCount entries, log compaction, a lagging follower installs the snapshot', async () => {
  const c = new Cluster([1, 2, 3], { snapshotCount: 20, snapshotCatchUpEntries: 5 }, seed);
  await c.start();
  const l = await c.electLeader();
  const lag = [1, 2, 3].find((x) => x !== l.id)!;
  c.net.isolate(lag);
  for (let i = 0; i < 80; i++) await c.wait(l.propose(enc(`v${i}`)));
  assert.ok(l.log.firstIndex() > 40, `leader compacted its log (first ${l.log.firstIndex()})`);
  assert.ok(l.log.snapshot().metadata.index >= 60, 'leader took snapshots');
  const saved = c.storages.get(l.id)!.durableState();
  assert.ok((saved.snapshot?.metadata.index ?? 0) >= 60, 'snapshot saved to storage');
  c.net.heal();
  await c.until(() => c.node(lag).appliedIndex >= l.appliedIndex);
  assert.ok(c.node(lag).log.snapshot().metadata.index > 0, 'follower installed a snapshot');
  assert.equal(c.sm(lag).digest(), c.sm(l.id).digest());
  // Writes keep working after the install.
  const r = await c.wait(c.node(lag).propose(enc('after')));
  await c.until(() => c.node(lag).appliedIndex >= r.index && l.appliedIndex >= r.index);
  assert.equal(c.sm(lag).digest(), c.sm(l.id).digest());
});

test('issue #4: a member restarted from its MemoryStorage restores snapshot + log and rejoins', async () => {
  const c = new Cluster([1, 2, 3], { snapshotCount: 15, snapshotCatchUpEntries: 3 }, seed);
  await c.start();
  const l = await c.electLeader();
  const f = [1, 2, 3].find((x) => x !== l.id)!;
  for (let i = 0; i < 40; i++) await c.wait(l.propose(enc(`v${i}`)));
  await c.until(() => c.node(f).appliedIndex >= l.appliedIndex);
  const before = c.sm(f).digest();
  const applied = c.node(f).appliedIndex;
  c.node(f).halt();
  c.storages.get(f)!.crash();
  const n = await c.boot(f);
  await c.until(() => n.appliedIndex >= applied);
  assert.equal(c.sm(f).count, Number(before.split(':')[0]));
  const r = await c.wait(l.propose(enc('post-restart')));
  await c.until(() => n.appliedIndex >= r.index);
  assert.equal(c.sm(f).digest(), c.sm(l.id).digest());
});

test('issue #8: a message-duplicating network applies each proposal exactly once (envelope dedup)', async () => {
  const c = new Cluster([1, 2, 3], {}, seed, { minDelay: 1, maxDelay: 5, duplicateRate: 0.5 });
  await c.start();
  const l = await c.electLeader();
  const f = [...c.nodes.values()].find((n) => n.id !== l.id)!;
  const rs = await c.wait(Promise.all(Array.from({ length: 30 }, (_, i) => f.propose(enc(`d${i}`)))));
  assert.equal(rs.length, 30);
  await c.advance(500);
  for (const id of [1, 2, 3]) assert.equal(c.sm(id).count, 30, `member ${id} applied each proposal once`);
});

test('issue #5: add a learner, promote it once caught up, remove a voter', async () => {
  const c = new Cluster([1, 2, 3], {}, seed);
  await c.start();
  const l = await c.electLeader();
  for (let i = 0; i < 10; i++) await c.wait(l.propose(enc(`v${i}`)));
  // A learner cut off cannot be promoted yet.
  c.net.isolate(4);
  const cs = await c.wait(l.addMember(4, { learner: true, context: 'mem://4' }));
  assert.deepEqual(cs.learners, [4]);
  await c.boot(4, []);
  await c.advance(300);
  await assert.rejects(l.promoteMember(4), (e: unknown) => isStrataError(e, 'ErrLearnerNotReady'));
  await assert.rejects(l.promoteMember(2), (e: unknown) => isStrataError(e, 'ErrMemberNotLearner'));
  // From a follower the change is forwarded; the leader's refusal comes back typed (MsgPropReject).
  const [f1, f2] = [1, 2, 3].filter((x) => x !== l.id) as [number, number];
  await assert.rejects(c.wait(c.node(f2).promoteMember(4), 1000), (e: unknown) => isStrataError(e, 'ErrLearnerNotReady'));
  assert.deepEqual(l.status().learners, [4], 'the refused promotion never reached the log');
  c.net.heal();
  await c.until(() => c.node(4).appliedIndex >= l.appliedIndex);
  await c.until(() => (l.raftStatus()?.progress.get(4)?.match ?? 0) >= l.status().lastIndex);
  assert.equal(c.node(4).status().role, StateRole.Follower);
  const cs2 = await c.wait(c.node(f2).promoteMember(4));
  assert.deepEqual([...cs2.voters].sort(), [1, 2, 3, 4]);
  const victim = f1;
  const cs3 = await c.wait(l.removeMember(victim));
  assert.ok(!cs3.voters.includes(victim));
  await assert.rejects(l.removeMember(victim), (e: unknown) => isStrataError(e, 'ErrMemberNotFound'));
  // The cluster still commits with the new configuration.
  const r = await c.wait(c.node(4).propose(enc('new-config')));
  assert.ok(r.index > 0);
  assert.deepEqual([...c.node(4).status().voters].sort(), [1, 2, 3, 4].filter((x) => x !== victim));
});

test('issue #8: a proposal lost to a new leader rejects with ErrLeaderChanged (Raft §5.3 log repair)', async () => {
  const c = new Cluster([1, 2, 3], {}, seed);
  await c.start();
  const old = await c.electLeader();
  c.net.isolate(old.id);
  // Appended on the isolated leader only: it can never commit.
  const lost = assert.rejects(old.propose(enc('doomed')), (e: unknown) => isStrataError(e, 'ErrLeaderChanged'));
  const rest = [1, 2, 3].filter((x) => x !== old.id);
  await c.until(() => rest.some((id) => c.node(id).status().role === StateRole.Leader));
  const nl = c.node(rest.find((id) => c.node(id).status().role === StateRole.Leader)!);
  const r = await c.wait(nl.propose(enc('winner')));
  c.net.heal();
  await c.until(() => old.appliedIndex >= r.index);
  await lost;
  assert.equal(c.sm(old.id).digest(), c.sm(nl.id).digest());
});

test('issue #8: a transfer to an unreachable voter times out with ErrTimeoutLeaderTransfer', async () => {
  const c = new Cluster([1, 2, 3], {}, seed);
  await c.start();
  const l = await c.electLeader();
  const to = [1, 2, 3].find((x) => x !== l.id)!;
  c.net.isolate(to);
  await assert.rejects(c.wait(l.transferLeadership(to)), (e: unknown) => isStrataError(e, 'ErrTimeoutLeaderTransfer'));
  c.net.heal();
  // Leadership stays usable (the transfer is abandoned).
  await c.until(() => c.leader() !== undefined);
  const r = await c.wait(c.leader()!.propose(enc('after-timeout')));
  assert.ok(r.index > 0);
});

test('etcd ErrTooManyRequests: proposals are refused while the applied index trails the commit index by more than maxApplyLag (a restart replaying its log)', async () => {
  const c = new Cluster([1], { maxApplyLag: 20, snapshotCount: 10_000 }, seed);
  await c.start();
  const l = await c.electLeader();
  for (let i = 0; i < 30; i++) await c.wait(l.propose(enc(`v${i}`)));
  const committed = l.commitIndex;
  l.halt();
  // Restart with a state machine whose first apply waits until released.
  const inner = new DigestStateMachine();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const gated: StateMachine<number> = {
    apply: async (entries) => {
      await gate;
      return inner.apply(entries);
    },
    snapshot: () => inner.snapshot(),
    restore: (data) => inner.restore(data),
  };
  const n = await c.boot(1, [1], { stateMachine: gated });
  await c.advance(5);
  assert.equal(n.commitIndex, committed, 'the commit index is known from the hard state');
  assert.ok(committed - n.appliedIndex > 20, `applied ${n.appliedIndex} of ${committed}`);
  await assert.rejects(n.propose(enc('too-soon')), (e: unknown) => isStrataError(e, 'ErrTooManyRequests'));
  await assert.rejects(n.addMember(9), (e: unknown) => isStrataError(e, 'ErrTooManyRequests'));
  release();
  await c.until(() => n.appliedIndex >= committed);
  assert.equal(inner.count, 30, 'the refused proposals never reached the log');
  await c.electLeader();
  const r = await c.wait(n.propose(enc('after')));
  assert.equal(r.result, 31);
});

test('issue #4: snapshotLogBytes: a snapshot once the applied entries outweigh the limit (and the last snapshot), whatever snapshotCount says', async () => {
  const c = new Cluster([1, 2, 3], { snapshotCount: 1_000_000, snapshotLogBytes: 2_000 }, seed);
  await c.start();
  const l = await c.electLeader();
  const payload = new Uint8Array(200).fill(7);
  const snapshotAt: number[] = [];
  for (let i = 0; i < 40; i++) {
    await c.wait(l.propose(payload));
    const at = l.log.snapshot().metadata.index;
    if (at > (snapshotAt.at(-1) ?? 0)) snapshotAt.push(at);
  }
  // 221 bytes per enveloped entry: a snapshot about every 10 entries, never after fewer than 9.
  assert.ok(snapshotAt.length >= 3, `snapshots at ${snapshotAt.join(', ')}`);
  for (let i = 1; i < snapshotAt.length; i++) assert.ok(snapshotAt[i]! - snapshotAt[i - 1]! >= 9, `snapshots at ${snapshotAt.join(', ')}`);
  // Followers snapshot on their own as well, and everyone still agrees.
  await c.until(() => [...c.nodes.values()].every((n) => n.appliedIndex === l.appliedIndex));
  for (const id of [1, 2, 3]) assert.ok(c.node(id).log.snapshot().metadata.index > 0, `member ${id} took a snapshot`);
  assert.equal(new Set([1, 2, 3].map((id) => c.sm(id).digest())).size, 1);
});
