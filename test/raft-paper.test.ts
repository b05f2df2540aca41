// Scenario tests for the Raft paper's §5 rules, each asserting exact states
// and messages, on lone RawNodes driven by hand or on the in-test network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType as T, StateRole } from '../src/raft/index.ts';
import { Network, brief, drainReady, enc, lone, logTerms, msg, storeWith } from './raft-network.ts';

const V3 = [1, 2, 3];
const V5 = [1, 2, 3, 4, 5];

test('§5.1 a higher term in any message makes every role adopt it and become follower', () => {
  // follower
  const f = lone(1, storeWith(V3, [1], { term: 1 }));
  f.node.step(msg({ type: T.MsgApp, from: 2, to: 1, term: 3, index: 1, logTerm: 1 }));
  assert.deepEqual([f.node.status().term, f.node.status().role, f.node.status().lead], [3, StateRole.Follower, 2]);
  // candidate
  const c = lone(1, storeWith(V3, [1], { term: 1 }));
  c.node.campaign();
  assert.equal(c.node.status().role, StateRole.Candidate);
  c.node.step(msg({ type: T.MsgHeartbeat, from: 3, to: 1, term: 5 }));
  assert.deepEqual([c.node.status().term, c.node.status().role, c.node.status().lead, c.node.status().vote], [5, StateRole.Follower, 3, 0]);
  // leader, through a vote request (no leader known for the new term)
  const l = lone(1, storeWith(V3, [1], { term: 1 }));
  l.node.campaign();
  l.node.step(msg({ type: T.MsgVoteResp, from: 2, to: 1, term: 2 }));
  assert.equal(l.node.status().role, StateRole.Leader);
  l.node.step(msg({ type: T.MsgVote, from: 3, to: 1, term: 4, index: 9, logTerm: 4 }));
  assert.deepEqual([l.node.status().term, l.node.status().role, l.node.status().lead, l.node.status().vote], [4, StateRole.Follower, 0, 3]);
  const hs = drainReady(l).filter((m) => m.type === T.MsgVoteResp).map(brief);
  assert.deepEqual(hs, [{ type: T.MsgVoteResp, from: 1, to: 3, term: 4 }]);
});

test('§5.1 stale-term requests are rejected: a stale leader is told the newer term; other stale messages are ignored', () => {
  const n = lone(1, storeWith(V3, [1, 2], { term: 3 }), { checkQuorum: true });
  drainReady(n);
  n.node.step(msg({ type: T.MsgApp, from: 2, to: 1, term: 2, index: 2, logTerm: 2, entries: [{ index: 3, term: 2, type: 0, data: enc('x') }] }));
  assert.deepEqual(drainReady(n).map(brief), [{ type: T.MsgAppResp, from: 1, to: 2, term: 3 }], 'answer carries our term');
  assert.equal(n.node.status().lastIndex, 2, 'stale entries not appended');
  n.node.step(msg({ type: T.MsgVote, from: 2, to: 1, term: 2, index: 5, logTerm: 2 }));
  n.node.step(msg({ type: T.MsgVoteResp, from: 2, to: 1, term: 2 }));
  assert.deepEqual(drainReady(n), [], 'stale vote traffic is ignored');
  assert.deepEqual([n.node.status().term, n.node.status().vote], [3, 0]);
  // Without check-quorum and pre-vote, a stale MsgApp is simply dropped.
  const q = lone(1, storeWith(V3, [1], { term: 3 }));
  drainReady(q);
  q.node.step(msg({ type: T.MsgApp, from: 2, to: 1, term: 2, index: 1, logTerm: 1 }));
  assert.deepEqual(drainReady(q), []);
});

