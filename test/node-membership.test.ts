// Issue #5 scenario tests through RaftNode: removing the leader, replacing a crashed member,
// joint consensus (several changes at once), one change at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStrataError } from '../src/errors.ts';
import { ConfChangeTransition, ConfChangeType, StateRole } from '../src/raft/types.ts';
import { Cluster, enc } from './node-harness.ts';

const seed = Number(process.env.SEED ?? 11);

test('issue #5: removing the leader — it commits its removal and steps down; the rest elect a leader', async (t) => {
  t.diagnostic(`seed=${seed}`);
  const c = new Cluster([1, 2, 3], {}, seed);
  await c.start();
  const l = await c.electLeader();
  let removed = false;
  l.on('removed', () => {
    removed = true;
  });
  const cs = await c.wait(l.removeMember(l.id));
  assert.ok(!cs.voters.includes(l.id));
  assert.ok(removed, 'the removed member is told');
  const rest = [1, 2, 3].filter((x) => x !== l.id);
  await c.until(() => rest.some((id) => c.node(id).status().role === StateRole.Leader));
  assert.notEqual(l.status().role, StateRole.Leader);
  const nl = rest.map((id) => c.node(id)).find((n) => n.status().role === StateRole.Leader)!;
  const r = await c.wait(nl.propose(enc('after-removal')));
  await c.until(() => rest.every((id) => c.node(id).appliedIndex >= r.index));
  assert.deepEqual([...nl.status().voters].sort(), rest);
});

test('issue #5: replacing a crashed member (remove it, add a new voter that catches up)', async () => {
  const c = new Cluster([1, 2, 3], { snapshotCount: 20, snapshotCatchUpEntries: 5 }, seed);
  await c.start();
  const l = await c.electLeader();
  for (let i = 0; i < 30; i++) await c.wait(l.propose(enc(`v${i}`)));
  const dead = [1, 2, 3].find((x) => x !== l.id)!;
  c.node(dead).halt();
  c.net.down(dead);
  await c.wait(l.removeMember(dead));
  const cs = await c.wait(l.addMember(4, { context: 'mem://4' }));
  assert.deepEqual([...cs.voters].sort(), [1, 2, 3, 4].filter((x) => x !== dead));
  await c.boot(4, []);
  await c.until(() => c.node(4).appliedIndex >= l.appliedIndex);
  const r = await c.wait(c.node(4).propose(enc('from-new-member')));
  await c.until(() => l.appliedIndex >= r.index);
  assert.equal(c.sm(4).digest(), c.sm(l.id).digest());
});

test('issue #5: joint consensus — two voters in, one out, in one change; one change at a time', async () => {
  const c = new Cluster([1, 2, 3], {}, seed);
  await c.start();
  const l = await c.electLeader();
  const out = [1, 2, 3].find((x) => x !== l.id)!;
  const p = l.changeMembership(
    [
      { type: ConfChangeType.AddNode, nodeId: 4 },
      { type: ConfChangeType.AddNode, nodeId: 5 },
      { type: ConfChangeType.RemoveNode, nodeId: out },
    ],
    { transition: ConfChangeTransition.JointImplicit },
  );
  // A second change while the first is pending is refused.
  await assert.rejects(
    c.wait(l.addMember(6, { learner: true })),
    (e: unknown) => isStrataError(e, 'ErrConfChangePending'),
  );
  await c.boot(4, []);
  await c.boot(5, []);
  const joint = await c.wait(p);
  assert.ok(joint.votersOutgoing.length > 0, 'entered the joint configuration C_old,new');
  // Auto-leave: the configuration settles on C_new.
  const want = [1, 2, 3, 4, 5].filter((x) => x !== out);
  await c.until(() => {
    const s = c.leader()?.configuration;
    return s !== undefined && s.votersOutgoing.length === 0 && [...s.voters].sort().join() === want.join();
  });
  const nl = c.leader()!;
  const r = await c.wait(nl.propose(enc('in-new-config')));
  await c.until(() => want.every((id) => c.node(id).appliedIndex >= r.index));
});
