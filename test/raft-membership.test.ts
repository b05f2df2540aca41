// Scenario tests for membership changes (issue #5, core part): simple
// changes, one pending change at a time, joint consensus with auto-leave and
// explicit leave, demotion through learnersNext, removing the leader,
// replacing a crashed member, catching up a new member by snapshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeTransition as TR, ConfChangeType as CT, EntryType, LogStore, MessageType as T, StateRole } from '../src/raft/index.ts';
import type { ConfChange, ConfState } from '../src/raft/index.ts';
import { decode } from '../src/codec/index.ts';
import { isStrataError } from '../src/errors.ts';
import { decodeRefusal } from '../src/raft/refusal.ts';
import { Network, brief, drainReady, enc, lone, msg, storeWith } from './raft-network.ts';

const cs = (voters: number[], learners: number[] = [], votersOutgoing: number[] = [], learnersNext: number[] = [], autoLeave = false): ConfState => ({
  voters,
  learners,
  votersOutgoing,
  learnersNext,
  autoLeave,
});
const cfg = (net: Network, id: number) => net.node(id).status().config;
const simple = (type: CT, nodeId: number): ConfChange => ({ transition: TR.Auto, changes: [{ type, nodeId }] });

function cluster(ids: number[], joiners: number[] = []): Network {
  const net = new Network(ids);
  for (const id of joiners) net.add(id, new LogStore()); // joins with an empty config, as `initial-cluster-state existing`
  net.campaign(1);
  assert.equal(net.node(1).status().role, StateRole.Leader);
  return net;
}

test('membership (issue #5): adding a voter takes effect when applied, on every node including the new one', () => {
  const net = cluster([1, 2, 3], [4]);
  net.propose(1, 'before');
  net.node(1).proposeConfChange(simple(CT.AddNode, 4));
  net.settle();
  for (const id of [1, 2, 3, 4]) assert.deepEqual(cfg(net, id), { voters: [1, 2, 3, 4], votersOutgoing: [], learners: [], learnersNext: [] }, `node ${id}`);
  net.propose(1, 'after');
  assert.deepEqual(net.appliedData(4), ['before', 'after']);
  assert.deepEqual(net.get(1).confStates, [cs([1, 2, 3, 4])]);
  // Commit now needs 3 of 4.
  net.isolate(3);
  net.isolate(4);
  net.propose(1, 'no quorum');
  assert.equal(net.node(1).status().commit, net.node(1).status().lastIndex - 1);
});

test('membership (issue #5): a second conf change is refused while one is pending, accepted once applied', () => {
  const net = cluster([1, 2, 3], [4, 5]);
  net.node(1).proposeConfChange(simple(CT.AddNode, 4));
  assert.throws(() => net.node(1).proposeConfChange(simple(CT.AddNode, 5)), (e) => isStrataError(e, 'ErrConfChangePending'));
  net.settle();
  net.node(1).proposeConfChange(simple(CT.AddNode, 5));
  net.settle();
  assert.deepEqual(cfg(net, 5).voters, [1, 2, 3, 4, 5]);
});

test('membership (issue #5): a new leader does not propose a conf change before its log tail is applied', () => {
  const net = cluster([1, 2, 3], [4]);
  // Leader 2 is elected; until it applies its no-op, a conf change could race an unapplied one.
  net.node(2).transferLeader(2);
  net.node(1).transferLeader(2);
  net.settle();
  assert.equal(net.node(2).status().role, StateRole.Leader);
  const r = net.node(2).raft;
  assert.ok(r.pendingConfIndex >= 1);
  // Pretend the tail is not applied yet.
  const applied = r.raftLog.applied;
  r.raftLog.applied = r.pendingConfIndex - 1;
  assert.throws(() => net.node(2).proposeConfChange(simple(CT.AddNode, 4)), (e) => isStrataError(e, 'ErrConfChangePending'));
  r.raftLog.applied = applied;
  net.node(2).proposeConfChange(simple(CT.AddNode, 4));
  net.settle();
  assert.deepEqual(cfg(net, 4).voters, [1, 2, 3, 4]);
});