test('§5.1 a stale leader that hears the newer term steps down', () => {
  const net = new Network(V3, { preVote: false, checkQuorum: false });
  net.campaign(1);
  net.isolate(1);
  net.campaign(2);
  assert.equal(net.node(2).status().role, StateRole.Leader);
  assert.equal(net.node(2).status().term, 2);
  net.heal();
  net.propose(1, 'stale'); // appended at term 1; its MsgApps are ignored as stale
  assert.deepEqual([net.node(1).status().role, net.node(1).status().term], [StateRole.Leader, 1]);
  net.tick(1); // the new leader's heartbeat carries term 2
  assert.deepEqual([net.node(1).status().role, net.node(1).status().term, net.node(1).status().lead], [StateRole.Follower, 2, 2]);
  net.propose(2, 'fresh');
  for (const id of V3) assert.deepEqual(net.appliedData(id), ['fresh'], `node ${id}: the stale entry was discarded`);
});

test('§5.2 an election is won in one round with votes from a majority, exact messages', () => {
  const n = lone(1, storeWith(V3, []));
  drainReady(n);
  n.node.campaign();
  const rd = n.node.ready();
  assert.deepEqual(rd.hardState, { term: 1, vote: 1, commit: 0 }, 'vote for self is persisted');
  assert.equal(rd.mustSync, true);
  assert.deepEqual(rd.messages.map(brief), [
    { type: T.MsgVote, from: 1, to: 2, term: 1 },
    { type: T.MsgVote, from: 1, to: 3, term: 1 },
  ]);
  n.node.advance();
  n.node.step(msg({ type: T.MsgVoteResp, from: 3, to: 1, term: 1 }));
  assert.equal(n.node.status().role, StateRole.Leader);
  const out = drainReady(n).map(brief);
  assert.deepEqual(out, [
    { type: T.MsgApp, from: 1, to: 2, term: 1, entries: [[1, 1]] },
    { type: T.MsgApp, from: 1, to: 3, term: 1, entries: [[1, 1]] },
  ], 'the new leader replicates its no-op');
  assert.equal(n.store.term(1), 1);
  assert.equal(n.store.entries(1, 2)[0]!.data.length, 0, 'no-op is empty');
});

test('§5.2 election outcome depends on reachable majorities (3 and 5 nodes)', () => {
  const cases: [number[], number[], boolean][] = [
    [V3, [], true],
    [V3, [3], true],
    [V3, [2, 3], false],
    [V5, [4, 5], true],
    [V5, [3, 4, 5], false],
  ];
  for (const [ids, down, wins] of cases) {
    const net = new Network(ids, { preVote: false });
    for (const d of down) net.isolate(d);
    net.campaign(1);
    const st = net.node(1).status();
    assert.equal(st.role, wins ? StateRole.Leader : StateRole.Candidate, `${ids.length} nodes, down ${down}`);
    assert.equal(st.term, 1);
  }
});

test('§5.2 one vote per term: a second candidate of the same term is refused, the same one re-granted', () => {
  const n = lone(1, storeWith(V3, []));
  n.node.step(msg({ type: T.MsgVote, from: 2, to: 1, term: 1 }));
  n.node.step(msg({ type: T.MsgVote, from: 3, to: 1, term: 1 }));
  n.node.step(msg({ type: T.MsgVote, from: 2, to: 1, term: 1 }));
  const rd = n.node.ready();
  assert.deepEqual(rd.hardState, { term: 1, vote: 2, commit: 0 });
  assert.deepEqual(rd.messages.map(brief), [
    { type: T.MsgVoteResp, from: 1, to: 2, term: 1 },
    { type: T.MsgVoteResp, from: 1, to: 3, term: 1, reject: true },
    { type: T.MsgVoteResp, from: 1, to: 2, term: 1 },
  ]);
  n.node.advance();
  // The vote survives a restart.
  const again = lone(1, n.store);
  again.node.step(msg({ type: T.MsgVote, from: 3, to: 1, term: 1 }));
  assert.deepEqual(drainReady(again).map(brief), [{ type: T.MsgVoteResp, from: 1, to: 3, term: 1, reject: true }]);
});

test('§5.2 split votes are resolved by randomized election timeouts', () => {
  const net = new Network([1, 2, 3, 4], { preVote: false });
  // 1 and 2 campaign at once; 3 hears 1 first, 4 hears 2 first: 2 votes each.
  net.filter = (m) => !((m.from === 1 && m.to === 4) || (m.from === 2 && m.to === 3) || (m.from === 1 && m.to === 2) || (m.from === 2 && m.to === 1));
  net.node(1).campaign();
  net.node(2).campaign();
  net.settle();
  assert.deepEqual([1, 2, 3, 4].map((id) => net.node(id).status().role), ['candidate', 'candidate', 'follower', 'follower']);
  assert.deepEqual([1, 2, 3, 4].map((id) => net.node(id).status().vote), [1, 2, 1, 2]);
  net.filter = undefined;
  let ticks = 0;
  while (![1, 2, 3, 4].some((id) => net.node(id).status().role === StateRole.Leader)) {
    net.tick(1);
    assert.ok(++ticks <= 200, 'a leader emerges');
  }
  const leaders = [1, 2, 3, 4].filter((id) => net.node(id).status().role === StateRole.Leader);
  assert.equal(leaders.length, 1);
  assert.ok(net.node(leaders[0]!).status().term >= 2);
  // The timeouts are drawn from [electionTick, 2*electionTick).
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const r = net.node(1).raft;
    r.becomeFollower(r.term, 0);
    assert.ok(r.randomizedElectionTimeout >= 10 && r.randomizedElectionTimeout < 20);
    seen.add(r.randomizedElectionTimeout);
  }
  assert.equal(seen.size, 10, 'every value in the range occurs');
});

test('§5.4.1 votes go only to candidates whose log is at least as up to date', () => {
  // Voter log: terms [1, 2] (last index 2, last term 2).
  const cases: [number, number, boolean][] = [
    [5, 1, false], // lower last term, longer log
    [1, 2, false], // same last term, shorter log
    [2, 2, true], // identical
    [3, 2, true], // same term, longer
    [1, 3, true], // higher last term, shorter
  ];
  for (const [index, logTerm, granted] of cases) {
    const n = lone(1, storeWith(V3, [1, 2], { term: 2 }));
    drainReady(n);
    n.node.step(msg({ type: T.MsgVote, from: 2, to: 1, term: 3, index, logTerm }));
    assert.deepEqual(drainReady(n).map(brief), [
      { type: T.MsgVoteResp, from: 1, to: 2, term: 3, ...(granted ? {} : { reject: true }) },
    ], `candidate (index ${index}, term ${logTerm})`);
  }
  // In a network the stale candidate loses and the others stay put.
  const stores = new Map([[1, storeWith(V3, [1], { term: 1 })], [2, storeWith(V3, [1, 1], { term: 1 })], [3, storeWith(V3, [1, 1], { term: 1 })]]);
  const net = new Network(V3, { preVote: false }, 1, [], stores);
  net.campaign(1);
  assert.deepEqual([net.node(1).status().role, net.node(1).status().term], [StateRole.Follower, 2]);
  net.campaign(2);
  assert.equal(net.node(2).status().role, StateRole.Leader);
});

test('§5.3 AppendEntries consistency check, with fast-backtracking reject hints', () => {
  const n = lone(1, storeWith(V3, [1, 2], { term: 2 }));
  drainReady(n);
  n.node.step(msg({ type: T.MsgApp, from: 2, to: 1, term: 3, index: 2, logTerm: 3, entries: [{ index: 3, term: 3, type: 0, data: enc('a') }] }));
  n.node.step(msg({ type: T.MsgApp, from: 2, to: 1, term: 3, index: 5, logTerm: 3 }));
  n.node.step(msg({ type: T.MsgApp, from: 2, to: 1, term: 3, index: 2, logTerm: 2, commit: 3, entries: [{ index: 3, term: 3, type: 0, data: enc('a') }] }));
  const rd = n.node.ready();
  assert.deepEqual(rd.messages.map(brief), [
    { type: T.MsgAppResp, from: 1, to: 2, term: 3, index: 2, reject: true, rejectHint: 2, logTerm: 2 },
    { type: T.MsgAppResp, from: 1, to: 2, term: 3, index: 5, reject: true, rejectHint: 2, logTerm: 2 },
    { type: T.MsgAppResp, from: 1, to: 2, term: 3, index: 3 },
  ]);
  assert.deepEqual(rd.entries.map((e) => [e.index, e.term]), [[3, 3]]);
  assert.deepEqual(rd.hardState, { term: 3, vote: 0, commit: 3 });
  assert.deepEqual(rd.committedEntries.map((e) => e.index), [1, 2, 3]);
  n.node.advance();
});