test('membership (issue #5): a forwarded conf change that is not allowed becomes an empty entry', () => {
  const net = cluster([1, 2, 3], [4, 5]);
  net.node(1).proposeConfChange(simple(CT.AddNode, 4));
  net.node(2).proposeConfChange(simple(CT.AddNode, 5)); // forwarded while 4's is pending
  net.settle();
  assert.deepEqual(cfg(net, 1).voters, [1, 2, 3, 4]);
  const ccEntries = net.get(1).applied.filter((e) => e.type === EntryType.ConfChange);
  assert.equal(ccEntries.length, 1);
  assert.deepEqual(net.get(1).confStates, [cs([1, 2, 3, 4])]);
  // The leader told the forwarding member why (its driver fails the caller with that error).
  const refusals = net.trace.filter((m) => m.type === T.MsgPropReject);
  assert.equal(refusals.length, 1);
  assert.equal(refusals[0]!.from, 1);
  assert.equal(refusals[0]!.to, 2);
  assert.deepEqual(decode<ConfChange>(refusals[0]!.entries[0]!.data).changes, [{ type: CT.AddNode, nodeId: 5 }]);
  assert.equal(decodeRefusal(refusals[0]!.context).code, 'ErrConfChangePending');
});

test('membership (issue #5): several changes go through joint consensus and leave it automatically', () => {
  const net = cluster([1, 2, 3], [4, 5]);
  net.node(1).proposeConfChange({ transition: TR.Auto, changes: [{ type: CT.AddNode, nodeId: 4 }, { type: CT.AddNode, nodeId: 5 }, { type: CT.RemoveNode, nodeId: 3 }] });
  net.settle();
  for (const id of [1, 2]) {
    assert.deepEqual(net.get(id).confStates, [cs([1, 2, 4, 5], [], [1, 2, 3], [], true), cs([1, 2, 4, 5])], `node ${id} went C_old,new then C_new`);
  }
  for (const id of [4, 5]) assert.deepEqual(cfg(net, id), { voters: [1, 2, 4, 5], votersOutgoing: [], learners: [], learnersNext: [] });
  const ccs = net.get(1).applied.filter((e) => e.type === EntryType.ConfChange).map((e) => decode<ConfChange>(e.data).changes.length);
  assert.deepEqual(ccs, [3, 0], 'the leader proposed the empty leave-joint change itself');
});

test('membership (issue #5): in a joint config decisions need both majorities', () => {
  const net = cluster([1, 2, 3], [4, 5, 6]);
  net.node(1).proposeConfChange({ transition: TR.JointExplicit, changes: [4, 5, 6].map((nodeId) => ({ type: CT.AddNode, nodeId })) });
  net.settle();
  assert.deepEqual(cfg(net, 1), { voters: [1, 2, 3, 4, 5, 6], votersOutgoing: [1, 2, 3], learners: [], learnersNext: [] }, 'explicit: stays joint');
  assert.throws(() => net.node(1).proposeConfChange(simple(CT.RemoveNode, 2)), (e) => isStrataError(e, 'ErrInvalidArgument'));
  // Old majority {1,2} cut from the new voters 4,5,6 except via 1: 1+2 is a majority of C_old but not of C_new.
  net.isolate(3);
  net.isolate(4);
  net.isolate(5);
  net.isolate(6);
  const before = net.node(1).status().commit;
  net.propose(1, 'x');
  assert.equal(net.node(1).status().commit, before, 'majority of C_old alone does not commit');
  net.heal();
  net.isolate(3);
  net.isolate(2);
  net.propose(1, 'y');
  // x is now on {1,2} (C_old majority) and {1,2,4,5,6} (C_new majority): committed.
  // y is on {1,4,5,6}: a majority of C_new only.
  assert.deepEqual([net.node(1).status().commit, net.node(1).status().lastIndex], [before + 1, before + 2], 'majority of C_new alone does not commit');
  net.heal();
  net.tick(1);
  assert.equal(net.node(1).status().commit, net.node(1).status().lastIndex);
  net.node(1).proposeConfChange({ transition: TR.Auto, changes: [] });
  net.settle();
  assert.deepEqual(cfg(net, 6), { voters: [1, 2, 3, 4, 5, 6], votersOutgoing: [], learners: [], learnersNext: [] });
});

test('membership (issue #5): demoting a voter stages it in learnersNext until the joint config is left', () => {
  const net = cluster([1, 2, 3]);
  net.node(1).proposeConfChange({ transition: TR.JointImplicit, changes: [{ type: CT.AddLearnerNode, nodeId: 3 }] });
  net.settle();
  assert.deepEqual(net.get(2).confStates, [cs([1, 2], [], [1, 2, 3], [3], true), cs([1, 2], [3])]);
  assert.equal(net.node(3).raft.isLearner, true);
  net.tick(100, [3]);
  assert.equal(net.node(3).status().role, StateRole.Follower, 'the demoted node no longer campaigns');
});

test('membership (issue #5): a removed leader hands leadership to a voter of the new config and steps down', () => {
  const net = cluster([1, 2, 3]);
  net.propose(1, 'a');
  net.node(1).proposeConfChange(simple(CT.RemoveNode, 1));
  net.settle();
  assert.deepEqual(cfg(net, 1).voters, [2, 3]);
  assert.equal(net.node(1).status().role, StateRole.Follower);
  for (const id of [2, 3]) assert.deepEqual(cfg(net, id).voters, [2, 3], `node ${id} applied the removal`);
  // Hand-off: the most up-to-date voter (lowest id on a tie) gets MsgTimeoutNow and wins at once.
  assert.deepEqual(net.trace.filter((m) => m.type === T.MsgTimeoutNow).map((m) => [m.from, m.to, m.term]), [[1, 2, 1]]);
  assert.deepEqual([net.node(2).status().role, net.node(2).status().term], [StateRole.Leader, 2]);
  const lead = 2;
  net.propose(lead, 'b');
  for (const id of [2, 3]) assert.deepEqual(net.appliedData(id), ['a', 'b']);
  net.tick(100);
  assert.equal(net.node(1).status().role, StateRole.Follower, 'the removed node never campaigns');
  net.campaign(1);
  assert.equal(net.node(1).status().role, StateRole.Follower, 'not even when asked to');
});

test('membership (issue #5): replacing a crashed member (remove 3, add 4)', () => {
  const net = cluster([1, 2, 3], [4]);
  net.propose(1, 'a');
  net.isolate(3);
  net.node(1).proposeConfChange(simple(CT.RemoveNode, 3));
  net.settle();
  net.node(1).proposeConfChange(simple(CT.AddNode, 4));
  net.settle();
  net.propose(1, 'b');
  assert.deepEqual(cfg(net, 4).voters, [1, 2, 4]);
  assert.deepEqual(net.appliedData(4), ['a', 'b']);
  // Node 3 is gone: 1 and 4 alone form a quorum.
  net.isolate(2);
  net.propose(1, 'c');
  assert.deepEqual(net.appliedData(4), ['a', 'b', 'c']);
});

test('membership (issue #5): a new member behind a compacted log is caught up by snapshot', () => {
  const net = cluster([1, 2, 3], [4]);
  net.isolate(4);
  net.node(1).proposeConfChange(simple(CT.AddLearnerNode, 4));
  net.settle();
  for (let i = 0; i < 5; i++) net.propose(1, `v${i}`);
  // The snapshot holds the config as of its index (which includes learner 4).
  net.snapshot(1);
  assert.equal(net.node(1).status().firstIndex, 8);
  net.heal();
  net.tick(1);
  const snaps = net.trace.filter((m) => m.type === T.MsgSnap && m.to === 4);
  assert.equal(snaps.length, 1);
  assert.equal(snaps[0]!.snapshot!.metadata.index, 7);
  assert.deepEqual(snaps[0]!.snapshot!.metadata.confState, cs([1, 2, 3], [4]));
  assert.deepEqual(cfg(net, 4), { voters: [1, 2, 3], votersOutgoing: [], learners: [4], learnersNext: [] });
  net.propose(1, 'after');
  assert.deepEqual(net.appliedData(4), ['v0', 'v1', 'v2', 'v3', 'v4', 'after']);
  assert.equal(net.get(4).store.snapshot().metadata.index, 7, 'the snapshot reached the LogStore');
  const p = net.node(1).status().progress.get(4)!;
  assert.deepEqual([p.state, p.isLearner, p.match], ['replicate', true, net.node(1).status().lastIndex]);
});

test('membership (issue #5): a member added after the last snapshot installs it and joins when it applies its addition', () => {
  const net = cluster([1, 2, 3], [4]);
  for (let i = 0; i < 3; i++) net.propose(1, `v${i}`);
  net.snapshot(1); // config {1,2,3}: 4 is not in it
  net.node(1).proposeConfChange(simple(CT.AddLearnerNode, 4));
  net.settle();
  const snaps = net.trace.filter((m) => m.type === T.MsgSnap && m.to === 4);
  assert.equal(snaps.length, 1);
  assert.deepEqual(snaps[0]!.snapshot!.metadata.confState, cs([1, 2, 3]));
  assert.deepEqual(cfg(net, 4), { voters: [1, 2, 3], votersOutgoing: [], learners: [4], learnersNext: [] }, 'joined by applying the entry after the snapshot');
  assert.deepEqual(net.appliedData(4), ['v0', 'v1', 'v2']);
  assert.equal(net.node(1).status().progress.get(4)!.state, 'replicate');
});