test('§5.3 a conflicting suffix is overwritten by the leader\'s entries', () => {
  const n = lone(1, storeWith(V3, [1, 1, 2, 2], { term: 2 }));
  drainReady(n);
  n.node.step(msg({ type: T.MsgApp, from: 2, to: 1, term: 3, index: 2, logTerm: 1, entries: [{ index: 3, term: 3, type: 0, data: enc('x') }, { index: 4, term: 3, type: 0, data: enc('y') }] }));
  const rd = n.node.ready();
  assert.deepEqual(rd.entries.map((e) => [e.index, e.term]), [[3, 3], [4, 3]]);
  assert.deepEqual(rd.messages.map(brief), [{ type: T.MsgAppResp, from: 1, to: 2, term: 3, index: 4 }]);
  n.node.advance();
  assert.deepEqual(logTerms(n.node, n.store), [1, 1, 3, 3]);
  assert.deepEqual([n.store.term(3), n.store.term(4), n.store.lastIndex()], [3, 3, 4], 'the LogStore holds the new suffix');
  // Extra entries after the conflict are dropped too; matching ones are kept.
  const m = lone(1, storeWith(V3, [1, 1, 1, 1, 1], { term: 1 }));
  drainReady(m);
  m.node.step(msg({ type: T.MsgApp, from: 2, to: 1, term: 3, index: 1, logTerm: 1, entries: [{ index: 2, term: 1, type: 0, data: enc('') }, { index: 3, term: 3, type: 0, data: enc('z') }] }));
  drainReady(m);
  assert.deepEqual(logTerms(m.node, m.store), [1, 1, 3]);
});

test('§5.3 the leader never overwrites its own log; followers converge to it via backtracking', () => {
  const stores = new Map([
    [1, storeWith(V3, [1, 1, 2], { term: 2 })],
    [2, storeWith(V3, [1, 1, 1, 1, 1, 1], { term: 1 })],
    [3, storeWith(V3, [1], { term: 1 })],
  ]);
  const net = new Network(V3, { preVote: false }, 1, [], stores);
  const before = logTerms(net.node(1), net.get(1).store);
  net.campaign(1);
  assert.equal(net.node(1).status().role, StateRole.Leader);
  net.propose(1, 'p');
  const after = logTerms(net.node(1), net.get(1).store);
  assert.deepEqual(after.slice(0, before.length), before, 'leader log only grew');
  assert.deepEqual(after, [1, 1, 2, 3, 3]);
  for (const id of [2, 3]) assert.deepEqual(logTerms(net.node(id), net.get(id).store), after, `follower ${id} converged`);
  const rejects = net.trace.filter((m) => m.type === T.MsgAppResp && m.reject && m.from === 2);
  assert.equal(rejects.length, 1, 'one rejection suffices: the hint skips the whole conflicting term');
  assert.deepEqual(brief(rejects[0]!), { type: T.MsgAppResp, from: 2, to: 1, term: 3, index: 3, reject: true, rejectHint: 3, logTerm: 1 });
});