test('membership (issue #5): a vote rejection carries the commit index, so an outdated-config candidate learns its config change committed', () => {
  // Candidate 1 needs 3's vote (as when it still runs the joint config
  // ((1), (1, 3))); 3, removed and with a longer log, refuses it but tells it
  // that index 3 is committed.
  const store = storeWith([1, 3], [1, 1, 1], { term: 1, commit: 1 });
  const n = lone(1, store);
  drainReady(n);
  n.node.campaign();
  drainReady(n);
  n.node.step(msg({ type: T.MsgVoteResp, from: 3, to: 1, term: 2, reject: true, commit: 3, logTerm: 2 }));
  assert.equal(n.node.status().commit, 1, 'a hint for an entry we do not hold (other term) is ignored');
  n.node.step(msg({ type: T.MsgVoteResp, from: 3, to: 1, term: 2, reject: true, commit: 3, logTerm: 1 }));
  assert.equal(n.node.status().commit, 3);
  const v = lone(3, storeWith([1, 3], [1, 1, 1, 1], { term: 1, commit: 4 }));
  drainReady(v);
  v.node.step(msg({ type: T.MsgVote, from: 1, to: 3, term: 2, index: 3, logTerm: 1 }));
  assert.deepEqual(drainReady(v).map(brief), [{ type: T.MsgVoteResp, from: 3, to: 1, term: 2, reject: true, commit: 4, logTerm: 1 }]);
});

test('membership (issue #5): a joining member gets the bootstrap config as an index-0 snapshot in its Ready (to persist)', () => {
  const net = cluster([1, 2, 3], [4]);
  const joiner = net.get(4);
  joiner.readies = [];
  net.node(1).proposeConfChange(simple(CT.AddNode, 4));
  net.settle();
  const first = joiner.readies.find((rd) => rd.snapshot !== undefined);
  assert.ok(first !== undefined, 'a Ready carried a snapshot');
  assert.deepEqual(first.snapshot!.metadata, { index: 0, term: 0, confState: cs([1, 2, 3]) });
  assert.equal(first.mustSync, true);
  assert.deepEqual(joiner.store.snapshot().metadata.confState, cs([1, 2, 3]), 'recorded in the LogStore');
  assert.deepEqual(joiner.store.initialState().confState, cs([1, 2, 3, 4]), 'then the applied change');
  assert.deepEqual(cfg(net, 4).voters, [1, 2, 3, 4]);
});

test('restart (issue #2, #5): a node rebuilt from its LogStore keeps term, vote, commit and config (joint too)', () => {
  const net = cluster([1, 2, 3], [4]);
  net.propose(1, 'a');
  net.node(1).proposeConfChange({ transition: TR.JointExplicit, changes: [{ type: CT.AddNode, nodeId: 4 }] });
  net.settle();
  const before = net.node(2).status();
  assert.deepEqual(before.config, { voters: [1, 2, 3, 4], votersOutgoing: [1, 2, 3], learners: [], learnersNext: [] });
  const mb = net.get(2);
  const restarted = net.add(2, mb.store); // a new RawNode on the same LogStore (applied defaults to the snapshot index 0)
  const after = restarted.node.status();
  assert.deepEqual([after.term, after.vote, after.commit, after.lastIndex], [before.term, before.vote, before.commit, before.lastIndex]);
  assert.deepEqual(after.config, before.config, 'the LogStore kept the config as of the last applied change');
  assert.equal(after.applied, 0);
});

test('membership (issue #5): a member restarted without its bootstrap config ignores conf changes instead of forming a cluster of itself', () => {
  // As if a joiner lost the index-0 snapshot: empty config, log with "add 4".
  const store = new LogStore();
  store.append([{ index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array() }]);
  store.setHardState({ term: 1, vote: 0, commit: 1 });
  const n = lone(4, store, { preVote: true, checkQuorum: true });
  const cs4 = n.node.applyConfChange(simple(CT.AddNode, 4));
  assert.deepEqual(cs4, cs([]));
  for (let i = 0; i < 50; i++) n.node.tick();
  assert.deepEqual([n.node.status().role, n.node.status().term], [StateRole.Follower, 1], 'never campaigns alone');
});