test('§5.4.2 Figure 8: an earlier-term entry on a majority is committed only through a current-term entry', () => {
  // Leader 1 with log [1, 2] wins term 4 in a 5-node cluster and appends its no-op at 3.
  const n = lone(1, storeWith(V5, [1, 2], { term: 3 }));
  drainReady(n);
  n.node.campaign();
  n.node.step(msg({ type: T.MsgVoteResp, from: 2, to: 1, term: 4 }));
  n.node.step(msg({ type: T.MsgVoteResp, from: 3, to: 1, term: 4 }));
  assert.equal(n.node.status().role, StateRole.Leader);
  drainReady(n);
  // 2 and 3 hold index 2 (term 2): a majority with the leader, but of an earlier term.
  n.node.step(msg({ type: T.MsgAppResp, from: 2, to: 1, term: 4, index: 2 }));
  n.node.step(msg({ type: T.MsgAppResp, from: 3, to: 1, term: 4, index: 2 }));
  assert.equal(n.node.status().commit, 0, 'index 2 (term 2) is not committed by counting replicas');
  drainReady(n);
  n.node.step(msg({ type: T.MsgAppResp, from: 2, to: 1, term: 4, index: 3 }));
  assert.equal(n.node.status().commit, 0, 'no-op on 2 of 5 only');
  n.node.step(msg({ type: T.MsgAppResp, from: 3, to: 1, term: 4, index: 3 }));
  assert.equal(n.node.status().commit, 3, 'the current-term entry commits everything before it');
  const out = drainReady(n).filter((m) => m.type === T.MsgApp).map(brief);
  // New commit index broadcast to the replicating followers; 4 and 5 are still
  // probing with one MsgApp outstanding and hear it once they answer.
  assert.deepEqual(out.map((m) => [m.to, m.commit]), [[2, 3], [3, 3]]);
  assert.deepEqual(n.applied.map((e) => [e.index, e.term]), [[1, 1], [2, 2], [3, 4]]);
});

test('§5.4.2 Figure 8: why — an uncommitted earlier-term entry on a majority can be overwritten', () => {
  // (c) S1..S3 hold [1, 2]; S4 [1]; S5 [1, 3]. All at term 4 having voted for S1.
  const stores = new Map([
    [1, storeWith(V5, [1, 2], { term: 4, vote: 1 })],
    [2, storeWith(V5, [1, 2], { term: 4, vote: 1 })],
    [3, storeWith(V5, [1, 2], { term: 4, vote: 1 })],
    [4, storeWith(V5, [1], { term: 4, vote: 1 })],
    [5, storeWith(V5, [1, 3], { term: 4, vote: 1 })],
  ]);
  const net = new Network(V5, { preVote: false }, 1, [], stores);
  // (d) S1 is down; S5 wins term 5 (its last term 3 beats 2) and overwrites index 2.
  net.isolate(1);
  net.campaign(5);
  assert.equal(net.node(5).status().role, StateRole.Leader);
  for (const id of [2, 3, 4, 5]) assert.deepEqual(logTerms(net.node(id), net.get(id).store), [1, 3, 5], `S${id}`);
  // (e) instead: S1 leads term 5 and replicates a term-5 entry to a majority; then S5 can no longer win.
  const stores2 = new Map([
    [1, storeWith(V5, [1, 2], { term: 4, vote: 1 })],
    [2, storeWith(V5, [1, 2], { term: 4, vote: 1 })],
    [3, storeWith(V5, [1, 2], { term: 4, vote: 1 })],
    [4, storeWith(V5, [1], { term: 4, vote: 1 })],
    [5, storeWith(V5, [1, 3], { term: 4, vote: 1 })],
  ]);
  const net2 = new Network(V5, { preVote: false }, 1, [], stores2);
  net2.partition([1, 2, 3], [4, 5]);
  net2.campaign(1);
  assert.equal(net2.node(1).status().commit, 3);
  net2.isolate(1);
  net2.heal();
  net2.isolate(1);
  net2.campaign(5);
  assert.notEqual(net2.node(5).status().role, StateRole.Leader);
  for (const id of [2, 3]) assert.deepEqual(logTerms(net2.node(id), net2.get(id).store), [1, 2, 5], `S${id} keeps the committed entries`);
});
